/*
 * ctl.c - cohortctl, the administrator's command line.
 *
 * Each command opens the database the way cohortd would (the configured
 * URL, or the embedded cluster: attached to if cohortd runs, started and
 * stopped around the command if not), does one thing and exits.
 */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "../api/ctl.h"
#include "../api/routes.h"
#include "auth.h"
#include "boot.h"
#include "db.h"
#include "cfg.h"
#include "../common/err.h"
#include "../common/log.h"
#include "pgembed.h"

#include "config.h"

extern char **environ;

static const char usage[] =
    "usage: cohortctl [--setting=value]... COMMAND [ARG]...\n"
    "commands:\n"
    "  migrate                                  apply pending migrations\n"
    "  version                                  print the version\n"
    "  tenant create SLUG NAME EMAIL ADMIN_NAME create a tenant and its admin;\n"
    "                                           the password is read from\n"
    "                                           standard input, or generated\n"
    "  apikey create TENANT_SLUG NAME ROLE      print a new API key\n"
    "  admin-token rotate                       revoke the platform admin\n"
    "                                           token, print a new one\n"
    "  seed-demo                                load the demo program into a\n"
    "                                           \"demo\" tenant (once)";

/* An open database: embedded cluster (if any), migrated, pool of one. */
struct ctl_db {
	struct pgembed	*pg;
	struct db_pool	*pool;
	struct db_conn	*c;
};

static int
ctl_open(struct ctl_db *d)
{
	const char *conninfo;
	char err[1024];
	int applied, latest;

	memset(d, 0, sizeof(*d));
	if (boot_database(1, &d->pg, &conninfo, err, sizeof(err)) != 0 ||
	    boot_migrate(conninfo, &applied, &latest, err, sizeof(err)) != 0) {
		fprintf(stderr, "cohortctl: %s\n", err);
		pgembed_close(d->pg, 30000);
		return -1;
	}
	auth_init();
	api_init(&cfg);
	if (db_pool_new(conninfo, 1, &d->pool, err, sizeof(err)) != 0 ||
	    db_acquire(d->pool, 10000, &d->c) != 0 ||
	    db_begin_platform(d->c) != 0) {
		fprintf(stderr, "cohortctl: database: %s\n", err);
		db_release(d->c);
		db_pool_free(d->pool);
		pgembed_close(d->pg, 30000);
		return -1;
	}
	return 0;
}

/* Commit (ok != 0) or roll back, and close everything. */
static int
ctl_close(struct ctl_db *d, int ok)
{
	int status = ok ? 0 : 1;	/* the exit status */

	if (ok && db_commit(d->c) != 0) {
		fprintf(stderr, "cohortctl: commit failed\n");
		status = 1;
	}
	db_release(d->c);
	db_pool_free(d->pool);
	pgembed_close(d->pg, 30000);
	return status;
}

static int
cmd_tenant(int argc, char **argv)
{
	char pw[1100], hash[crypto_pwhash_STRBYTES];
	struct ctl_db d;
	PGresult *t = NULL, *u = NULL;
	int generated = 0, rc;

	if (argc != 6 || strcmp(argv[1], "create") != 0) {
		fprintf(stderr, "usage: cohortctl tenant create SLUG NAME EMAIL "
		    "ADMIN_NAME\n");
		return 2;
	}
	if (!isatty(STDIN_FILENO) && fgets(pw, sizeof(pw), stdin) != NULL) {
		pw[strcspn(pw, "\r\n")] = '\0';
	} else {
		auth_token_new(pw);	/* 43 random characters */
		generated = 1;
	}
	if (strlen(pw) < 10) {
		fprintf(stderr, "cohortctl: the password needs 10 characters\n");
		return 2;
	}
	if (ctl_open(&d) != 0)
		return 1;
	if (auth_password_hash(pw, hash) != 0) {
		sodium_memzero(pw, sizeof(pw));
		return ctl_close(&d, 0);
	}
	rc = api_tenant_insert(d.c, argv[2], argv[3], argv[4], argv[5], hash,
	    &t, &u);
	if (rc == 0) {
		printf("tenant %s (%s)\nadmin %s <%s>\n", argv[2],
		    PQgetvalue(t, 0, 0), PQgetvalue(u, 0, 0), argv[4]);
		if (generated)
			printf("password %s\n", pw);
	} else
		fprintf(stderr, "cohortctl: tenant create: %s\n",
		    rc == CD_ERR_CONFLICT ? "the slug is taken" :
		    "rejected by the database (see the log)");
	sodium_memzero(pw, sizeof(pw));
	PQclear(t);
	PQclear(u);
	return ctl_close(&d, rc == 0);
}

static int
cmd_apikey(int argc, char **argv)
{
	char token[AUTH_TOKEN_LEN + 1], tenant[40];
	struct ctl_db d;
	PGresult *k = NULL;
	int ok = 0;

	if (argc != 5 || strcmp(argv[1], "create") != 0 ||
	    (strcmp(argv[4], "admin") && strcmp(argv[4], "instructor") &&
	    strcmp(argv[4], "learner"))) {
		fprintf(stderr, "usage: cohortctl apikey create TENANT_SLUG NAME "
		    "admin|instructor|learner\n");
		return 2;
	}
	if (ctl_open(&d) != 0)
		return 1;
	if (api_tenant_by_slug(d.c, argv[2], tenant) != 0)
		fprintf(stderr, "cohortctl: no tenant \"%s\"\n", argv[2]);
	else if (db_set_tenant(d.c, tenant) == 0 &&
	    (k = api_apikey_insert(d.c, argv[3], argv[4], NULL, token)) != NULL) {
		printf("%s\n", token);
		ok = 1;
	}
	sodium_memzero(token, sizeof(token));
	PQclear(k);
	return ctl_close(&d, ok);
}

/* Create or truncate <state>/name, readable by its owner only: a stream
 * to write, or NULL. */
static FILE *
ctl_state_file(const char *name)
{
	char path[4096];
	FILE *f;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", cfg.state_dir, name);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC,
	    0600);
	if (fd != -1 && (f = fdopen(fd, "w")) != NULL)
		return f;
	if (fd != -1)
		close(fd);
	return NULL;
}

static int
cmd_admin_token(int argc, char **argv)
{
	char token[AUTH_TOKEN_LEN + 1];
	struct ctl_db d;
	FILE *f;
	int ok;

	if (argc != 2 || strcmp(argv[1], "rotate") != 0) {
		fprintf(stderr, "usage: cohortctl admin-token rotate\n");
		return 2;
	}
	if (ctl_open(&d) != 0)
		return 1;
	ok = auth_rotate_admin(d.c, token) == 0;
	if (ok) {
		/* Keep <state>/admin-token current for whoever reads it. */
		if ((f = ctl_state_file("admin-token")) != NULL) {
			fprintf(f, "%s\n", token);
			fclose(f);
		}
		printf("%s\n", token);
	}
	sodium_memzero(token, sizeof(token));
	return ctl_close(&d, ok);
}

static int
cmd_migrate(int argc, char **argv)
{
	struct pgembed *pg = NULL;
	const char *conninfo;
	char err[1024];
	int applied, latest, rc;

	if ((rc = boot_database(1, &pg, &conninfo, err, sizeof(err))) != 0) {
		fprintf(stderr, "cohortctl: %s\n", err);
		return 1;
	}
	rc = boot_migrate(conninfo, &applied, &latest, err, sizeof(err));
	pgembed_close(pg, 30000);
	if (rc != 0) {
		fprintf(stderr, "cohortctl: migrate: %s\n", err);
		return 1;
	}
	printf("schema at version %d (%d applied now)\n", latest, applied);
	return 0;
}

static int
cmd_version(int argc, char **argv)
{
	printf("cohortctl %s\n", PACKAGE_VERSION);
	return 0;
}

static int
cmd_seed_demo(int argc, char **argv)
{
	char pw[AUTH_TOKEN_LEN + 1];
	struct ctl_db d;
	FILE *f;
	int rc;

	if (ctl_open(&d) != 0)
		return 1;
	rc = api_demo_seed(d.c, pw, sizeof(pw), stdout);
	if (rc == CD_ERR_CONFLICT) {
		printf("the demo tenant exists already; nothing to do\n");
		ctl_close(&d, 0);
		return 0;
	}
	if (rc != 0) {
		fprintf(stderr, "cohortctl: seed-demo: %s\n", cd_strerror(rc));
		return ctl_close(&d, 0);
	}
	if ((rc = ctl_close(&d, 1)) != 0)
		return rc;
	printf("log in: POST /v1/auth/login {\"tenant\":\"demo\",\"email\":"
	    "\"learner1@demo.test\",\"password\":\"%s\"}\n"
	    "accounts: admin@demo.test, ivan@demo.test (instructor), "
	    "learner1..5@demo.test; all with that password\n", pw);
	/* Also kept in the state directory, readable by its owner only. */
	if ((f = ctl_state_file("demo-credentials")) != NULL) {
		fprintf(f, "tenant demo\npassword %s\nadmin@demo.test\n"
		    "ivan@demo.test\nlearner1@demo.test .. learner5@demo.test\n",
		    pw);
		fclose(f);
	}
	sodium_memzero(pw, sizeof(pw));
	return 0;
}

static const struct {
	const char	*name;
	int		(*fn)(int, char **);
} commands[] = {
	{ "migrate", cmd_migrate },
	{ "version", cmd_version },
	{ "tenant", cmd_tenant },
	{ "apikey", cmd_apikey },
	{ "admin-token", cmd_admin_token },
	{ "seed-demo", cmd_seed_demo },
};

int
main(int argc, char **argv)
{
	char err[1024];
	int argi;

	for (int i = 1; i < argc && strncmp(argv[i], "--", 2) == 0; i++)
		if (strcmp(argv[i], "--help") == 0) {
			cfg_print_help(stdout, usage);
			return 0;
		}
	log_init("cohortctl", LOG_LVL_WARN);
	if (sodium_init() < 0)
		fatalx("libsodium failed to initialize");
	if (cfg_load(argc, argv, environ, &argi, err, sizeof(err)) != 0) {
		fprintf(stderr, "cohortctl: configuration: %s\n", err);
		return 2;
	}
	log_set_level(cfg.log_level > LOG_LVL_WARN ? cfg.log_level :
	    LOG_LVL_WARN);
	signal(SIGPIPE, SIG_IGN);
	if (argi >= argc) {
		fprintf(stderr, "%s\n", usage);
		return 2;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(*commands); i++)
		if (strcmp(argv[argi], commands[i].name) == 0)
			return commands[i].fn(argc - argi, argv + argi);
	fprintf(stderr, "cohortctl: unknown command \"%s\"\n%s\n", argv[argi],
	    usage);
	return 2;
}
