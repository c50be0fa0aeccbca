/*
 * routes.c - the route table: method, path pattern, roles, flags, handler.
 *
 * The OpenAPI document (api/openapi.json) describes exactly these routes;
 * tests/unit/test_openapi.c fails when the two disagree.
 */
#include "api.h"

#define ANY_AUTH	(ROLE_PLATFORM | ROLE_TENANT)

const struct route api_routes[] = {
	{ HTTP_GET, "/healthz", ROLE_ANON, ROUTE_NO_TX, api_healthz },
	{ HTTP_GET, "/readyz", ROLE_ANON, ROUTE_NO_TX, api_readyz },
	{ HTTP_GET, "/metrics", ROLE_ANON, ROUTE_NO_TX, api_metrics },
	{ HTTP_GET, "/v1/openapi.json", ROLE_ANON, ROUTE_NO_TX, api_openapi },
};

const size_t api_nroutes = sizeof(api_routes) / sizeof(api_routes[0]);
