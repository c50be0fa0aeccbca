/*
 * request.c - the caller and the audit record (request.h).
 */
#include <stdio.h>

#include "../daemon/db.h"
#include "../common/err.h"
#include "util.h"

void
api_audited(struct http_req *r, const char *type, const char *id)
{
	r->audit_type = type;
	snprintf(r->audit_id, sizeof(r->audit_id), "%s", id ? id : "");
}

const char *
api_role(const struct http_req *r)
{
	switch (r->who.role) {
	case ROLE_PLATFORM:	return "platform";
	case ROLE_ADMIN:	return "admin";
	case ROLE_INSTRUCTOR:	return "instructor";
	case ROLE_LEARNER:	return "learner";
	}
	return "anonymous";
}

const char *
api_user(const struct http_req *r)
{
	return r->who.user_id[0] ? r->who.user_id : NULL;
}
