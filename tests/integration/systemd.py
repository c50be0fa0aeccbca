"""systemd.py - cohortd as a systemd service.

The unit in contrib/systemd passes `systemd-analyze verify` with nothing to
say.  Started with NOTIFY_SOCKET (as a Type=notify unit is), cohortd says
READY=1 once it serves requests, and STOPPING=1 on SIGTERM; every message
comes from cohortd itself, never from the embedded PostgreSQL, which
would otherwise speak for it."""
import os
import shutil
import socket
import struct
import subprocess
import tempfile
import time

from cases import case, run
from harness import COHORTD, SRCDIR, Cohortd

UNIT = os.path.join(SRCDIR, "contrib", "systemd", "cohortd.service")


def receive(sock, want, timeout):
    """Messages (sender pid, {key: value}) until one has key want."""
    got = []
    deadline = time.time() + timeout
    while time.time() < deadline:
        sock.settimeout(max(0.1, deadline - time.time()))
        try:
            data, anc, _, _ = sock.recvmsg(4096, socket.CMSG_SPACE(12))
        except socket.timeout:
            break
        pid = None
        for level, kind, raw in anc:
            if level == socket.SOL_SOCKET and kind == socket.SCM_CREDENTIALS:
                pid = struct.unpack("iii", raw[:12])[0]
        kv = dict(line.split("=", 1) for line in data.decode().split("\n")
                  if "=" in line)
        got.append((pid, kv))
        if want in kv:
            break
    return got


@case
def unit_file(t):
    tool = shutil.which("systemd-analyze")
    if t.ok(tool is not None, "systemd-analyze is installed"):
        d = tempfile.mkdtemp(prefix="cohortd-unit-")
        unit = os.path.join(d, "cohortd.service")
        with open(UNIT) as f, open(unit, "w") as out:
            out.write(f.read().replace("ExecStart=/usr/bin/cohortd",
                                       "ExecStart=" + COHORTD))
        r = subprocess.run([tool, "verify", "--man=no", unit],
                           capture_output=True, text=True)
        t.ok(r.returncode == 0 and not (r.stdout + r.stderr).strip(),
             "the unit passes systemd-analyze verify with nothing to say",
             r.stdout + r.stderr)


@case
def notify(t):
    # Starts and stops its own daemon (with the embedded cluster).
    path = os.path.join(tempfile.mkdtemp(prefix="cohortd-notify-"), "notify")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
    sock.bind(path)
    # The embedded cluster (no database URL): it inherits our environment.
    state = tempfile.mkdtemp(prefix="cohortd-st-")
    os.chmod(state, 0o755)      # the postgres user reaches its data
    d = Cohortd(state_dir=state, env={"NOTIFY_SOCKET": path,
                                      "COHORTD_WORKERS": "1"})
    msgs = receive(sock, "READY", 60)
    ready = [kv for _, kv in msgs if kv.get("READY") == "1"]
    t.ok(ready and ready[0].get("MAINPID") == str(d.proc.pid) and
         str(d.port) in ready[0].get("STATUS", ""),
         "READY=1 with cohortd's pid and the port it serves", msgs)
    t.eq(d.client().get("/healthz").status, 200, "and it serves requests")
    d.proc.send_signal(15)
    msgs += receive(sock, "STOPPING", 30)
    t.ok(any(kv.get("STOPPING") == "1" for _, kv in msgs),
         "STOPPING=1 on SIGTERM", msgs)
    d.stop()
    msgs += receive(sock, "-", 1)
    t.ok(msgs and all(pid == d.proc.pid for pid, _ in msgs),
         "every message came from cohortd itself",
         [(pid, kv) for pid, kv in msgs])
    sock.close()


run()
