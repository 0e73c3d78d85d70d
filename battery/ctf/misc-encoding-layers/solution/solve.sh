#!/bin/sh
# Reference solver: hex, then ROT13, then base64, undone in reverse order.
python3 -c "
import base64, codecs
text = bytes.fromhex(open('/home/agent/message.txt').read().strip()).decode()
print(base64.b64decode(codecs.decode(text, 'rot13')).decode())
"
