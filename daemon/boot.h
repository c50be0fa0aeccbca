/*
 * boot.h - startup steps shared by cohortd and cohortctl: find or start
 * the database, bring its schema up to date.
 */
#ifndef COHORTD_BOOT_H
#define COHORTD_BOOT_H

#include <stddef.h>

struct pgembed;

/*
 * Resolve the database from cfg: the configured URL, or the embedded
 * cluster (started, or attached to when shared and another process owns
 * it).  *conninfo points into cfg or *pg.  Errors name the setting.
 */
int	 boot_database(int shared, struct pgembed **pg, const char **conninfo,
	    char *err, size_t errlen);

/*
 * Apply pending migrations (from cfg.migrations_dir or built in) over a
 * connection of its own.  *latest receives the highest known version.
 */
int	 boot_migrate(const char *conninfo, int *applied, int *latest,
	    char *err, size_t errlen);

#endif
