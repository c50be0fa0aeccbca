/*
 * boot.c - database startup shared by cohortd and cohortctl.
 */
#include <sys/stat.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <libpq-fe.h>

#include "boot.h"
#include "cfg.h"
#include "../common/err.h"
#include "../common/log.h"
#include "migrate.h"
#include "pgembed.h"

int
boot_database(int shared, struct pgembed **pg, const char **conninfo,
    char *err, size_t errlen)
{
	int rc;

	*pg = NULL;
	*conninfo = NULL;
	if (cfg.database_url[0] != '\0') {
		if (mkdir(cfg.state_dir, 0711) == -1 && errno != EEXIST) {
			snprintf(err, errlen, "COHORTD_STATE_DIR: cannot create "
			    "%s: %s", cfg.state_dir, strerror(errno));
			return CD_ERR_CONFIG;
		}
		*conninfo = cfg.database_url;
		return 0;
	}
	if ((rc = pgembed_open(cfg.state_dir, cfg.pg_bindir, cfg.pg_user,
	    shared, pg, err, errlen)) != 0)
		return rc;
	*conninfo = pgembed_conninfo(*pg);
	return 0;
}

/* Server notices ("already exists, skipping") belong in the debug log. */
static void
boot_notice(void *arg, const char *msg)
{
	log_debug("postgres: %.*s", (int)strcspn(msg, "\n"), msg);
}

int
boot_migrate(const char *conninfo, int *applied, int *latest, char *err,
    size_t errlen)
{
	struct mig_set set;
	PGconn *c = NULL;
	int rc;

	*applied = 0;
	*latest = 0;
	if ((rc = mig_load(cfg.migrations_dir, &set, err, errlen)) != 0)
		return rc;
	if (set.n > 0)
		*latest = set.v[set.n - 1].version;
	c = PQconnectdb(conninfo);
	if (PQstatus(c) != CONNECTION_OK) {
		snprintf(err, errlen, "%s: cannot connect: %s",
		    cfg.database_url[0] ? "COHORTD_DATABASE_URL" :
		    "embedded database", PQerrorMessage(c));
		err[strcspn(err, "\n")] = '\0';
		rc = CD_ERR_UNAVAILABLE;
		goto out;
	}
	PQsetNoticeProcessor(c, boot_notice, NULL);
	rc = mig_apply(c, &set, applied, err, errlen);
 out:
	PQfinish(c);
	mig_set_free(&set);
	return rc;
}
