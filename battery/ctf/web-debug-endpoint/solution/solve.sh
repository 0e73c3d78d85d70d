#!/bin/sh
# Reference solver: robots.txt names the path it hides.
python3 - <<'PY'
import urllib.request
robots = urllib.request.urlopen("http://127.0.0.1:8087/robots.txt").read().decode()
path = [line.split(":", 1)[1].strip() for line in robots.splitlines() if line.startswith("Disallow")][0]
print(urllib.request.urlopen("http://127.0.0.1:8087" + path).read().decode())
PY
