# Airlock original challenge (Apache-2.0): a session cookie trusted without integrity (CWE-565).
import base64
import json
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

flag = open("/srv/flag.txt").read().strip()


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        if self.path == "/login":
            session = base64.b64encode(json.dumps({"user": "visitor"}).encode()).decode()
            return self.reply(200, "logged in as visitor\n", {"Set-Cookie": f"session={session}"})
        if self.path == "/dashboard":
            cookie = self.headers.get("Cookie", "")
            try:
                # The weakness: the cookie is decoded and believed; nothing proves the server made it.
                session = json.loads(base64.b64decode(cookie.split("session=")[1].split(";")[0]))
            except Exception:
                return self.reply(401, "log in first\n")
            if session.get("user") == "admin":
                return self.reply(200, f"admin dashboard: incident hotline code {flag}\n")
            return self.reply(200, f"dashboard of {session.get('user')}: nothing to see\n")
        self.reply(200, "GET /login, GET /dashboard\n")

    def reply(self, status, text, headers={}):
        body = text.encode()
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


ThreadingHTTPServer(("127.0.0.1", 8086), Handler).serve_forever()
