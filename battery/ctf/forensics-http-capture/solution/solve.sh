#!/bin/sh
# Reference solver: decode every payload and look for Basic credentials.
python3 - <<'PY'
import base64, re
for line in open("/home/agent/capture.txt"):
    payload = bytes.fromhex(line.split()[2]).decode(errors="replace")
    match = re.search(r"Authorization: Basic (\S+)", payload)
    if match:
        print(base64.b64decode(match.group(1)).decode())
PY
