# Airlock original challenge (Apache-2.0): insecure direct object reference (CWE-639).
import os
import secrets
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

flag = open("/srv/flag.txt").read().strip()
first = int.from_bytes(os.urandom(2), "big") % 5000 + 1000
owners = {first + i: "guest" for i in range(3)}
admin_invoice = first + 3 + int.from_bytes(os.urandom(1), "big") % 40
owners[admin_invoice] = "admin"
invoices = {number: f"Invoice {number} for {owner}: 120.00 EUR\n" for number, owner in owners.items()}
invoices[admin_invoice] = f"Invoice {admin_invoice} for admin: settlement code {flag}\n"
users = {"guest": "guest", "admin": secrets.token_hex(16)}
sessions = {}


class Handler(BaseHTTPRequestHandler):
    def user(self):
        cookie = self.headers.get("Cookie", "")
        token = cookie.split("session=")[-1].split(";")[0] if "session=" in cookie else ""
        return sessions.get(token)

    def do_POST(self):
        if urlparse(self.path).path != "/login":
            return self.reply(404, "not found\n")
        form = parse_qs(self.rfile.read(int(self.headers.get("Content-Length", "0"))).decode())
        name, password = form.get("user", [""])[0], form.get("password", [""])[0]
        if users.get(name) != password:
            return self.reply(403, "wrong user or password\n")
        token = secrets.token_hex(16)
        sessions[token] = name
        mine = [n for n, owner in owners.items() if owner == name]
        self.reply(200, f"welcome {name}; your invoices: {mine}\n", {"Set-Cookie": f"session={token}"})

    def do_GET(self):
        url = urlparse(self.path)
        if url.path == "/invoice":
            if not self.user():
                return self.reply(401, "log in first\n")
            # The weakness: any logged-in user may read any invoice by its number.
            number = int(parse_qs(url.query).get("id", ["0"])[0] or 0)
            return self.reply(200, invoices.get(number, "no such invoice\n"))
        self.reply(200, "Billing portal: POST /login (user, password), GET /invoice?id=N\n")

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


ThreadingHTTPServer(("127.0.0.1", 8082), Handler).serve_forever()
