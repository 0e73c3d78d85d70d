# Airlock original challenge (Apache-2.0): runs /srv/notes for every connection on port 9002.
import socketserver
import subprocess
import threading


class Connection(socketserver.BaseRequestHandler):
    def handle(self):
        process = subprocess.Popen(["/srv/notes"], stdin=subprocess.PIPE, stdout=self.request.makefile("wb", buffering=0))
        reader = self.request.makefile("rb", buffering=0)
        timer = threading.Timer(30, process.kill)
        timer.start()
        try:
            for line in reader:
                process.stdin.write(line)
                process.stdin.flush()
        except OSError:
            pass
        finally:
            timer.cancel()
            process.kill()


socketserver.ThreadingTCPServer.allow_reuse_address = True
socketserver.ThreadingTCPServer(("127.0.0.1", 9002), Connection).serve_forever()
