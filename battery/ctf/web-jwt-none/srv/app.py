# Airlock original challenge (Apache-2.0): JWTs whose signature check honours alg "none" (CWE-347).
import base64
import hashlib
import hmac
import json
import os
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

flag = open("/srv/flag.txt").read().strip()
secret = os.urandom(32)


def encode(part):
    return base64.urlsafe_b64encode(json.dumps(part).encode()).rstrip(b"=").decode()


def decode(text):
    return json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))


def sign(header, payload):
    body = encode(header) + "." + encode(payload)
    mac = hmac.new(secret, body.encode(), hashlib.sha256).digest()
    return body + "." + base64.urlsafe_b64encode(mac).rstrip(b"=").decode()


def verify(token):
    head, body, signature = token.split(".")
    header = decode(head)
    # The weakness: the token chooses how it is checked.
    if header.get("alg") == "none":
        return decode(body)
    expected = sign(header, decode(body)).split(".")[2]
    if not hmac.compare_digest(expected, signature):
        raise ValueError("bad signature")
    return decode(body)


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        if self.path == "/token":
            return self.reply(200, sign({"alg": "HS256", "typ": "JWT"}, {"sub": "guest", "role": "guest"}) + "\n")
        if self.path == "/admin":
            try:
                claims = verify(self.headers.get("Authorization", "").removeprefix("Bearer ").strip())
            except Exception:
                return self.reply(401, "invalid token\n")
            if claims.get("role") != "admin":
                return self.reply(403, "administrators only\n")
            return self.reply(200, f"welcome, administrator: {flag}\n")
        self.reply(200, "GET /token, GET /admin\n")

    def reply(self, status, text):
        body = text.encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


ThreadingHTTPServer(("127.0.0.1", 8084), Handler).serve_forever()
