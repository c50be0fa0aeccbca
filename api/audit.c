/*
 * audit.c - the audit log: every successful mutating request leaves one
 * event (actor, action, object, request id, time), written by the HTTP
 * layer's hook in the request's own transaction; GET /v1/audit-events
 * reads them.
 */
#include <stdio.h>
#include <string.h>

#include "../daemon/db.h"
#include "../common/err.h"
#include "api.h"
#include "routes.h"
#include "util.h"

static const struct db_stmt audit_stmts[] = {
	{ "audit_insert", "INSERT INTO audit_events (tenant_id, actor_type, "
	  "actor_id, action, object_type, object_id, request_id) VALUES "
	  "(current_tenant(), $1, $2, $3, $4, $5, $6)" },
	{ "audit_list", "SELECT id, rfc3339(at) AS at, actor_type, actor_id, "
	  "action, object_type, object_id, request_id, at::text AS _k_ts, "
	  "id AS _k_id FROM audit_events WHERE tenant_id = current_tenant() "
	  "AND ($4::text IS NULL OR object_type = $4) "
	  "AND ($5::text IS NULL OR object_id = $5) "
	  "AND (at, id) > ($1::timestamptz, $2::uuid) "
	  "ORDER BY at, id LIMIT $3" },
};

void
api_audit_init(void)
{
	db_register(audit_stmts, sizeof(audit_stmts) / sizeof(*audit_stmts));
}

static const char *
method_name(int m)
{
	switch (m) {
	case HTTP_POST:		return "POST";
	case HTTP_PUT:		return "PUT";
	case HTTP_PATCH:	return "PATCH";
	case HTTP_DELETE:	return "DELETE";
	}
	return "GET";
}

int
api_audit_record(struct http_req *r)
{
	char action[160];
	const char *actor_type;
	PGresult *res;
	int rc;

	/* Platform actions are recorded in the tenant they touched. */
	if (r->audit_tenant[0] != '\0') {
		if ((rc = db_set_tenant(r->db, r->audit_tenant)) != 0)
			return rc;
	} else if (r->who.tenant_id[0] == '\0')
		return 0;	/* platform-wide: nobody's tenant log */
	snprintf(action, sizeof(action), "%s %s", method_name(r->method),
	    r->route->pattern);
	actor_type = r->who.role == ROLE_PLATFORM ? "platform_admin" :
	    r->who.is_key ? "api_key" : "user";
	{
		const char *p[6] = { actor_type, r->who.is_key ?
		    r->who.token_id : (r->who.user_id[0] ? r->who.user_id :
		    NULL), action, r->audit_type, r->audit_id[0] ?
		    r->audit_id : NULL, r->request_id };

		if ((res = db_exec(r->db, "audit_insert", 6, p)) == NULL)
			return CD_ERR_DATABASE;
	}
	PQclear(res);
	return 0;
}

int
api_audit_list(struct http_req *r)
{
	const char *p[2] = { http_query(r, "object_type"),
	    http_query(r, "object_id") };

	return api_page_exec(r, "audit_list", 2, p);
}
