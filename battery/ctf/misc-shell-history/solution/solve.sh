#!/bin/sh
# Reference solver: reuse the password from the history, with -d.
cd /home/agent
password=$(grep -o 'pass:[0-9a-f]*' .bash_history | head -1)
openssl enc -d -aes-256-cbc -pbkdf2 -pass "$password" -in report.enc
