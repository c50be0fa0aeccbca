/*
 * cfg.c - the configuration table and its parser.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "cfg.h"
#include "../common/err.h"
#include "../common/log.h"
#include "netaddr.h"

struct cfg cfg;

enum cfg_type { CFG_STRING, CFG_SECRET, CFG_INT, CFG_SIZE, CFG_LEVEL,
	CFG_CPUS, CFG_ADDRS };

struct cfg_entry {
	const char	*name;		/* also the flag: --name with '_' as '-' */
	const char	*env;
	enum cfg_type	 type;
	const char	*def;		/* default, as it would be written */
	long		 min, max;	/* bounds for numbers */
	size_t		 off;		/* offset in struct cfg */
	const char	*help;
};

#define OFF(f)	offsetof(struct cfg, f)

static const struct cfg_entry cfg_table[] = {
	{ "listen", "COHORTD_LISTEN", CFG_STRING, "127.0.0.1:8080", 0, 0,
	  OFF(listen), "address and port of the HTTP listener" },
	{ "database_url", "COHORTD_DATABASE_URL", CFG_STRING, "", 0, 0,
	  OFF(database_url), "PostgreSQL URL; empty runs a private embedded cluster under the state directory" },
	{ "state_dir", "COHORTD_STATE_DIR", CFG_STRING, "./var", 0, 0,
	  OFF(state_dir), "directory for the embedded cluster, the admin token and other state" },
	{ "admin_token", "COHORTD_ADMIN_TOKEN", CFG_SECRET, "", 0, 0,
	  OFF(admin_token), "platform admin bearer token set on first start; empty generates one into <state>/admin-token" },
	{ "http_threads", "COHORTD_HTTP_THREADS", CFG_INT, "0", 0, 256,
	  OFF(http_threads), "requests on the database at once (sizes the pool and the password-hashing slots; every connection has a thread of its own); 0 = number of cores" },
	{ "workers", "COHORTD_WORKERS", CFG_INT, "0", 0, 64,
	  OFF(workers), "grading worker processes; 0 = number of cores" },
	{ "log_level", "COHORTD_LOG_LEVEL", CFG_LEVEL, "info", 0, 0,
	  OFF(log_level), "lowest level logged: debug, info, warn or error" },
	{ "max_connections", "COHORTD_MAX_CONNECTIONS", CFG_INT, "1024", 1, 65536,
	  OFF(max_connections), "concurrent HTTP connections accepted" },
	{ "max_connections_per_address", "COHORTD_MAX_CONNECTIONS_PER_ADDRESS", CFG_INT, "64", 0, 65536,
	  OFF(max_connections_per_address), "concurrent HTTP connections from one client address (trusted proxies exempt); more get 429; 0 = no cap" },
	{ "connection_timeout", "COHORTD_CONNECTION_TIMEOUT", CFG_INT, "30", 1, 3600,
	  OFF(connection_timeout_s), "seconds an idle HTTP connection is kept" },
	{ "header_timeout", "COHORTD_HEADER_TIMEOUT", CFG_INT, "5", 1, 3600,
	  OFF(header_timeout_s), "seconds a new HTTP connection gets to send a whole request head; then it is closed" },
	{ "cors_origins", "COHORTD_CORS_ORIGINS", CFG_STRING, "", 0, 0,
	  OFF(cors_origins), "comma-separated origins (https://app.example.com) whose browser pages may call the API; * for any; empty for none" },
	{ "body_limit", "COHORTD_BODY_LIMIT", CFG_SIZE, "1M", 1024, 64L << 20,
	  OFF(body_limit), "largest request body accepted (suffix K or M); larger gets 413" },
	{ "db_pool_size", "COHORTD_DB_POOL_SIZE", CFG_INT, "0", 0, 512,
	  OFF(db_pool_size), "database connections per process for requests; 0 = HTTP threads + 2 (report runners add two each)" },
	{ "db_acquire_timeout", "COHORTD_DB_ACQUIRE_TIMEOUT", CFG_INT, "5000", 1, 600000,
	  OFF(db_acquire_timeout_ms), "milliseconds a request waits for a database connection before 503" },
	{ "request_lock_timeout", "COHORTD_REQUEST_LOCK_TIMEOUT", CFG_INT, "5000", 0, 600000,
	  OFF(request_lock_timeout_ms), "milliseconds a request waits for a row or table lock (another change holds it) before 503; 0 = no limit" },
	{ "request_statement_timeout", "COHORTD_REQUEST_STATEMENT_TIMEOUT", CFG_INT, "30000", 0, 3600000,
	  OFF(request_statement_timeout_ms), "milliseconds a request's database statement may run before it is cancelled and answered 503; 0 = no limit (downloads streamed to the client are exempt)" },
	{ "shutdown_grace", "COHORTD_SHUTDOWN_GRACE", CFG_INT, "5000", 0, 600000,
	  OFF(shutdown_grace_ms), "milliseconds in-flight requests and graders get to finish on SIGTERM; the whole shutdown takes at most this plus 5 s" },
	{ "trusted_proxies", "COHORTD_TRUSTED_PROXIES", CFG_ADDRS, "", 0, 0,
	  OFF(trusted_proxies), "addresses or networks (like 10.0.0.5, "
	  "10.1.0.0/16 or ::1, comma-separated) of reverse proxies whose "
	  "X-Forwarded-For names the client; empty = the peer is the client" },
	{ "session_ttl", "COHORTD_SESSION_TTL", CFG_INT, "43200", 60, 2592000,
	  OFF(session_ttl_s), "seconds a login session lasts" },
	{ "public_url", "COHORTD_PUBLIC_URL", CFG_STRING, "", 0, 0,
	  OFF(public_url), "the address people reach cohortd at (https://learn.example.com), for the invitation and password-reset links sent by email; empty = http://<listen>" },
	{ "invitation_ttl", "COHORTD_INVITATION_TTL", CFG_INT, "604800", 3600, 2592000,
	  OFF(invitation_ttl_s), "seconds an invitation link stays valid (password-reset links: one hour)" },
	{ "role", "COHORTD_ROLE", CFG_STRING, "all", 0, 0,
	  OFF(role), "all: API and graders; api: API only; worker: graders only "
	  "(grader: one grading process, started by the others)" },
	{ "grade_lease", "COHORTD_GRADE_LEASE", CFG_INT, "30", 2, 3600,
	  OFF(grade_lease_s), "seconds a grader holds a job between heartbeats "
	  "before another may take it" },
	{ "grade_queue_limit", "COHORTD_GRADE_QUEUE_LIMIT", CFG_INT, "1000", 1,
	  1000000, OFF(grade_queue_limit), "a tenant's waiting submissions "
	  "before new ones get 503" },
	{ "bench_cpus", "COHORTD_BENCH_CPUS", CFG_CPUS, "", 0, 0,
	  OFF(bench_cpus), "pins the graders' benchmark rounds to these "
	  "CPUs (a list like 1, 2-3 or 0,2-3; empty = any): CPUs the "
	  "operator keeps free of other work, the way to get fast final "
	  "grades on a busy host" },
	{ "report_runners", "COHORTD_REPORT_RUNNERS", CFG_INT, "1", 0, 16,
	  OFF(report_runners), "report job threads per API process (each "
	  "holds two database connections while it runs a job); 0 = none" },
	{ "report_queue_limit", "COHORTD_REPORT_QUEUE_LIMIT", CFG_INT, "20", 1,
	  10000, OFF(report_queue_limit), "a tenant's waiting and running "
	  "report jobs before new ones get 503" },
	{ "report_timeout", "COHORTD_REPORT_TIMEOUT", CFG_INT, "300", 5, 86400,
	  OFF(report_timeout_s), "seconds a report job may run before it "
	  "fails" },
	{ "pg_bindir", "COHORTD_PG_BINDIR", CFG_STRING, "", 0, 0,
	  OFF(pg_bindir), "PostgreSQL server binaries for the embedded cluster; empty = pg_config --bindir" },
	{ "pg_user", "COHORTD_PG_USER", CFG_STRING, "postgres", 0, 0,
	  OFF(pg_user), "system user the embedded cluster runs as when cohortd runs as root" },
	{ "migrations_dir", "COHORTD_MIGRATIONS_DIR", CFG_STRING, "", 0, 0,
	  OFF(migrations_dir), "read migrations from this directory instead of those built in" },
	{ "smtp_url", "COHORTD_SMTP_URL", CFG_STRING, "", 0, 0,
	  OFF(smtp_url), "mail server for the outbox's emails: smtp://host:port "
	  "(STARTTLS when offered) or smtps://host:port; empty = emails are "
	  "kept unsent (GET /v1/outbox lists them)" },
	{ "smtp_from", "COHORTD_SMTP_FROM", CFG_STRING, "", 0, 0,
	  OFF(smtp_from), "envelope and From address of emails (the tenant's "
	  "name is the display name); needed with COHORTD_SMTP_URL" },
	{ "smtp_user", "COHORTD_SMTP_USER", CFG_STRING, "", 0, 0,
	  OFF(smtp_user), "user name for SMTP AUTH; empty = none" },
	{ "smtp_password", "COHORTD_SMTP_PASSWORD", CFG_SECRET, "", 0, 0,
	  OFF(smtp_password), "password for SMTP AUTH" },
	{ "webhook_allow", "COHORTD_WEBHOOK_ALLOW", CFG_STRING, "", 0, 0,
	  OFF(webhook_allow), "hosts or addresses (like hooks.internal, "
	  "127.0.0.1 or 10.1.0.0/16, comma-separated) that webhook endpoints "
	  "may name over plain http and that may be loopback or private; "
	  "empty = https only, public addresses only" },
	{ "nudge_interval", "COHORTD_NUDGE_INTERVAL", CFG_INT, "60", 0, 3600,
	  OFF(nudge_interval_s), "seconds between the outbox dispatcher's "
	  "scans for scheduled notifications due (due in 24 hours, daily "
	  "reminders, re-engagement); 0 = no scans in this process" },
};

#define CFG_N	(sizeof(cfg_table) / sizeof(cfg_table[0]))

static void
cfg_flag_name(const struct cfg_entry *e, char *buf, size_t len)
{
	size_t i;

	for (i = 0; e->name[i] != '\0' && i + 1 < len; i++)
		buf[i] = e->name[i] == '_' ? '-' : e->name[i];
	buf[i] = '\0';
}

static int
cfg_parse_number(const struct cfg_entry *e, const char *s, long *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (end == s || errno != 0)
		return CD_ERR_CONFIG;
	if (e->type == CFG_SIZE) {
		if (*end == 'K' || *end == 'k') {
			v *= 1024; end++;
		} else if (*end == 'M' || *end == 'm') {
			v *= 1024 * 1024; end++;
		}
	}
	if (*end != '\0')
		return CD_ERR_CONFIG;
	*out = v;
	return 0;
}

/* A CPU list as the kernel writes one: "", or "N" and "N-M" by commas. */
static int
cfg_cpus_ok(const char *s)
{
	char *end;
	long a, b;

	if (*s == '\0')
		return 1;
	for (;;) {
		if (!isdigit((unsigned char)*s))
			return 0;
		a = strtol(s, &end, 10);
		b = a;
		if (*end == '-') {
			if (!isdigit((unsigned char)end[1]))
				return 0;
			b = strtol(end + 1, &end, 10);
		}
		if (a > b || b > 4095)
			return 0;
		if (*end == '\0')
			return 1;
		if (*end != ',')
			return 0;
		s = end + 1;
	}
}

static int
cfg_set(const struct cfg_entry *e, const char *val, const char *origin,
    char *err, size_t errlen)
{
	char *base = (char *)&cfg + e->off;
	long v;
	int lvl;

	switch (e->type) {
	case CFG_CPUS:
		if (!cfg_cpus_ok(val)) {
			snprintf(err, errlen, "%s (%s): \"%s\" is not a CPU list "
			    "(like 1, 2-3 or 0,2-3)", e->env, origin, val);
			return CD_ERR_CONFIG;
		}
		/* FALLTHROUGH */
	case CFG_ADDRS:
		if (e->type == CFG_ADDRS && !netaddr_list_ok(val)) {
			snprintf(err, errlen, "%s (%s): \"%s\" is not a list of "
			    "addresses or networks (like 10.0.0.5, 10.1.0.0/16)",
			    e->env, origin, val);
			return CD_ERR_CONFIG;
		}
		/* FALLTHROUGH */
	case CFG_STRING:
	case CFG_SECRET: {
		char **slot = (char **)(void *)base;
		char *copy = strdup(val);

		if (copy == NULL)
			return CD_ERR_NOMEM;
		if (*slot != NULL) {
			if (e->type == CFG_SECRET)
				sodium_memzero(*slot, strlen(*slot));
			free(*slot);
		}
		*slot = copy;
		return 0;
	}
	case CFG_INT:
	case CFG_SIZE:
		if (cfg_parse_number(e, val, &v) != 0) {
			snprintf(err, errlen, "%s (%s): \"%s\" is not a %s",
			    e->env, origin, val, e->type == CFG_SIZE ?
			    "size (a number, optionally with K or M)" : "whole number");
			return CD_ERR_CONFIG;
		}
		if (v < e->min || v > e->max) {
			snprintf(err, errlen, "%s (%s): %ld is out of range "
			    "[%ld, %ld]", e->env, origin, v, e->min, e->max);
			return CD_ERR_CONFIG;
		}
		if (e->type == CFG_SIZE)
			*(long *)(void *)base = v;
		else
			*(int *)(void *)base = (int)v;
		return 0;
	case CFG_LEVEL:
		if ((lvl = log_level_parse(val)) < 0) {
			snprintf(err, errlen, "%s (%s): \"%s\" is not one of "
			    "debug, info, warn, error", e->env, origin, val);
			return CD_ERR_CONFIG;
		}
		*(int *)(void *)base = lvl;
		return 0;
	}
	return CD_ERR_INTERNAL;
}

static const struct cfg_entry *
cfg_find_flag(const char *flag, size_t len)
{
	char name[64];

	for (size_t i = 0; i < CFG_N; i++) {
		cfg_flag_name(&cfg_table[i], name, sizeof(name));
		if (strlen(name) == len && strncmp(name, flag, len) == 0)
			return &cfg_table[i];
	}
	return NULL;
}

int
cfg_load(int argc, char **argv, char **envp, int *argi, char *err,
    size_t errlen)
{
	int rc, i;

	for (size_t k = 0; k < CFG_N; k++)
		if ((rc = cfg_set(&cfg_table[k], cfg_table[k].def, "default",
		    err, errlen)) != 0)
			return rc;

	/* An unknown COHORTD_ variable is a typo until proven otherwise. */
	for (char **ep = envp; ep != NULL && *ep != NULL; ep++) {
		const char *eq = strchr(*ep, '=');
		size_t klen;
		size_t k;

		if (strncmp(*ep, "COHORTD_", 8) != 0 || eq == NULL)
			continue;
		klen = (size_t)(eq - *ep);
		for (k = 0; k < CFG_N; k++)
			if (strlen(cfg_table[k].env) == klen &&
			    strncmp(cfg_table[k].env, *ep, klen) == 0)
				break;
		if (k == CFG_N) {
			snprintf(err, errlen, "%.*s: unknown setting in the "
			    "environment", (int)klen, *ep);
			return CD_ERR_CONFIG;
		}
		if ((rc = cfg_set(&cfg_table[k], eq + 1, "environment", err,
		    errlen)) != 0)
			return rc;
	}

	for (i = 1; i < argc; i++) {
		const char *a = argv[i], *val, *eq;
		const struct cfg_entry *e;
		size_t flen;

		if (strcmp(a, "--") == 0) {
			i++;
			break;
		}
		if (strncmp(a, "--", 2) != 0)
			break;
		eq = strchr(a + 2, '=');
		flen = eq ? (size_t)(eq - (a + 2)) : strlen(a + 2);
		if ((e = cfg_find_flag(a + 2, flen)) == NULL) {
			snprintf(err, errlen, "%s: unknown option", a);
			return CD_ERR_CONFIG;
		}
		if (eq != NULL)
			val = eq + 1;
		else if (i + 1 < argc)
			val = argv[++i];
		else {
			snprintf(err, errlen, "%s: needs a value", a);
			return CD_ERR_CONFIG;
		}
		if ((rc = cfg_set(e, val, "command line", err, errlen)) != 0)
			return rc;
	}
	*argi = i;
	return 0;
}

static int
cfg_cores(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	return n > 0 ? (int)n : 1;
}

int
cfg_http_threads(void)
{
	return cfg.http_threads > 0 ? cfg.http_threads : cfg_cores();
}

int
cfg_workers(void)
{
	return cfg.workers > 0 ? cfg.workers : cfg_cores();
}

int
cfg_db_pool_size(void)
{
	/* Report runners hold two connections each, whatever the setting. */
	return (cfg.db_pool_size > 0 ? cfg.db_pool_size : cfg_http_threads() +
	    2) + 2 * cfg.report_runners;
}

static const char *
cfg_default_text(const struct cfg_entry *e)
{
	if (e->def[0] == '\0')
		return "(empty)";
	return e->def;
}

void
cfg_print_help(FILE *fp, const char *usage)
{
	char flag[64];

	fprintf(fp, "%s\n\nSettings (flag, environment variable, default):\n",
	    usage);
	for (size_t i = 0; i < CFG_N; i++) {
		const struct cfg_entry *e = &cfg_table[i];

		cfg_flag_name(e, flag, sizeof(flag));
		fprintf(fp, "  --%-20s %-28s %s\n      %s", flag, e->env,
		    cfg_default_text(e), e->help);
		if (e->type == CFG_INT || e->type == CFG_SIZE)
			fprintf(fp, " [%ld..%ld]", e->min, e->max);
		fputc('\n', fp);
	}
}

void
cfg_print_markdown(FILE *fp)
{
	char flag[64];

	fprintf(fp, "| Environment variable | Flag | Default | Range | Meaning |\n");
	fprintf(fp, "|---|---|---|---|---|\n");
	for (size_t i = 0; i < CFG_N; i++) {
		const struct cfg_entry *e = &cfg_table[i];
		char range[64] = "";

		cfg_flag_name(e, flag, sizeof(flag));
		if (e->type == CFG_INT || e->type == CFG_SIZE)
			snprintf(range, sizeof(range), "%ld..%ld", e->min, e->max);
		fprintf(fp, "| `%s` | `--%s` | `%s` | %s | %s |\n", e->env,
		    flag, cfg_default_text(e), range, e->help);
	}
}

void
cfg_clear(void)
{
	for (size_t i = 0; i < CFG_N; i++) {
		const struct cfg_entry *e = &cfg_table[i];
		char **slot;

		if (e->type != CFG_STRING && e->type != CFG_SECRET &&
		    e->type != CFG_CPUS && e->type != CFG_ADDRS)
			continue;
		slot = (char **)(void *)((char *)&cfg + e->off);
		if (*slot != NULL && e->type == CFG_SECRET)
			sodium_memzero(*slot, strlen(*slot));
		free(*slot);
		*slot = NULL;
	}
}
