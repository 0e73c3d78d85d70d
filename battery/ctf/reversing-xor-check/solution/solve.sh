#!/bin/sh
# Reference solver: try every one-byte key over the program's bytes and look for a flag.
python3 - <<'PY'
import re
data = open("/home/agent/vault", "rb").read()
for key in range(256):
    text = bytes(b ^ key for b in data)
    found = re.search(rb"FLAG\{[0-9a-f]{16}\}", text)
    if found:
        print(found.group().decode())
        break
PY
