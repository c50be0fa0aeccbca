"""harness.py - what every integration test stands on.

A throwaway PostgreSQL cluster started by the test itself (initdb into a
temporary directory, TCP on a free loopback port), the real cohortd binary
started against it, an HTTP client, and TAP output for automake's driver.
Nothing is mocked: tests talk to the daemon over HTTP and to PostgreSQL
over libpq (psql).
"""
import gzip
import http.client
import json
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

from oavalidate import Document

SRCDIR = os.environ.get("COHORTD_SRCDIR") or os.path.abspath(
    os.path.join(os.path.dirname(__file__), "..", ".."))
BUILDDIR = os.environ.get("COHORTD_BUILDDIR") or SRCDIR
COHORTD = os.path.join(BUILDDIR, "cohortd")
COHORTCTL = os.path.join(BUILDDIR, "cohortctl")
ADMIN_TOKEN = "test-platform-admin-token-0123456789"


# ---- TAP ------------------------------------------------------------------

class TAP:
    """Minimal TAP producer: plan printed at the end."""

    def __init__(self):
        self.n = 0
        self.failed = 0
        sys.stdout.reconfigure(line_buffering=True)

    def ok(self, cond, name, diag=None):
        self.n += 1
        print(("ok %d - %s" if cond else "not ok %d - %s") % (self.n, name))
        if not cond:
            self.failed += 1
            if diag is not None:
                for line in str(diag).splitlines()[:40]:
                    print("# " + line)
        return cond

    def eq(self, got, want, name):
        return self.ok(got == want, name, "got:  %r\nwant: %r" % (got, want))

    def diag(self, msg):
        for line in str(msg).splitlines():
            print("# " + line)

    def done(self):
        if Contract.checked:
            self.diag("%d responses checked against api/openapi.json"
                      % Contract.checked)
        print("1..%d" % self.n)



# The password every test user gets.
PW = "correct horse battery"


def login_response(c, slug, email, pw=PW, headers=None):
    """POST /v1/auth/login from client c: the response, whatever it is."""
    return c.post("/v1/auth/login", {"tenant": slug, "email": email,
                                     "password": pw}, headers=headers)


def token_for(d, slug, email, pw=PW):
    """A session token of daemon d for email of tenant slug."""
    r = login_response(d.client(), slug, email, pw)
    assert r.status == 200, r
    return r.json["token"]


def login(d, slug, email, pw=PW):
    """A client of daemon d logged in as email of tenant slug."""
    return d.client(token_for(d, slug, email, pw))


def setup_tenant(d, slug):
    """Tenant slug with its admin (admin@SLUG.test); the admin's client."""
    r = d.admin().post("/v1/tenants", {"slug": slug, "name": slug,
                                       "admin": {"email": "admin@%s.test" %
                                                 slug, "name": "Admin",
                                                 "password": PW}})
    assert r.status == 201, r
    return login(d, slug, "admin@%s.test" % slug)

def enrolled_learner(d, adm, program_id, email, name, slug="acme"):
    """A cohort of program_id open from 2026 to 2099, made by adm, with a
    new learner (email, name) enrolled in it: the learner's client of
    daemon d, logged in."""
    coh = adm.post("/v1/cohorts", {"program_id": program_id, "name": "C",
                                   "starts_at": "2026-01-01T00:00:00Z",
                                   "ends_at": "2099-01-01T00:00:00Z"}).json
    u = adm.post("/v1/users", {"email": email, "name": name,
                               "role": "learner", "password": PW}).json
    adm.post("/v1/cohorts/%s/enrollments" % coh["id"], {"user_id": u["id"]})
    return login(d, slug, email)


def main(fn):
    """Run fn(tap); an exception fails the file visibly, not silently."""
    tap = TAP()
    Contract.tap = tap
    try:
        fn(tap)
    except Exception as e:  # noqa: BLE001 - report and bail out
        import traceback
        tap.ok(False, "unexpected exception: %r" % (e,), traceback.format_exc())
    finally:
        Process.stop_all()
    tap.done()


# ---- processes ------------------------------------------------------------

def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def pg_bindir():
    try:
        d = subprocess.run(["pg_config", "--bindir"], capture_output=True,
                           text=True, check=True).stdout.strip()
        if os.access(os.path.join(d, "postgres"), os.X_OK):
            return d
    except (OSError, subprocess.CalledProcessError):
        pass
    cands = sorted(d for d in os.listdir("/usr/lib/postgresql"))
    return "/usr/lib/postgresql/%s/bin" % cands[-1]


def _demote(user):
    """preexec for running PostgreSQL as an unprivileged user under root."""
    if os.geteuid() != 0:
        return None
    pw = pwd.getpwnam(user)

    def fn():
        os.setgroups([])
        os.setgid(pw.pw_gid)
        os.setuid(pw.pw_uid)
    return fn


class Process:
    live = []

    @classmethod
    def stop_all(cls):
        for p in list(cls.live):
            try:
                p.stop()
            except Exception:  # noqa: BLE001
                pass


class Postgres(Process):
    """A throwaway cluster on a free loopback port."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="cohortd-pg-")
        self.port = free_port()
        self.bindir = pg_bindir()
        pre = _demote("postgres")
        if os.geteuid() == 0:
            pw = pwd.getpwnam("postgres")
            os.chown(self.dir, pw.pw_uid, pw.pw_gid)
        data = os.path.join(self.dir, "data")
        subprocess.run([os.path.join(self.bindir, "initdb"), "-D", data,
                        "-U", "postgres", "--auth=trust", "--no-locale",
                        "-E", "UTF8", "--no-sync", "--no-instructions"],
                       check=True, capture_output=True, preexec_fn=pre)
        self.log = open(os.path.join(self.dir, "log"), "w")
        if os.geteuid() == 0:
            os.chown(self.log.name, pwd.getpwnam("postgres").pw_uid, -1)
        self.proc = subprocess.Popen(
            [os.path.join(self.bindir, "postgres"), "-D", data, "-k", self.dir,
             "-c", "listen_addresses=127.0.0.1", "-p", str(self.port),
             "-c", "fsync=off", "-c", "max_connections=300"],
            stdout=self.log, stderr=self.log, preexec_fn=pre)
        Process.live.append(self)
        deadline = time.time() + 30
        while subprocess.run([os.path.join(self.bindir, "pg_isready"), "-q",
                              "-h", "127.0.0.1", "-p", str(self.port)]).returncode:
            if time.time() > deadline or self.proc.poll() is not None:
                raise RuntimeError("test postgres did not start")
            time.sleep(0.05)
        self.ndb = 0

    def url(self, db="postgres", user="postgres"):
        return "postgresql://%s@127.0.0.1:%d/%s" % (user, self.port, db)

    def new_database(self):
        self.ndb += 1
        name = "cohortd_t%d" % self.ndb
        self.psql("CREATE DATABASE %s" % name)
        return name

    def psql(self, sql, db="postgres", check=True):
        """Run SQL with psql; returns stdout (unaligned, tuples only)."""
        r = subprocess.run([os.path.join(self.bindir, "psql"), "-X", "-q",
                            "-v", "ON_ERROR_STOP=1", "-At", "-d", self.url(db),
                            "-c", sql], capture_output=True, text=True)
        if check and r.returncode != 0:
            raise RuntimeError("psql: %s" % r.stderr)
        return r.stdout.strip() if r.returncode == 0 else None

    def stop(self):
        if self in Process.live:
            Process.live.remove(self)
        self.proc.send_signal(signal.SIGINT)
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)


def daemon_env(extra=None):
    """A clean environment: only the settings a test chooses."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("COHORTD_")}
    env.update(extra or {})
    return env


class Cohortd(Process):
    """The real daemon, on a free port, with its log captured."""

    def __init__(self, database_url=None, state_dir=None, env=None,
                 args=(), wait=True, admin_token=ADMIN_TOKEN, quiet=False):
        """quiet: log to a file instead of parsing it (benchmarks)."""
        self.state_dir = state_dir or tempfile.mkdtemp(prefix="cohortd-st-")
        self.quiet_port = free_port() if quiet else None
        e = {"COHORTD_LISTEN": "127.0.0.1:%d" % (self.quiet_port or 0),
             "COHORTD_STATE_DIR": self.state_dir,
             "COHORTD_HTTP_THREADS": "4"}
        if admin_token:
            e["COHORTD_ADMIN_TOKEN"] = admin_token
        if database_url:
            e["COHORTD_DATABASE_URL"] = database_url
        e.update(env or {})
        self.token = admin_token
        self.lines = []
        self.cond = threading.Condition()
        errf = subprocess.PIPE
        if quiet:
            errf = open(os.path.join(self.state_dir, "cohortd.log"), "w")
        self.proc = subprocess.Popen([COHORTD] + list(args),
                                     env=daemon_env(e), stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL,
                                     stderr=errf, text=True)
        Process.live.append(self)
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.port = None
        if quiet:
            errf.close()
            self.port = self.quiet_port
            deadline = time.time() + 90
            while time.time() < deadline and self.proc.poll() is None:
                try:
                    if self.client().get("/healthz").status == 200:
                        return
                except OSError:
                    time.sleep(0.1)
            raise RuntimeError("cohortd did not start; see %s/cohortd.log"
                               % self.state_dir)
        self.reader.start()
        if wait:
            line = self.wait_for(lambda o: o.get("msg") == "listening", 90)
            if line is None:
                raise RuntimeError("cohortd did not start:\n" + self.log_text())
            self.port = line["port"]

    def _read(self):
        for raw in self.proc.stderr:
            try:
                obj = json.loads(raw)
            except ValueError:
                obj = {"msg": raw.rstrip("\n"), "raw": True}
            with self.cond:
                self.lines.append(obj)
                self.cond.notify_all()
        with self.cond:
            self.cond.notify_all()

    def wait_for(self, pred, timeout=30):
        deadline = time.time() + timeout
        with self.cond:
            seen = 0
            while True:
                for o in self.lines[seen:]:
                    if pred(o):
                        return o
                seen = len(self.lines)
                left = deadline - time.time()
                if left <= 0 or (self.proc.poll() is not None
                                 and not self.reader.is_alive()):
                    return None
                self.cond.wait(min(left, 0.2))

    def log_text(self):
        with self.cond:
            return "\n".join(json.dumps(o) for o in self.lines[-30:])

    def client(self, token=None):
        return Client(self.port, token)

    def admin(self):
        return Client(self.port, self.token)

    def signal(self, sig):
        self.proc.send_signal(sig)

    def wait(self, timeout=30):
        """The exit status, once the log has been read to its end too (a
        test reads the last lines next), or None after timeout."""
        try:
            code = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            return None
        if self.reader.is_alive():
            self.reader.join(5)
        return code

    def stop(self):
        if self in Process.live:
            Process.live.remove(self)
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            if self.wait(30) is None:
                self.proc.kill()
                self.proc.wait()
        if self.reader.is_alive():
            self.reader.join(5)
        return self.proc.returncode


def run_ctl(args, env=None, timeout=120):
    return subprocess.run([COHORTCTL] + list(args), env=daemon_env(env),
                          capture_output=True, text=True, timeout=timeout)


# ---- HTTP -----------------------------------------------------------------

class Contract:
    """Every response a test sees is checked against the OpenAPI document
    (status documented for the operation, Content-Type declared, body
    valid against the response schema).  A mismatch is a failed TAP case
    at the request that got it, so the test that made it fails.
    COHORTD_RECORD_RESPONSES names a directory to which every response is
    appended (a JSON line each, per test file), for work on the document."""
    doc = None
    tap = None
    checked = 0
    record = os.environ.get("COHORTD_RECORD_RESPONSES")
    lock = threading.Lock()  # tests send requests from many threads

    @classmethod
    def check(cls, method, path, status, headers, body):
        with cls.lock:
            return cls._check(method, path, status, headers, body)

    @classmethod
    def _check(cls, method, path, status, headers, body):
        if cls.doc is None:
            cls.doc = Document.load(os.path.join(SRCDIR, "api",
                                                 "openapi.json"))
        ctype = encoding = None
        for k, v in headers:
            if k.lower() == "content-type":
                ctype = v
            elif k.lower() == "content-encoding":
                encoding = v.strip().lower()
        if encoding == "gzip" and body:
            body = gzip.decompress(body)
        if cls.record:
            name = os.path.basename(sys.argv[0]) + ".jsonl"
            with open(os.path.join(cls.record, name), "a") as f:
                f.write(json.dumps({"method": method,
                    "path": path, "status": status, "ctype": ctype,
                    "body": body.decode("utf-8", "replace")}) + "\n")
        errs = cls.doc.check_response(method, path, status, ctype, body)
        if cls.doc.operation(method, path)[1] is not None:
            cls.checked += 1
        if errs and cls.tap is not None:
            cls.tap.ok(False, "%s %s: response %d matches the document"
                       % (method, path.split("?")[0], status),
                       "\n".join(errs[:20]) + "\nbody: %s"
                       % body[:400].decode("utf-8", "replace"))
        return errs


class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = {k.lower(): v for k, v in headers}
        self.body = body
        self._json = None

    @property
    def json(self):
        if self._json is None and self.body:
            self._json = json.loads(self.body)
        return self._json

    def header(self, name):
        return self.headers.get(name.lower())

    def is_problem(self, status):
        """A well-formed RFC 9457 problem document with this status."""
        try:
            j = self.json
        except ValueError:
            return False
        return (self.status == status
                and self.header("content-type") == "application/problem+json"
                and isinstance(j, dict) and j.get("status") == status
                and isinstance(j.get("type"), str)
                and isinstance(j.get("title"), str)
                and isinstance(j.get("detail"), str))

    def __repr__(self):
        return "<%d %s>" % (self.status, self.body[:300])


class Client:
    """Keep-alive HTTP/1.1 client for one daemon."""

    def __init__(self, port, token=None):
        self.port = port
        self.token = token
        self.conn = None

    def request(self, method, path, body=None, headers=None, raw=None,
                ctype="application/json"):
        h = {}
        if self.token:
            h["Authorization"] = "Bearer " + self.token
        data = raw
        if body is not None:
            data = json.dumps(body).encode()
        if data is not None and ctype:
            h["Content-Type"] = ctype
        h.update(headers or {})
        for attempt in (0, 1):
            if self.conn is None:
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port,
                                                       timeout=60)
            try:
                self.conn.request(method, path, body=data, headers=h)
                r = self.conn.getresponse()
                out = Response(r.status, r.getheaders(), r.read())
                Contract.check(method, path, out.status, r.getheaders(),
                               out.body)
                if out.header("connection") == "close":
                    self.close()
                return out
            except (http.client.RemoteDisconnected, BrokenPipeError,
                    ConnectionResetError):
                self.close()
                if attempt:
                    raise

    def close(self):
        if self.conn is not None:
            self.conn.close()
        self.conn = None

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, body=None, **kw):
        return self.request("POST", path, body=body, **kw)

    def patch(self, path, body=None, **kw):
        return self.request("PATCH", path, body=body, **kw)

    def put(self, path, body=None, **kw):
        return self.request("PUT", path, body=body, **kw)

    def delete(self, path, **kw):
        return self.request("DELETE", path, **kw)


def raw_http(port, data, timeout=10, read=True):
    """Send raw bytes; return what the server answered (bytes)."""
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    try:
        s.sendall(data)
        if not read:
            return s
        out = b""
        while True:
            try:
                chunk = s.recv(65536)
            except socket.timeout:
                break
            if not chunk:
                break
            out += chunk
        return out
    finally:
        if read:
            s.close()


def status_of(raw):
    m = re.match(rb"HTTP/1\.[01] (\d{3})", raw)
    return int(m.group(1)) if m else None
