/*
 * main.c - cohortd, the daemon.
 *
 * Theory of operation.  One process serves the API (role all or api) and
 * supervises the grader processes (role all or worker; worker.c has their
 * side of the story).  At startup it reads
 * the configuration table (cfg.c), finds its database (the configured URL,
 * or a private PostgreSQL cluster it starts as its own child, pgembed.c),
 * applies pending migrations under an advisory lock (migrate.c), opens the
 * connection pool (db.c), makes sure a platform admin token exists
 * (auth.c) and starts libmicrohttpd's thread pool (http.c), the report
 * runners and the outbox's dispatcher (outbox.c).  From then on
 * the main thread does nothing but wait for signals:
 *
 *   SIGTERM, SIGINT   stop accepting, end event streams, tell graders to
 *                     abandon their jobs, let in-flight requests finish
 *                     (graders and requests share COHORTD_SHUTDOWN_GRACE),
 *                     requeue the graders' jobs, close the pool, stop the
 *                     embedded cluster (PGEMBED_STOP_MS, then 1 s of
 *                     immediate shutdown, then SIGKILL), exit 0.  A second one exits at
 *                     once (the cluster then gets SIGQUIT from the kernel
 *                     through its parent-death signal).
 *   SIGCHLD           if the embedded postgres died, shut down with exit 1:
 *                     a supervisor restarts us and pgembed recovers.
 *
 * All signals are blocked before any thread starts, so only this thread
 * ever sees them; HTTP threads never get interrupted system calls.
 */
#include <sys/socket.h>
#include <sys/wait.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "../api/report_jobs.h"
#include "../api/routes.h"
#include "auth.h"
#include "boot.h"
#include "cfg.h"
#include "db.h"
#include "../common/clock.h"
#include "../common/err.h"
#include "health.h"
#include "http.h"
#include "idem.h"
#include "../common/log.h"
#include "notify.h"
#include "outbox.h"
#include "pgembed.h"
#include "smtp.h"
#include "worker.h"
#include "../sandbox/sandbox.h"

#include "config.h"

extern char **environ;

static const char usage[] =
    "usage: cohortd [--setting=value]...\n"
    "       cohortd --help | --version";

static void
on_second_signal(int sig)
{
	/* Async-signal-safe: write(2) and _exit(2) only. */
	static const char msg[] = "{\"level\":\"warn\",\"msg\":\"second signal, "
	    "exiting now\"}\n";

	(void)!write(STDERR_FILENO, msg, sizeof(msg) - 1);
	_exit(128 + sig);
}

/* Reap children; returns non-zero if the embedded postgres was one. */
static int
reap_children(struct pgembed *pg, const char *conninfo)
{
	int status, pg_died = 0, graders = 0, n;
	pid_t pid;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		if (worker_reaped(pid, status)) {
			graders++;
			continue;
		}
		if (pg != NULL && pid == pgembed_pid(pg)) {
			log_warnx("embedded postgres exited unexpectedly "
			    "(status %d)", status);
			pgembed_forget(pg);
			pg_died = 1;
		}
	}
	/* A dead grader's job goes back to the queue now, not at its
	 * lease's end. */
	if (graders > 0 && !pg_died)
		worker_reclaim(conninfo, &n);
	return pg_died;
}

static void
wait_inflight(int grace_ms)
{
	struct timespec ts = { 0, 20 * 1000000L };
	int waited = 0;

	while (http_inflight() > 0 && waited < grace_ms) {
		nanosleep(&ts, NULL);
		waited += 20;
	}
	if (http_inflight() > 0)
		log_warnx("%d request(s) still running after %d ms; closing",
		    http_inflight(), grace_ms);
}

/*
 * Probe the sandbox once, for /readyz: which mechanisms this host
 * enforces.  Runs before any thread or child exists, as the sandbox asks.
 */
static json_t *
sandbox_summary(void)
{
	json_t *full, *sum;

	if (geteuid() != 0)
		return json_pack("{s:b, s:s}", "ready", 0, "reason",
		    "cohortd is not root: this process cannot run the sandbox");
	if (sbx_init(NULL, NULL) != 0)
		log_warnx("sandbox: a required mechanism is missing; grading "
		    "is refused on this host");
	full = sbx_check_json();
	/* Plus whether Python exercises can run and what benchmarks get. */
	sum = json_pack("{s:O*, s:O*, s:O*, s:O*, s:O*, s:O*}", "ready",
	    json_object_get(full, "ready"), "cgroup",
	    json_object_get(full, "cgroup"), "missing",
	    json_object_get(full, "missing"), "degraded",
	    json_object_get(full, "degraded"), "python",
	    json_object_get(full, "python"), "timed_runs",
	    json_object_get(full, "timed_runs"));
	json_decref(full);
	return sum;
}

int
main(int argc, char **argv)
{
	struct pgembed *pg = NULL;
	struct db_pool *pool = NULL;
	struct http_config hc;
	struct sigaction sa;
	sigset_t set;
	const char *conninfo;
	char err[1024] = "";
	int argi, rc, port = 0, applied, latest, status = 0, serve_api;
	int reclaimed, left;
	long t0;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			cfg_print_help(stdout, usage);
			return 0;
		}
		if (strcmp(argv[i], "--version") == 0) {
			printf("cohortd %s\n", PACKAGE_VERSION);
			return 0;
		}
		if (strcmp(argv[i], "--config-markdown") == 0) {
			cfg_print_markdown(stdout);
			return 0;
		}
	}
	log_init("cohortd", LOG_LVL_INFO);
	notify_init();
	if (sodium_init() < 0)
		fatalx("libsodium failed to initialize");
	if (cfg_load(argc, argv, environ, &argi, err, sizeof(err)) != 0)
		fatalx("configuration: %s", err);
	if (argi < argc)
		fatalx("configuration: unexpected argument \"%s\"", argv[argi]);
	log_set_level(cfg.log_level);
	{
		struct sockaddr_storage ss;

		/* Before anything starts: a bad address needs no database. */
		if (http_parse_listen(cfg.listen, &ss, err, sizeof(err)) != 0)
			fatalx("configuration: %s", err);
		if (cfg.smtp_url[0] != '\0' && smtp_server_check(cfg.smtp_url,
		    cfg.smtp_from, err, sizeof(err)) != 0)
			fatalx("configuration: %s", err);
	}
	if (strcmp(cfg.role, "all") && strcmp(cfg.role, "api") &&
	    strcmp(cfg.role, "worker") && strcmp(cfg.role, "grader"))
		fatalx("configuration: COHORTD_ROLE: \"%s\" is not one of all, "
		    "api, worker", cfg.role);
	serve_api = strcmp(cfg.role, "worker") != 0;
	if (strcmp(cfg.role, "grader") == 0) {
		/* One grading process: the database its supervisor uses. */
		if (boot_database(1, &pg, &conninfo, err, sizeof(err)) != 0)
			fatalx("database: %s", err);
		rc = grader_main(conninfo, &cfg);
		pgembed_close(pg, 0);
		return rc;
	}

	/* Before any thread exists: only the main thread takes signals. */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGHUP);
	sigprocmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);

	if (boot_database(0, &pg, &conninfo, err, sizeof(err)) != 0)
		fatalx("database: %s", err);
	if ((rc = boot_migrate(conninfo, &applied, &latest, err,
	    sizeof(err))) != 0) {
		pgembed_close(pg, 10000);
		fatalx("migrations: %s", err);
	}
	api_system_set_expected_schema(latest);
	api_system_set_sandbox(sandbox_summary());
	api_system_set_needs_graders(strcmp(cfg.role, "api") != 0 &&
	    cfg_workers() > 0);
	/* A change to schema_migrations notifies this channel
	 * (migrations/0020): readiness asks again at once. */
	if (health_init(conninfo, "cohortd_schema") != 0)
		fatalx("out of memory");
	/* Graders are separate processes, started before any thread here;
	 * jobs held by graders of an earlier life go back to the queue. */
	if (strcmp(cfg.role, "api") != 0) {
		worker_reclaim(conninfo, &reclaimed);
		worker_supervise(cfg_workers(), argv);
	}

	auth_init();
	idem_init();
	outbox_init();
	api_init(&cfg);
	/* Argon2id costs 64 MiB a hash: at most one per core at a time. */
	auth_password_init(cfg_http_threads() < 4 ? 2 : cfg_http_threads() / 2);
	if (db_pool_new(conninfo, cfg_db_pool_size(), &pool, err,
	    sizeof(err)) != 0) {
		pgembed_close(pg, 10000);
		fatalx("database: %s", err);
	}
	err[0] = '\0';
	if (auth_bootstrap_admin(pool, cfg.state_dir, cfg.admin_token, err,
	    sizeof(err)) != 0) {
		db_pool_free(pool);
		pgembed_close(pg, 10000);
		fatalx("%s", err);
	}

	memset(&hc, 0, sizeof(hc));
	hc.listen = cfg.listen;
	hc.cors_origins = cfg.cors_origins;
	hc.max_connections = cfg.max_connections;
	hc.max_per_address = cfg.max_connections_per_address;
	hc.connection_timeout_s = cfg.connection_timeout_s;
	hc.header_timeout_s = cfg.header_timeout_s;
	hc.body_limit = (size_t)cfg.body_limit;
	hc.db_acquire_timeout_ms = cfg.db_acquire_timeout_ms;
	hc.lock_timeout_ms = cfg.request_lock_timeout_ms;
	hc.statement_timeout_ms = cfg.request_statement_timeout_ms;
	hc.trusted_proxies = cfg.trusted_proxies;
	hc.routes = api_routes;
	hc.nroutes = api_nroutes;
	hc.pool = pool;
	hc.conninfo = conninfo;
	hc.sse_channel = "cohortd_submission_events";
	hc.authenticate = auth_authenticate;
	hc.remembered = auth_remembered;
	hc.forget = auth_forget;
	hc.audit = api_audit_record;
	if (serve_api && http_start(&hc, &port, err, sizeof(err)) != 0) {
		worker_stop_all(0);
		db_pool_free(pool);
		pgembed_close(pg, 10000);
		fatalx("%s", err);
	}
	if (serve_api && api_report_jobs_start(pool, conninfo,
	    cfg.report_runners) != 0)
		log_warnx("report runners: could not start them all");
	if (serve_api) {
		struct smtp_server smtp = { .url = cfg.smtp_url, .from =
		    cfg.smtp_from, .user = cfg.smtp_user, .password =
		    cfg.smtp_password };

		static char base[512];
		const char *colon = strrchr(cfg.listen, ':');

		/* Links lead to COHORTD_PUBLIC_URL, else to the listener. */
		if (cfg.public_url != NULL && cfg.public_url[0] != '\0')
			snprintf(base, sizeof(base), "%s", cfg.public_url);
		else
			snprintf(base, sizeof(base), "http://%.*s:%d",
			    colon != NULL ? (int)(colon - cfg.listen) :
			    (int)strlen(cfg.listen), cfg.listen, port);
		if (outbox_start(pool, conninfo, &smtp, cfg.webhook_allow, base,
		    cfg.nudge_interval_s, err, sizeof(err)) != 0)
			log_warnx("outbox: %s; messages are not sent", err);
	}
	if (serve_api)
		log_fields(LOG_LVL_INFO, "listening", json_pack("{s:s, s:i, s:i, "
		    "s:s, s:s}", "listen", cfg.listen, "port", port,
		    "http_threads", cfg_http_threads(), "database", pg ? "embedded" :
		    "external", "role", cfg.role));
	if (serve_api && (cfg.public_url == NULL || cfg.public_url[0] == '\0'))
		log_warnx("COHORTD_PUBLIC_URL is not set: invitation and "
		    "password-reset links name http://%s, which people may not "
		    "reach; set it to the address they use", cfg.listen);
	{
		char st[96] = "grading";

		if (serve_api)
			snprintf(st, sizeof(st), "serving on port %d", port);
		notify_ready(st);
	}

	for (;;) {
		struct timespec tick = { 1, 0 };
		siginfo_t si;
		int sig = sigtimedwait(&set, &si, &tick);

		worker_tick();
		if (sig == -1)
			continue;
		if (sig == SIGCHLD) {
			if (reap_children(pg, conninfo)) {
				status = 1;
				break;
			}
			continue;
		}
		if (sig == SIGHUP)
			continue;	/* nothing to reload yet */
		log_info("signal %d: shutting down", sig);
		notify_stopping();
		break;
	}

	/* From here on a second SIGTERM/SIGINT ends the process at once. */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_second_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigprocmask(SIG_UNBLOCK, &set, NULL);

	/* The shutdown budget (README): the grace for requests and graders
	 * together, then PGEMBED_STOP_MS + 1 s for the embedded cluster. */
	t0 = clock_ms();
	http_quiesce();		/* no new connections; streams end now */
	worker_signal_all();	/* graders abandon their jobs meanwhile */
	wait_inflight(cfg.shutdown_grace_ms);
	http_stop();
	api_report_jobs_stop();
	outbox_stop();		/* a send in progress is abandoned */
	left = cfg.shutdown_grace_ms - (int)(clock_ms() - t0);
	worker_stop_all(left > 500 ? left : 500);
	if (strcmp(cfg.role, "api") != 0)
		worker_reclaim(conninfo, &reclaimed);
	db_pool_free(pool);
	health_fini();
	pgembed_close(pg, PGEMBED_STOP_MS);
	log_info("stopped after %lld ms", clock_ms() - t0);
	cfg_clear();
	return status;
}
