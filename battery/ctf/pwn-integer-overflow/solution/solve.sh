#!/bin/sh
# Reference solver: 2148 * 1,000,000 = 2,148,000,000 wraps to a negative 32-bit total.
python3 - <<'PY'
import socket
connection = socket.create_connection(("127.0.0.1", 9001), timeout=5)
connection.recv(64)
connection.sendall(b"2148\n")
reply = b""
while chunk := connection.recv(4096):
    reply += chunk
print(reply.decode(errors="replace"))
PY
