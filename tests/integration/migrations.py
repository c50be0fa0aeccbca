"""migrations.py - fresh, re-run, concurrent, edited (refused), unknown
(refused) migrations, against a real throwaway PostgreSQL.  Cases run
alone by name: python3 tests/integration/migrations.py ahead"""
import glob
import os
import shutil
import subprocess
import tempfile
import types

from cases import case, fixture, run
from harness import COHORTCTL, SRCDIR, Cohortd, Postgres, daemon_env, run_ctl


def builtin():
    return sorted(os.path.basename(p) for p in
                  glob.glob(os.path.join(SRCDIR, "migrations", "*.sql")))


def copy_builtin():
    """A new directory holding a copy of the built-in migrations."""
    tmp = tempfile.mkdtemp()
    for f in builtin():
        shutil.copy(os.path.join(SRCDIR, "migrations", f), tmp)
    return tmp


@fixture
def fresh():
    """The cluster and a database cohortctl migrated: the result of that
    first migrate is kept (migrated)."""
    w = types.SimpleNamespace()
    w.pg = Postgres()
    w.files = builtin()
    w.latest = int(w.files[-1][:4])
    w.db = w.pg.new_database()
    w.env = {"COHORTD_DATABASE_URL": w.pg.url(w.db)}
    w.migrated = run_ctl(["migrate"], w.env)
    return w


@fixture
def extended():
    """The built-in migrations and 9000_extra.sql in a directory (tmp),
    the fresh database migrated from it: the result is kept (r)."""
    w = fresh()
    x = types.SimpleNamespace()
    x.tmp = copy_builtin()
    with open(os.path.join(x.tmp, "9000_extra.sql"), "w") as f:
        f.write("CREATE TABLE extra_probe (x int);\n")
    x.env_edit = dict(w.env, COHORTD_MIGRATIONS_DIR=x.tmp)
    x.r = run_ctl(["migrate"], x.env_edit)
    return x


@case
def fresh_database(t):
    w = fresh()
    pg, db, files, latest = w.pg, w.db, w.files, w.latest
    r = w.migrated
    t.ok(r.returncode == 0, "cohortctl migrate on a fresh database", r.stderr)
    t.eq(pg.psql("SELECT count(*) FROM schema_migrations", db), str(len(files)),
         "every migration recorded once")
    t.eq(pg.psql("SELECT max(version) FROM schema_migrations", db), str(latest),
         "recorded up to the latest version")
    t.ok(pg.psql("SELECT bool_and(length(checksum) = 64) FROM schema_migrations",
                 db) == "t", "each recorded with a SHA-256 checksum")


@case
def rerun(t):
    w = fresh()
    pg, db, files, env = w.pg, w.db, w.files, w.env
    r = run_ctl(["migrate"], env)
    t.ok(r.returncode == 0 and "(0 applied now)" in r.stdout,
         "re-running applies nothing", r.stdout + r.stderr)
    t.eq(pg.psql("SELECT count(*) FROM schema_migrations", db), str(len(files)),
         "re-run records nothing new")


@case
def concurrent(t):
    # Two migrators at once on a new database: the advisory lock serialises
    # them; each migration is applied exactly once and both succeed.
    w = fresh()
    pg, files = w.pg, w.files
    db2 = pg.new_database()
    env2 = {"COHORTD_DATABASE_URL": pg.url(db2)}
    procs = [subprocess.Popen([COHORTCTL, "migrate"], env=daemon_env(env2),
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True) for _ in range(4)]
    outs = [p.communicate(120) for p in procs]
    t.ok(all(p.returncode == 0 for p in procs),
         "four concurrent migrators all succeed", outs)
    applied = sum(int(o[0].split("(")[1].split()[0]) for o in outs
                  if "(" in o[0])
    t.eq(applied, len(files), "together they applied each migration once")


@case
def daemon_ready(t):
    # A daemon started on a database migrated by cohortctl is ready.
    # (Before new_migration: that one puts the database ahead of the
    # binary.)
    w = fresh()
    d = Cohortd(w.pg.url(w.db))
    r = d.client().get("/readyz")
    t.ok(r.status == 200 and r.json["schema"]["version"] == w.latest,
         "readyz reports the current schema version", r)
    d.stop()


@case
def edited(t):
    # An edited, already-applied migration is refused with a clear error.
    w = fresh()
    files, env = w.files, w.env
    tmp = copy_builtin()
    with open(os.path.join(tmp, files[0]), "a") as f:
        f.write("\n-- an innocent-looking edit\n")
    env_edit = dict(env, COHORTD_MIGRATIONS_DIR=tmp)
    r = run_ctl(["migrate"], env_edit)
    t.ok(r.returncode != 0 and "edited" in r.stderr and files[0] in r.stderr,
         "cohortctl refuses an edited migration, naming it", r.stderr)
    rc_lines = subprocess.run(
        [os.path.join(os.environ.get("COHORTD_BUILDDIR", SRCDIR), "cohortd")],
        env=daemon_env(dict(env_edit, COHORTD_LISTEN="127.0.0.1:0",
                            COHORTD_STATE_DIR=tmp)),
        capture_output=True, text=True, timeout=60)
    t.ok(rc_lines.returncode == 1 and "edited" in rc_lines.stderr,
         "cohortd refuses to start on an edited migration", rc_lines.stderr)
    shutil.rmtree(tmp)


@case
def new_migration(t):
    # A new migration in the directory is applied in order.
    w = fresh()
    r = extended().r
    t.ok(r.returncode == 0 and "(1 applied now)" in r.stdout,
         "a new migration file is applied", r.stdout + r.stderr)
    t.eq(w.pg.psql("SELECT count(*) FROM extra_probe", w.db), "0",
         "and its table exists")


@case
def ahead(t):
    # The database now knows a migration the built-in set does not.
    w = fresh()
    extended()
    r = run_ctl(["migrate"], w.env)
    t.ok(r.returncode != 0 and "9000_extra.sql" in r.stderr,
         "a database ahead of the binary is refused", r.stderr)


@case
def failing(t):
    # Last: it adds a broken migration to extended's directory, then
    # removes the directory.
    # A failing migration rolls back entirely and records nothing.
    w = fresh()
    pg, db = w.pg, w.db
    x = extended()
    tmp = x.tmp
    with open(os.path.join(tmp, "9001_broken.sql"), "w") as f:
        f.write("CREATE TABLE half_done (x int);\nSELECT no_such_function();\n")
    r = run_ctl(["migrate"], x.env_edit)
    t.ok(r.returncode != 0 and "9001_broken.sql" in r.stderr,
         "a failing migration is reported by name", r.stderr)
    t.eq(pg.psql("SELECT count(*) FROM pg_tables WHERE tablename = 'half_done'",
                 db), "0", "its partial work was rolled back")
    t.eq(pg.psql("SELECT count(*) FROM schema_migrations WHERE version = 9001",
                 db), "0", "and it is not recorded")
    shutil.rmtree(tmp)


run()
