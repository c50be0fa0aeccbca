/*
 * cfg.h - the one configuration table of cohortd and cohortctl.
 *
 * Every setting has a name, an environment variable, a flag, a type, a
 * default, bounds and a help line, all in cfg.c's table.  --help and the
 * README's configuration table are generated from it.  Precedence:
 * default < environment < command line.
 */
#ifndef COHORTD_CFG_H
#define COHORTD_CFG_H

#include <stddef.h>
#include <stdio.h>

struct cfg {
	char	*listen;		/* host:port of the HTTP listener */
	char	*cors_origins;		/* "a,b", "*" or "" */
	char	*database_url;		/* libpq URL; "" = embedded cluster */
	char	*state_dir;		/* everything cohortd writes */
	char	*admin_token;		/* platform admin token on first start */
	int	 http_threads;		/* 0 = number of cores */
	int	 workers;		/* grading worker processes; 0 = cores */
	int	 log_level;		/* enum log_level */
	int	 max_connections;
	int	 max_connections_per_address;
	int	 connection_timeout_s;
	int	 header_timeout_s;
	long	 body_limit;		/* bytes */
	int	 db_pool_size;		/* 0 = derived from threads */
	int	 db_acquire_timeout_ms;
	int	 request_lock_timeout_ms;	/* a request's lock wait */
	int	 request_statement_timeout_ms;	/* a request's statement */
	int	 shutdown_grace_ms;
	int	 session_ttl_s;		/* login sessions last this long */
	char	*public_url;		/* base of emailed links; "" = http://listen */
	int	 invitation_ttl_s;	/* an invitation link lasts this long */
	char	*role;			/* all, api, worker, grader */
	char	*trusted_proxies;	/* whose X-Forwarded-For we believe */
	int	 grade_lease_s;		/* a grader's hold on a job */
	int	 report_runners;	/* report job threads per API process */
	int	 report_timeout_s;	/* a report job's time limit */
	int	 report_queue_limit;	/* a tenant's jobs in progress before 503 */
	int	 grade_queue_limit;	/* queued jobs per tenant before 503 */
	char	*bench_cpus;		/* CPU list for benchmark rounds; "" = any */
	char	*pg_bindir;		/* "" = pg_config --bindir, then search */
	char	*pg_user;		/* embedded postgres runs as this when root */
	char	*migrations_dir;	/* "" = migrations built into the binary */
	char	*smtp_url;		/* smtp:// or smtps://; "" = no email */
	char	*smtp_from;		/* envelope and From address */
	char	*smtp_user;		/* SMTP AUTH; "" = none */
	char	*smtp_password;
	char	*webhook_allow;	/* hosts webhooks may reach: http, private */
	int	 nudge_interval_s;	/* between scans for nudges due; 0 none */
};

/* The process's configuration: written once by cfg_load, then read-only. */
extern struct cfg cfg;

/*
 * Fill cfg from defaults, COHORTD_* variables of envp and the flags of
 * argv[1..].  Parsing stops at the first non-option argument or "--";
 * *argi receives its index.  On error returns CD_ERR_CONFIG and writes a
 * message naming the setting to err.  "--help" and "--version" are not
 * handled here: the caller looks for them first.
 */
int	 cfg_load(int argc, char **argv, char **envp, int *argi,
	    char *err, size_t errlen);

/* Derived values: resolved core counts, pool size. */
int	 cfg_http_threads(void);
int	 cfg_workers(void);
int	 cfg_db_pool_size(void);

/* Help text and the README's Markdown table, both from the table. */
void	 cfg_print_help(FILE *fp, const char *usage);
void	 cfg_print_markdown(FILE *fp);

/* Release the strings of cfg (secrets wiped). */
void	 cfg_clear(void);

#endif
