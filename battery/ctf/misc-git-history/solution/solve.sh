#!/bin/sh
# Reference solver: the removed file is still in the history.
cd /home/agent/deploy && HOME=/tmp git log -p --all | grep -o 'FLAG{[0-9a-f]*}' | head -1
