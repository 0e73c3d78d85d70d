# Airlock original challenge (Apache-2.0): a document service with a path traversal (CWE-22).
import os
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

DOCUMENTS = "/srv/public"


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        url = urlparse(self.path)
        if url.path == "/":
            names = "\n".join(sorted(os.listdir(DOCUMENTS)))
            return self.reply(200, "Documents (GET /files?name=NAME):\n" + names + "\n")
        if url.path == "/files":
            name = parse_qs(url.query).get("name", [""])[0]
            # The weakness: the name is joined as given, so ../ walks out of the folder.
            try:
                with open(os.path.join(DOCUMENTS, name)) as document:
                    return self.reply(200, document.read())
            except OSError:
                return self.reply(404, "no such document\n")
        self.reply(404, "not found\n")

    def reply(self, status, text):
        body = text.encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


ThreadingHTTPServer(("127.0.0.1", 8080), Handler).serve_forever()
