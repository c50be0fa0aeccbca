/*
 * migrate.c - apply migrations/NNNN_name.sql in order.
 *
 * Each migration runs in its own transaction together with the row that
 * records it, so a crash leaves either both or neither.  The migration
 * text is trusted (it ships with the binary); it is the only SQL cohortd
 * runs that is not a prepared statement.
 */
#include <sys/stat.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "embed.h"
#include "../common/err.h"
#include "../common/log.h"
#include "migrate.h"

/* "cohortd.migrate" folded into a bigint: one lock for every daemon. */
#define MIG_LOCK_KEY	"7235712263391113"

static void
mig_checksum(const char *sql, size_t len, char out[65])
{
	unsigned char h[crypto_hash_sha256_BYTES];

	crypto_hash_sha256(h, (const unsigned char *)sql, len);
	sodium_bin2hex(out, 65, h, sizeof(h));
}

static int
mig_version_of(const char *name)
{
	char *end;
	long v;

	if (strlen(name) < 10 || strcmp(name + strlen(name) - 4, ".sql") != 0)
		return -1;
	v = strtol(name, &end, 10);
	if (end != name + 4 || *end != '_' || v <= 0)
		return -1;
	return (int)v;
}

static int
mig_cmp(const void *a, const void *b)
{
	return ((const struct mig *)a)->version - ((const struct mig *)b)->version;
}

static int
mig_add(struct mig_set *set, const char *name, const char *sql, size_t len,
    char *err, size_t errlen)
{
	struct mig *m, *nv;
	int version = mig_version_of(name);

	if (version < 0) {
		snprintf(err, errlen, "%s: migration names are NNNN_name.sql",
		    name);
		return CD_ERR_INVALID;
	}
	if ((nv = realloc(set->v, (set->n + 1) * sizeof(*nv))) == NULL)
		return CD_ERR_NOMEM;
	set->v = nv;
	m = &set->v[set->n];
	memset(m, 0, sizeof(*m));
	m->version = version;
	m->name = strdup(name);
	m->sql = strndup(sql, len);
	set->n++;
	if (m->name == NULL || m->sql == NULL)
		return CD_ERR_NOMEM;
	mig_checksum(sql, len, m->checksum);
	return 0;
}

static int
mig_read_file(const char *path, char **out, size_t *len)
{
	FILE *f;
	struct stat st;
	char *buf;

	*out = NULL;
	if ((f = fopen(path, "rb")) == NULL)
		return CD_ERR_SYSTEM;
	if (fstat(fileno(f), &st) == -1 || (buf = malloc((size_t)st.st_size
	    + 1)) == NULL) {
		fclose(f);
		return CD_ERR_SYSTEM;
	}
	*len = fread(buf, 1, (size_t)st.st_size, f);
	buf[*len] = '\0';
	fclose(f);
	*out = buf;
	return 0;
}

int
mig_load(const char *dir, struct mig_set *out, char *err, size_t errlen)
{
	struct mig_set set = { NULL, 0 };
	DIR *d = NULL;
	struct dirent *de;
	int rc = CD_ERR_INTERNAL;

	memset(out, 0, sizeof(*out));
	if (dir == NULL || dir[0] == '\0') {
		for (const struct embedded_file *f = embedded_migrations;
		    f->name != NULL; f++)
			if ((rc = mig_add(&set, f->name, f->data, f->len, err,
			    errlen)) != 0)
				goto out;
	} else {
		if ((d = opendir(dir)) == NULL) {
			snprintf(err, errlen, "COHORTD_MIGRATIONS_DIR: %s: %s",
			    dir, strerror(errno));
			rc = CD_ERR_CONFIG;
			goto out;
		}
		while ((de = readdir(d)) != NULL) {
			char path[4096], *sql;
			size_t len;

			if (de->d_name[0] == '.' || strlen(de->d_name) < 4 ||
			    strcmp(de->d_name + strlen(de->d_name) - 4, ".sql"))
				continue;
			snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
			if (mig_read_file(path, &sql, &len) != 0) {
				snprintf(err, errlen, "%s: %s", path,
				    strerror(errno));
				rc = CD_ERR_SYSTEM;
				goto out;
			}
			rc = mig_add(&set, de->d_name, sql, len, err, errlen);
			free(sql);
			if (rc != 0)
				goto out;
		}
	}
	qsort(set.v, set.n, sizeof(*set.v), mig_cmp);
	for (size_t i = 1; i < set.n; i++)
		if (set.v[i].version == set.v[i - 1].version) {
			snprintf(err, errlen, "%s and %s share version %d",
			    set.v[i - 1].name, set.v[i].name, set.v[i].version);
			rc = CD_ERR_INVALID;
			goto out;
		}
	*out = set;
	set.v = NULL;
	set.n = 0;
	rc = 0;
 out:
	if (d != NULL)
		closedir(d);
	mig_set_free(&set);
	return rc;
}

void
mig_set_free(struct mig_set *set)
{
	if (set == NULL)
		return;
	for (size_t i = 0; i < set->n; i++) {
		free(set->v[i].name);
		free(set->v[i].sql);
	}
	free(set->v);
	set->v = NULL;
	set->n = 0;
}

int
mig_builtin_latest(void)
{
	int latest = 0;

	for (const struct embedded_file *f = embedded_migrations;
	    f->name != NULL; f++) {
		int v = mig_version_of(f->name);

		if (v > latest)
			latest = v;
	}
	return latest;
}

static int
mig_ok(PGresult *r, PGconn *pg, const char *what, char *err, size_t errlen)
{
	ExecStatusType st = PQresultStatus(r);

	if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK)
		return 0;
	snprintf(err, errlen, "%s: %s", what, PQerrorMessage(pg));
	err[strcspn(err, "\n")] = '\0';
	return CD_ERR_DATABASE;
}

static int
mig_run_one(PGconn *pg, const struct mig *m, char *err, size_t errlen)
{
	char version[16];
	const char *params[3] = { version, m->name, m->checksum };
	PGresult *r;
	int rc;

	snprintf(version, sizeof(version), "%d", m->version);
	r = PQexec(pg, "BEGIN");
	rc = mig_ok(r, pg, "begin", err, errlen);
	PQclear(r);
	if (rc != 0)
		return rc;
	r = PQexec(pg, m->sql);
	rc = mig_ok(r, pg, m->name, err, errlen);
	PQclear(r);
	if (rc == 0) {
		r = PQexecParams(pg, "INSERT INTO schema_migrations "
		    "(version, name, checksum) VALUES ($1, $2, $3)", 3, NULL,
		    params, NULL, NULL, 0);
		rc = mig_ok(r, pg, "record migration", err, errlen);
		PQclear(r);
	}
	r = PQexec(pg, rc == 0 ? "COMMIT" : "ROLLBACK");
	if (rc == 0)
		rc = mig_ok(r, pg, "commit", err, errlen);
	PQclear(r);
	return rc;
}

int
mig_apply(PGconn *pg, const struct mig_set *set, int *applied, char *err,
    size_t errlen)
{
	PGresult *r = NULL;
	int rc, locked = 0;
	size_t i;

	*applied = 0;
	r = PQexec(pg, "SELECT pg_advisory_lock(" MIG_LOCK_KEY ")");
	if ((rc = mig_ok(r, pg, "advisory lock", err, errlen)) != 0)
		goto out;
	locked = 1;
	PQclear(r);
	r = PQexec(pg, "CREATE TABLE IF NOT EXISTS schema_migrations ("
	    "version integer PRIMARY KEY, name text NOT NULL, "
	    "checksum text NOT NULL, "
	    "applied_at timestamptz NOT NULL DEFAULT now())");
	if ((rc = mig_ok(r, pg, "schema_migrations", err, errlen)) != 0)
		goto out;
	PQclear(r);
	r = PQexec(pg, "SELECT version, name, checksum FROM schema_migrations "
	    "ORDER BY version");
	if ((rc = mig_ok(r, pg, "read schema_migrations", err, errlen)) != 0)
		goto out;

	/* Everything recorded must be ours, unchanged. */
	for (int row = 0; row < PQntuples(r); row++) {
		int v = atoi(PQgetvalue(r, row, 0));

		for (i = 0; i < set->n && set->v[i].version != v; i++)
			;
		if (i == set->n) {
			snprintf(err, errlen, "database has migration %s that "
			    "this cohortd does not know (a newer version ran "
			    "against it?)", PQgetvalue(r, row, 1));
			rc = CD_ERR_CONFLICT;
			goto out;
		}
		if (strcmp(set->v[i].checksum, PQgetvalue(r, row, 2)) != 0) {
			snprintf(err, errlen, "migration %s was edited after it "
			    "was applied (checksum %.12s, recorded %.12s); add a "
			    "new migration instead", set->v[i].name,
			    set->v[i].checksum, PQgetvalue(r, row, 2));
			rc = CD_ERR_CONFLICT;
			goto out;
		}
	}
	for (i = 0; i < set->n; i++) {
		int done = 0;

		for (int row = 0; row < PQntuples(r) && !done; row++)
			done = atoi(PQgetvalue(r, row, 0)) == set->v[i].version;
		if (done)
			continue;
		if ((rc = mig_run_one(pg, &set->v[i], err, errlen)) != 0)
			goto out;
		log_info("applied migration %s", set->v[i].name);
		(*applied)++;
	}
 out:
	PQclear(r);
	if (locked) {
		r = PQexec(pg, "SELECT pg_advisory_unlock(" MIG_LOCK_KEY ")");
		PQclear(r);
	}
	return rc;
}
