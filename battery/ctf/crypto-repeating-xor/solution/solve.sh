#!/bin/sh
# Reference solver: the known start gives the key bytes; try each key length up to 8.
python3 - <<'PY'
known = b"INCIDENT REPORT"
data = open("/home/agent/report.enc", "rb").read()
for size in range(1, 9):
    key = bytes(data[i] ^ known[i] for i in range(size))
    text = bytes(b ^ key[i % size] for i, b in enumerate(data))
    if text.startswith(known):
        print(text.decode(errors="replace"))
        break
PY
