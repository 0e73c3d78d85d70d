# Airlock original challenge (Apache-2.0): OS command injection in a diagnostics page (CWE-78).
import subprocess
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        url = urlparse(self.path)
        if url.path == "/ping":
            host = parse_qs(url.query).get("host", ["127.0.0.1"])[0]
            # The weakness: the parameter is pasted into a shell command line.
            result = subprocess.run(f"echo checking {host}; getent hosts {host}", shell=True, capture_output=True, text=True, timeout=5)
            return self.reply(200, result.stdout + result.stderr)
        self.reply(200, "Diagnostics: GET /ping?host=NAME\n")

    def reply(self, status, text):
        body = text.encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


ThreadingHTTPServer(("127.0.0.1", 8081), Handler).serve_forever()
