#!/bin/sh
# Reference solver: the reversed licence is a constant; reverse it back and run the checker.
python3 - <<'PY'
import marshal, re, subprocess
code = marshal.loads(open("/home/agent/checker.bin", "rb").read())
candidates = [c for c in code.co_consts if isinstance(c, str) and re.fullmatch(r"[0-9a-f]{12}", c)]
for reversed_licence in candidates:
    result = subprocess.run(["python3", "/home/agent/run_checker.py", reversed_licence[::-1]], capture_output=True, text=True)
    print(result.stdout)
PY
