"""smtpbox.py - a real SMTP server (aiosmtpd) in the test process, and
what it received: for the tests of emails the daemon sends."""
import email
import email.policy
import re
import sys
import threading
import time

try:
    from aiosmtpd.controller import Controller
except ImportError:  # Debian's python3-aiosmtpd beside another python3
    sys.path.append("/usr/lib/python3/dist-packages")
    from aiosmtpd.controller import Controller


class Inbox:
    """What the SMTP server received: (envelope to, parsed message)."""

    def __init__(self):
        self.got = []
        self.cond = threading.Condition()

    async def handle_DATA(self, server, session, envelope):
        msg = email.message_from_bytes(envelope.content,
                                       policy=email.policy.default)
        with self.cond:
            self.got.append((envelope.mail_from, list(envelope.rcpt_tos),
                             msg, envelope.content))
            self.cond.notify_all()
        return "250 OK"

    def _find(self, addr, subject):
        return [g for g in self.got if addr in g[1] and
                (subject is None or subject in str(g[2]["Subject"]))]

    def to(self, addr, subject=None):
        """Messages to addr (whose Subject holds subject)."""
        with self.cond:
            return self._find(addr, subject)

    def wait(self, addr, timeout=60, n=1, subject=None):
        """The n-th message to addr (whose Subject holds subject), or
        None after timeout.  Other emails (an invitation to a user made
        without a password) may go to the same address."""
        deadline = time.time() + timeout
        with self.cond:
            while len(self._find(addr, subject)) < n:
                left = deadline - time.time()
                if left <= 0:
                    break
                self.cond.wait(left)
            found = self._find(addr, subject)
        return found[n - 1] if len(found) >= n else None


def smtp_start(inbox, port):
    c = Controller(inbox, hostname="127.0.0.1", port=port)
    c.start()
    return c


def wait_until(pred, timeout=60, step=0.3):
    deadline = time.time() + timeout
    while True:
        v = pred()
        if v or time.time() > deadline:
            return v
        time.sleep(step)


def parts(msg):
    return {p.get_content_type(): p.get_content() for p in msg.walk()
            if not p.is_multipart()}


def link_in(msg, page):
    """The first URL to page in msg's text part, or None."""
    m = re.search(r"\S+/" + re.escape(page) + r"\?\S+",
                  parts(msg).get("text/plain", ""))
    return m.group(0) if m else None
