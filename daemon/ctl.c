/*
 * ctl.c - cohortctl, the administrator's command line.
 *
 * Each command opens the database the way cohortd would (the configured
 * URL, or the embedded cluster: attached to if cohortd runs, started and
 * stopped around the command if not), does one thing and exits.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "boot.h"
#include "cfg.h"
#include "err.h"
#include "log.h"
#include "pgembed.h"

#include "config.h"

extern char **environ;

static const char usage[] =
    "usage: cohortctl [--setting=value]... COMMAND [ARG]...\n"
    "commands:\n"
    "  migrate     apply pending database migrations\n"
    "  version     print the version and the built-in schema version";

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

static const struct {
	const char	*name;
	int		(*fn)(int, char **);
} commands[] = {
	{ "migrate", cmd_migrate },
	{ "version", cmd_version },
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
