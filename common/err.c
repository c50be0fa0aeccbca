/* err.c - text for the shared error codes of err.h. */
#include "err.h"

const char *
cd_strerror(int err)
{
	switch (err) {
	case CD_OK:		return "success";
	case CD_ERR_NOMEM:	return "out of memory";
	case CD_ERR_SYSTEM:	return "system call failed";
	case CD_ERR_INVALID:	return "invalid input";
	case CD_ERR_NOT_FOUND:	return "not found";
	case CD_ERR_CONFLICT:	return "conflict";
	case CD_ERR_DATABASE:	return "database error";
	case CD_ERR_UNAVAILABLE: return "temporarily unavailable";
	case CD_ERR_TIMEOUT:	return "timed out";
	case CD_ERR_LIMIT:	return "limit exceeded";
	case CD_ERR_DENIED:	return "permission denied";
	case CD_ERR_CONFIG:	return "bad configuration";
	case CD_ERR_INTERNAL:	return "internal error";
	}
	return "unknown error";
}
