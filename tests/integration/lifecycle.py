"""lifecycle.py - the embedded PostgreSQL cluster's life (first start,
restart, recovery after kill -9, exclusive state directory) and graceful
shutdown (in-flight requests finish, a second signal exits at once).
Cases run alone by name: python3 tests/integration/lifecycle.py kill9_both"""
import os
import signal
import stat
import subprocess
import tempfile
import time
import types

from cases import case, fixture, run
from harness import (Cohortd, Postgres, _demote, pg_bindir, raw_http, run_ctl,
                     status_of)


def postgres_pids(datadir):
    """Pids of postgres processes whose working directory is datadir."""
    pids = []
    for p in os.listdir("/proc"):
        if not p.isdigit():
            continue
        try:
            if os.readlink("/proc/%s/cwd" % p) == datadir and \
                    "postgres" in os.readlink("/proc/%s/exe" % p):
                pids.append(int(p))
        except OSError:
            pass
    return pids


def graders_of(pid):
    """Grader processes started by the supervisor pid (now or orphaned)."""
    found = []
    for p in os.listdir("/proc"):
        if not p.isdigit():
            continue
        try:
            with open("/proc/%s/cmdline" % p, "rb") as f:
                cmd = f.read()
            with open("/proc/%s/stat" % p) as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
        except OSError:
            continue
        if b"--role=grader" in cmd and ppid in (pid, 1):
            found.append(int(p))
    return found


def wait_gone(datadir, timeout=15):
    deadline = time.time() + timeout
    while postgres_pids(datadir) and time.time() < deadline:
        time.sleep(0.05)
    return not postgres_pids(datadir)

@fixture
def embedded():
    """A state directory and cohortd on it with no database and no admin
    token configured: its own cluster under <state>/pg and a generated
    token.  e.d is the daemon running on it now; each case leaves one
    running but the last of them (orphan_postmaster)."""
    e = types.SimpleNamespace()
    e.state = tempfile.mkdtemp(prefix="cohortd-emb-")
    os.chmod(e.state, 0o755)
    e.datadir = os.path.join(e.state, "pg", "data")
    e.tok_path = os.path.join(e.state, "admin-token")
    e.sock = os.path.join(e.state, "pg", "run")
    # First start: no database configured, no admin token configured.
    e.d = Cohortd(state_dir=e.state, admin_token=None)
    e.token = open(e.tok_path).read().strip()
    return e


@fixture
def external_pg():
    return Postgres()


@case
def first_start(t):
    e = embedded()
    d, state, datadir = e.d, e.state, e.datadir
    tok_path, sock = e.tok_path, e.sock
    r = d.client().get("/readyz")
    t.ok(r.status == 200, "embedded cluster: cohortd is ready", r)
    t.ok(os.path.exists(os.path.join(datadir, "PG_VERSION")),
         "cluster initialised under <state>/pg/data")
    t.ok(os.path.getsize(os.path.join(state, "pg", "postgres.log")) > 0,
         "postgres log kept in the state directory")
    st = os.stat(tok_path)
    t.eq(stat.S_IMODE(st.st_mode), 0o600, "admin token file is mode 0600")
    token = open(tok_path).read().strip()
    t.ok(len(token) == 43, "admin token is 32 random bytes, base64url", token)
    t.ok(d.wait_for(lambda o: tok_path in o.get("msg", ""), 1) is not None,
         "the log says where the admin token is")
    r = d.client(token).get("/v1/tenants")
    t.ok(r.status == 200, "the generated token authenticates the platform admin",
         r)
    out = subprocess.run(["psql", "-X", "-At", "-h", sock, "-U", "cohortd",
                          "-d", "cohortd", "-c", "SHOW listen_addresses"],
                         capture_output=True, text=True)
    t.eq(out.stdout.strip(), "", "embedded postgres listens on no TCP address")
    h = subprocess.run(["psql", "-X", "-At", "-h", sock, "-U", "cohortd",
                        "-d", "cohortd", "-c",
                        "SELECT encode(token_hash, 'hex') FROM platform_tokens"],
                       capture_output=True, text=True).stdout
    t.ok(token not in h and len(h.strip()) == 64,
         "only a 32-byte hash of the token is stored", h)
    if os.geteuid() == 0:
        owner = os.stat(datadir).st_uid
        t.ok(owner != 0, "as root, the cluster runs as an unprivileged user")
        pids = postgres_pids(datadir)
        t.ok(pids and all(os.stat("/proc/%d" % p).st_uid != 0 for p in pids),
             "no postgres process runs as root", pids)


@case
def state_dir_exclusive(t):
    e = embedded()
    d, state, datadir = e.d, e.state, e.datadir
    tok_path, sock = e.tok_path, e.sock
    # A second daemon on the same state directory is refused.
    r2 = subprocess.run([os.path.join(os.path.dirname(d.proc.args[0]),
                                      "cohortd")],
                        env={"COHORTD_STATE_DIR": state,
                             "COHORTD_LISTEN": "127.0.0.1:0",
                             "PATH": os.environ["PATH"]},
                        capture_output=True, text=True, timeout=30)
    t.ok(r2.returncode == 1 and "in use" in r2.stderr,
         "a second cohortd on the same state directory is refused", r2.stderr)
    # cohortctl attaches to the running cluster instead of starting one.
    r3 = run_ctl(["migrate"], {"COHORTD_STATE_DIR": state})
    t.ok(r3.returncode == 0 and "(0 applied now)" in r3.stdout,
         "cohortctl migrate attaches to the running cluster", r3.stderr)


@case
def clean_stop_and_restart(t):
    e = embedded()
    d, state, datadir = e.d, e.state, e.datadir
    tok_path, sock = e.tok_path, e.sock
    token = e.token
    # Clean stop: exit 0 and the cluster stops with us.
    rc = d.stop()
    t.eq(rc, 0, "SIGTERM: cohortd exits 0")
    t.ok(wait_gone(datadir, 5), "SIGTERM: the embedded postgres stopped too")
    t.ok(not os.path.exists(os.path.join(datadir, "postmaster.pid")),
         "clean stop leaves no postmaster.pid")

    # Restart keeps the data and the token.
    d = e.d = Cohortd(state_dir=state, admin_token=None)
    t.ok(d.client(token).get("/v1/tenants").status == 200,
         "after restart the same token still works")
    t.eq(open(tok_path).read().strip(), token, "the token file is unchanged")


@case
def kill9_cohortd(t):
    e = embedded()
    d, state, datadir = e.d, e.state, e.datadir
    tok_path, sock = e.tok_path, e.sock
    # kill -9 of cohortd: the cluster follows (parent-death signal) and the
    # next start recovers.
    d.proc.kill()
    d.proc.wait()
    t.ok(wait_gone(datadir, 15), "kill -9 cohortd: postgres does not linger")
    deadline = time.time() + 15
    while graders_of(d.proc.pid) and time.time() < deadline:
        time.sleep(0.1)
    t.ok(not graders_of(d.proc.pid), "kill -9 cohortd: its graders stop too")
    d = e.d = Cohortd(state_dir=state, admin_token=None)
    t.ok(d.client().get("/readyz").status == 200,
         "after kill -9, restart recovers and is ready")


@case
def kill9_both(t):
    e = embedded()
    d, state, datadir = e.d, e.state, e.datadir
    tok_path, sock = e.tok_path, e.sock
    token = e.token
    # kill -9 of both: a stale postmaster.pid is left; restart recovers.
    for p in postgres_pids(datadir):
        os.kill(p, signal.SIGKILL)
    d.proc.kill()
    d.proc.wait()
    wait_gone(datadir, 15)
    t.ok(os.path.exists(os.path.join(datadir, "postmaster.pid")),
         "kill -9 of postgres leaves a stale postmaster.pid")
    d = e.d = Cohortd(state_dir=state, admin_token=None)
    t.ok(d.client(token).get("/readyz").status == 200,
         "after kill -9 of both, restart recovers from the stale pid file")


@case
def orphan_postmaster(t):
    e = embedded()
    d, state, datadir = e.d, e.state, e.datadir
    tok_path, sock = e.tok_path, e.sock
    # A postmaster that outlived its owner (started here by hand, as one
    # left behind would be) is stopped and replaced by cohortd's own.
    d.stop()
    wait_gone(datadir, 10)
    # Through a shell that exits at once: reparented, as a real orphan is.
    subprocess.run(
        ["sh", "-c", '"$0" -D "$1" -k "$2" -c listen_addresses= '
         '>/dev/null 2>&1 &', os.path.join(pg_bindir(), "postgres"), datadir,
         sock], preexec_fn=_demote("postgres"), cwd="/", check=True)
    deadline = time.time() + 10
    while not os.path.exists(os.path.join(sock, ".s.PGSQL.5432")) and \
            time.time() < deadline:
        time.sleep(0.05)
    orphans = postgres_pids(datadir)
    t.ok(len(orphans) > 0, "an orphan postmaster runs")
    d = e.d = Cohortd(state_dir=state, admin_token=None)
    t.ok(d.client().get("/readyz").status == 200 and
         not set(orphans) & set(postgres_pids(datadir)),
         "cohortd stops the orphan and starts its own cluster")
    d.stop()


@case
def in_flight_request(t):
    # Graceful shutdown with a request in flight (external database).
    d = Cohortd(external_pg().url(external_pg().new_database()),
                env={"COHORTD_SHUTDOWN_GRACE": "10000"})
    body = b'{"slug":"late"}'
    s = raw_http(d.port, b"POST /v1/tenants HTTP/1.1\r\nHost: x\r\n"
                 b"Authorization: Bearer " + d.token.encode() +
                 b"\r\nContent-Type: application/json\r\nContent-Length: %d"
                 b"\r\n\r\n%s" % (len(body), body[:5]), read=False)
    time.sleep(0.3)
    d.signal(signal.SIGTERM)
    time.sleep(0.5)
    t.ok(d.proc.poll() is None, "SIGTERM waits for the request in flight")
    refused = False
    try:
        raw_http(d.port, b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n", timeout=2)
    except OSError:
        refused = True
    t.ok(refused, "new connections are refused while draining")
    s.sendall(body[5:])
    s.settimeout(10)
    answer = s.recv(65536)
    s.close()
    t.ok(status_of(answer) in (201, 422),
         "the in-flight request is answered", answer[:200])
    t.eq(d.wait(15), 0, "then cohortd exits 0")


@case
def second_sigterm(t):
    # A second signal exits at once, even with a request still in flight.
    pg = external_pg()
    d = Cohortd(pg.url(pg.new_database()),
                env={"COHORTD_SHUTDOWN_GRACE": "60000"})
    s = raw_http(d.port, b"POST /v1/tenants HTTP/1.1\r\nHost: x\r\n"
                 b"Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{",
                 read=False)
    time.sleep(0.3)
    d.signal(signal.SIGTERM)
    time.sleep(0.3)
    start = time.time()
    d.signal(signal.SIGTERM)
    rc = d.wait(5)
    t.ok(rc is not None and rc != 0 and time.time() - start < 2,
         "a second SIGTERM exits at once", rc)
    s.close()


run()
