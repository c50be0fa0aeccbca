/*
 * migrate.h - schema migrations: migrations/NNNN_name.sql applied in
 * order, each in its own transaction, recorded with a SHA-256 checksum.
 */
#ifndef COHORTD_MIGRATE_H
#define COHORTD_MIGRATE_H

#include <libpq-fe.h>

struct mig {
	int	 version;
	char	*name;			/* file name */
	char	*sql;
	char	 checksum[65];		/* hex SHA-256 of the file */
};

struct mig_set {
	struct mig	*v;
	size_t		 n;
};

/*
 * Load the migrations of dir, or those built in when dir is NULL or "".
 * Names must be NNNN_name.sql with strictly increasing numbers.  On
 * success the set is owned by the caller (mig_set_free).
 */
int	 mig_load(const char *dir, struct mig_set *out, char *err,
	    size_t errlen);
void	 mig_set_free(struct mig_set *set);

/*
 * Apply what the database lacks, under an advisory lock so that daemons
 * starting together do not race.  An applied migration whose checksum
 * differs from ours is refused (CD_ERR_CONFLICT), and so is a database
 * that knows migrations we do not.  *applied counts the ones run now.
 */
int	 mig_apply(PGconn *pg, const struct mig_set *set, int *applied,
	    char *err, size_t errlen);

/* Highest version of the built-in set (what /readyz expects). */
int	 mig_builtin_latest(void);

#endif
