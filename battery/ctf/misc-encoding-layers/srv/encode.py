# Airlock original challenge (Apache-2.0): a secret hidden only by encodings, no encryption (CWE-311).
import base64
import codecs

flag = open("/srv/flag.txt").read().strip()
layer = base64.b64encode(flag.encode()).decode()
layer = codecs.encode(layer, "rot13")
layer = layer.encode().hex()
open("/home/agent/message.txt", "w").write(layer + "\n")
