"""hookbox.py - a real HTTP receiver of webhooks in the test process: it
records each delivery, answers the status it is told, and checks
signatures as the Standard Webhooks specification says (HMAC-SHA256 of
"id.timestamp.body" under the endpoint's whsec_ secret)."""
import base64
import hashlib
import hmac
import http.server
import json
import threading
import time


class Receiver:
    """An HTTP server that records each delivery and answers self.status."""

    def __init__(self):
        self.got = []
        self.status = 200
        self.secret = None
        self.cond = threading.Condition()
        rec = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                with rec.cond:
                    status = rec.status
                    rec.got.append({
                        "id": self.headers.get("webhook-id"),
                        "ts": self.headers.get("webhook-timestamp"),
                        "sig": self.headers.get("webhook-signature"),
                        "body": body, "answered": status})
                    rec.cond.notify_all()
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *a):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0),
                                                      Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def verified(self, g):
        key = base64.b64decode(self.secret[len("whsec_"):])
        signed = b"%s.%s.%s" % (g["id"].encode(), g["ts"].encode(), g["body"])
        want = base64.b64encode(hmac.new(key, signed, hashlib.sha256)
                                .digest()).decode()
        return any(s == "v1," + want for s in (g["sig"] or "").split())

    def delivered(self):
        """Deliveries answered 2xx, as (type, data)."""
        with self.cond:
            return [(json.loads(g["body"])["type"],
                     json.loads(g["body"])["data"]) for g in self.got
                    if g["answered"] == 200]

    def wait(self, pred, timeout=60):
        deadline = time.time() + timeout
        with self.cond:
            while not pred(self) and time.time() < deadline:
                self.cond.wait(max(0.1, deadline - time.time()))
            return pred(self)
