# Airlock original challenge (Apache-2.0): a debug endpoint left in production (CWE-489).
import json
import os
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

flag = open("/srv/flag.txt").read().strip()
debug_path = "/_debug_" + os.urandom(4).hex()
pages = {
    "/": "Welcome to Example Logistics. We move what matters.\n",
    "/about": "Founded 2009. Offices in three countries.\n",
    "/robots.txt": f"User-agent: *\nDisallow: {debug_path}\n",
    debug_path: json.dumps({"database": "postgres://app@db/app", "feature_flags": ["beta-tracking"], "admin_token": flag}, indent=2) + "\n",
}


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        text = pages.get(self.path)
        body = (text or "not found\n").encode()
        self.send_response(200 if text else 404)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


ThreadingHTTPServer(("127.0.0.1", 8087), Handler).serve_forever()
