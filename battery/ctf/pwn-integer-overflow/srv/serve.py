# Airlock original challenge (Apache-2.0): runs /srv/shop for every connection on port 9001.
import socketserver
import subprocess


class Connection(socketserver.BaseRequestHandler):
    def handle(self):
        self.request.settimeout(5)
        process = subprocess.Popen(["/srv/shop"], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        process.stdout.read1(64)
        self.request.sendall(b"How many flags would you like? ")
        try:
            data = self.request.recv(256)
        except OSError:
            data = b""
        output, _ = process.communicate(data, timeout=5)
        self.request.sendall(output)


socketserver.ThreadingTCPServer.allow_reuse_address = True
socketserver.ThreadingTCPServer(("127.0.0.1", 9001), Connection).serve_forever()
