#!/bin/sh
# Reference solver: find the odd query parameter and decode it.
python3 - <<'PY'
import base64, glob, gzip, re
for name in sorted(glob.glob("/home/agent/logs/*.gz")):
    for line in gzip.open(name, "rt"):
        match = re.search(r"\?d=([A-Za-z0-9+/=]+)", line)
        if match:
            print(base64.b64decode(match.group(1)).decode())
PY
