#!/bin/sh
# Reference solver: the removed file is still in the history.
cd /work/deploy && HOME=/tmp git log -p --all | grep -o 'FLAG{[0-9a-f]*}' | head -1
