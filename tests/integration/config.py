"""config.py - bad configuration stops startup with one clear message naming
the setting; --help and the README are generated from the one table."""
import os
import subprocess

from cases import case, run
from harness import COHORTD, SRCDIR, Postgres, daemon_env, free_port


def start_fails(env, args=()):
    """Run cohortd expecting it to refuse to start; return (rc, stderr)."""
    try:
        r = subprocess.run([COHORTD] + list(args), env=daemon_env(env),
                           capture_output=True, text=True, timeout=60)
    except subprocess.TimeoutExpired:
        return None, "still running after 60 s"
    return r.returncode, r.stderr


@case
def bad_settings(t):
    cases = [
        ({"COHORTD_LISTEN_ADDR": "x"}, (), "COHORTD_LISTEN_ADDR",
         "unknown environment setting"),
        ({"COHORTD_HTTP_THREADS": "9999"}, (), "COHORTD_HTTP_THREADS",
         "out-of-range thread count"),
        ({"COHORTD_HTTP_THREADS": "two"}, (), "COHORTD_HTTP_THREADS",
         "non-numeric thread count"),
        ({"COHORTD_LOG_LEVEL": "loud"}, (), "COHORTD_LOG_LEVEL",
         "unknown log level"),
        ({"COHORTD_BODY_LIMIT": "1G"}, (), "COHORTD_BODY_LIMIT",
         "malformed size"),
        ({}, ("--no-such-flag=1",), "--no-such-flag", "unknown flag"),
        ({"COHORTD_LISTEN": "nonsense"}, (), "COHORTD_LISTEN",
         "listen address without a port"),
        ({"COHORTD_DATABASE_URL":
          "postgresql://nobody@127.0.0.1:%d/none" % free_port(),
          "COHORTD_STATE_DIR": "/tmp/cohortd-cfgtest"}, (),
         "COHORTD_DATABASE_URL", "unreachable database"),
    ]
    for env, args, name, what in cases:
        env = dict({"COHORTD_STATE_DIR": "/tmp/cohortd-cfgtest"}, **env)
        rc, err = start_fails(env, args)
        lines = [ln for ln in err.splitlines() if ln.strip()]
        t.ok(rc == 1 and len(lines) == 1 and name in lines[0],
             "%s stops startup with one line naming %s" % (what, name),
             "rc=%r stderr=%r" % (rc, err))


@case
def busy_port(t):
    # A port already taken: startup fails naming COHORTD_LISTEN.
    import socket
    pg = Postgres()
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen(1)
    busy = s.getsockname()[1]
    rc, err = start_fails({"COHORTD_DATABASE_URL": pg.url(pg.new_database()),
                           "COHORTD_ADMIN_TOKEN": "x" * 20,
                           "COHORTD_STATE_DIR": "/tmp/cohortd-cfgtest",
                           "COHORTD_LISTEN": "127.0.0.1:%d" % busy})
    s.close()
    t.ok(rc == 1 and "COHORTD_LISTEN" in err, "a busy port names COHORTD_LISTEN",
         err)


@case
def help_text(t):
    # --help comes from the table: every variable and its flag appear.
    out = subprocess.run([COHORTD, "--help"], capture_output=True,
                         text=True).stdout
    for var in ("COHORTD_LISTEN", "COHORTD_DATABASE_URL", "COHORTD_STATE_DIR",
                "COHORTD_ADMIN_TOKEN", "COHORTD_HTTP_THREADS",
                "COHORTD_WORKERS", "COHORTD_LOG_LEVEL"):
        t.ok(var in out, "--help documents %s" % var)
    t.ok("127.0.0.1:8080" in out, "--help shows the default listen address")


@case
def readme_table(t):
    # The README's configuration table is the generated one, verbatim.
    md = subprocess.run([COHORTD, "--config-markdown"], capture_output=True,
                        text=True).stdout
    with open(os.path.join(SRCDIR, "README.md")) as f:
        readme = f.read()
    t.ok(md.strip() and md.strip() in readme,
         "README.md carries the table `cohortd --config-markdown` prints",
         "regenerate it with: ./cohortd --config-markdown")


@case
def flag_beats_env(t):
    # Command line beats environment: the flag's bad value is the one named.
    rc, err = start_fails({"COHORTD_HTTP_THREADS": "4"},
                          ("--http-threads=0x",))
    t.ok(rc == 1 and "command line" in err,
         "a flag overrides the environment and is named as the source", err)


run()
