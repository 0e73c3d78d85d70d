#!/bin/sh
# Reference solver: c1 ^ p1 is the keystream; apply it to c2.
python3 - <<'PY'
c1 = open("/home/agent/intercept/message1.bin", "rb").read()
c2 = open("/home/agent/intercept/message2.bin", "rb").read()
p1 = open("/home/agent/intercept/message1.txt", "rb").read()
print(bytes(a ^ b ^ c for a, b, c in zip(c1, c2, p1)).decode(errors="replace"))
PY
