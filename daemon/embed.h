/*
 * embed.h - files compiled into the binary by build-aux/embed: the
 * migrations and the OpenAPI document travel with the code they describe.
 */
#ifndef COHORTD_EMBED_H
#define COHORTD_EMBED_H

#include <stddef.h>

struct embedded_file {
	const char	*name;		/* path below its folder, e.g.
					   "0001_foundation.sql" */
	const char	*data;		/* NUL-terminated */
	size_t		 len;
};

/* Arrays end with an entry whose name is NULL. */
extern const struct embedded_file embedded_migrations[];
extern const struct embedded_file embedded_openapi[];
extern const struct embedded_file embedded_demo[];
extern const struct embedded_file embedded_catalog[];	/* exercises/<slug>/<file> */	/* content/concurrency-for-leaders */

#endif
