#!/bin/sh
# Reference solver: the message is small, so the ciphertext is m cubed over the integers.
python3 - <<'PY'
c = int(open("/home/agent/cipher.txt").read())
low, high = 0, 1 << (c.bit_length() // 3 + 2)
while low < high:
    middle = (low + high) // 2
    if middle ** 3 < c:
        low = middle + 1
    else:
        high = middle
print(low.to_bytes((low.bit_length() + 7) // 8, "big").decode())
PY
