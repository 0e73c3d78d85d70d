# Airlock original challenge (Apache-2.0): SQL injection in a login form (CWE-89).
import os
import sqlite3
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

flag = open("/srv/flag.txt").read().strip()
database = sqlite3.connect(":memory:", check_same_thread=False)
database.execute("CREATE TABLE staff (name TEXT, password TEXT)")
database.execute("INSERT INTO staff VALUES ('operations', ?)", (os.urandom(16).hex(),))


class Handler(BaseHTTPRequestHandler):
    def do_POST(self):
        form = parse_qs(self.rfile.read(int(self.headers.get("Content-Length", "0"))).decode())
        name, password = form.get("user", [""])[0], form.get("password", [""])[0]
        # The weakness: the form's values become part of the SQL text.
        query = f"SELECT name FROM staff WHERE name = '{name}' AND password = '{password}'"
        try:
            row = database.execute(query).fetchone()
        except sqlite3.Error as error:
            return self.reply(500, f"database error: {error}\n")
        if row:
            return self.reply(200, f"welcome {row[0]}; today's access code is {flag}\n")
        self.reply(403, "wrong user or password\n")

    def do_GET(self):
        self.reply(200, "Staff portal: POST /login (user, password)\n")

    def reply(self, status, text):
        body = text.encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


ThreadingHTTPServer(("127.0.0.1", 8085), Handler).serve_forever()
