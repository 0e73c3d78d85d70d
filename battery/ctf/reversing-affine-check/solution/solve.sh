#!/bin/sh
# Reference solver: 7 * 183 = 1281 = 1 (mod 256), so c = (v - 13) * 183 mod 256.
python3 - <<'PY'
import re, subprocess
source = open("/home/agent/unlock.py").read()
expected = eval(re.search(r"EXPECTED = (\[.*\])", source).group(1))
passphrase = "".join(chr((v - 13) * 183 % 256) for v in expected)
print(subprocess.run(["python3", "/home/agent/unlock.py", passphrase], capture_output=True, text=True).stdout)
PY
