#!/bin/sh
# Reference solver: the ZIP starts at its first local header after the PNG's IEND.
python3 - <<'PY'
import io, zipfile
data = open("/home/agent/logo.png", "rb").read()
start = data.index(b"PK\x03\x04", data.index(b"IEND"))
with zipfile.ZipFile(io.BytesIO(data[start:])) as bundle:
    for name in bundle.namelist():
        print(bundle.read(name).decode())
PY
