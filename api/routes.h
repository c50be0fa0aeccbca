/*
 * routes.h - what the daemon's main wires into the HTTP layer: the route
 * table, the audit hook, the statements of every API file, and what
 * /readyz reports.
 */
#ifndef COHORTD_API_ROUTES_H
#define COHORTD_API_ROUTES_H

#include <jansson.h>

#include "../daemon/http.h"

extern const struct route api_routes[];
extern const size_t api_nroutes;

/* What /readyz compares the database's schema version with. */
void	api_system_set_expected_schema(int version);
/* What /readyz reports of the sandbox (a summary object; taken). */
void	api_system_set_sandbox(json_t *caps);
/* Whether this process supervises graders: /readyz then needs a sandbox. */
void	api_system_set_needs_graders(int yes);

/* The HTTP layer's audit hook (audit.c). */
int	api_audit_record(struct http_req *r);

struct cfg;
/* Register the statements of every API file with db (before the pool
 * opens) and hand each file its settings from conf, which it reads no
 * more after this. */
void	api_init(const struct cfg *conf);

#endif
