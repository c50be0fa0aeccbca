/*
 * api.h - cohortd's REST API: the route table and its handlers.
 *
 * Handlers are grouped by resource, one file each (system.c, ...), and
 * registered in routes.c.  They parse and validate, call the module that
 * owns the resource, and render; the HTTP layer (daemon/http.h) does the
 * rest.
 */
#ifndef COHORTD_API_H
#define COHORTD_API_H

#include "../daemon/http.h"

extern const struct route api_routes[];
extern const size_t api_nroutes;

/* What /readyz compares the database's schema version with. */
void	api_system_set_expected_schema(int version);

/* system.c */
int	api_healthz(struct http_req *r);
int	api_readyz(struct http_req *r);
int	api_metrics(struct http_req *r);
int	api_openapi(struct http_req *r);

/* Register the statements of every API module with db. */
void	api_init(void);

#endif
