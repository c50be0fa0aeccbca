/*
 * outbox.c - GET /v1/outbox: a tenant's messages to people and systems,
 * newest first, with how their delivery goes (daemon/outbox.c sends
 * them and owns their SQL).  A secret link is never shown: bodies read
 * "{link}" where it goes.
 */
#include "../daemon/outbox.h"
#include "api.h"
#include "util.h"

int
api_outbox_list(struct http_req *r)
{
	const char *p[2] = { http_query(r, "state"), http_query(r,
	    "channel") };

	return api_page_exec_desc(r, OUTBOX_LIST_STMT, 2, p);
}
