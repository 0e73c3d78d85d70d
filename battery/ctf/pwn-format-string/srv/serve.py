# Airlock original challenge (Apache-2.0): runs /srv/echo for every connection on port 9003.
import socketserver
import subprocess


class Connection(socketserver.BaseRequestHandler):
    def handle(self):
        self.request.settimeout(5)
        try:
            data = self.request.recv(256)
        except OSError:
            return
        result = subprocess.run(["/srv/echo"], input=data, capture_output=True, timeout=5)
        self.request.sendall(result.stdout or b"(no output)\n")


socketserver.ThreadingTCPServer.allow_reuse_address = True
socketserver.ThreadingTCPServer(("127.0.0.1", 9003), Connection).serve_forever()
