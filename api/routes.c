/*
 * routes.c - the route table: method, path pattern, roles, flags, handler.
 *
 * The OpenAPI document (api/openapi.json) describes exactly these routes;
 * tests/unit/test_openapi.c fails when the two disagree.
 */
#include "api.h"

#define P	ROLE_PLATFORM
#define A	ROLE_ADMIN
#define I	ROLE_INSTRUCTOR
#define L	ROLE_LEARNER
#define J	ROUTE_JSON

const struct route api_routes[] = {
	/* operations */
	{ HTTP_GET,    "/healthz",		ROLE_ANON, ROUTE_NO_TX, api_healthz },
	{ HTTP_GET,    "/readyz",		ROLE_ANON, ROUTE_NO_TX, api_readyz },
	{ HTTP_GET,    "/metrics",		ROLE_ANON, ROUTE_NO_TX, api_metrics },
	{ HTTP_GET,    "/v1/openapi.json",	ROLE_ANON, ROUTE_NO_TX, api_openapi },

	/* identity */
	{ HTTP_POST,   "/v1/tenants",		P, J, api_tenant_create },
	{ HTTP_GET,    "/v1/tenants",		P, 0, api_tenant_list },
	{ HTTP_GET,    "/v1/tenants/{id}",	P, 0, api_tenant_get },
	{ HTTP_PATCH,  "/v1/tenants/{id}",	P, J, api_tenant_update },
	{ HTTP_POST,   "/v1/users",		A, J, api_user_create },
	{ HTTP_GET,    "/v1/users",		A, 0, api_user_list },
	{ HTTP_GET,    "/v1/users/{id}",	A, 0, api_user_get },
	{ HTTP_PATCH,  "/v1/users/{id}",	A, J, api_user_update },
	{ HTTP_DELETE, "/v1/users/{id}",	A, 0, api_user_delete },
	{ HTTP_GET,    "/v1/me",		P | A | I | L, 0, api_me },
	{ HTTP_POST,   "/v1/auth/login",	ROLE_ANON, J, api_login },
	{ HTTP_POST,   "/v1/auth/logout",	A | I | L, 0, api_logout },
	{ HTTP_POST,   "/v1/api-keys",		A, J, api_apikey_create },
	{ HTTP_GET,    "/v1/api-keys",		A, 0, api_apikey_list },
	{ HTTP_DELETE, "/v1/api-keys/{id}",	A, 0, api_apikey_delete },
	{ HTTP_GET,    "/v1/audit-events",	A, 0, api_audit_list },
};

const size_t api_nroutes = sizeof(api_routes) / sizeof(api_routes[0]);
