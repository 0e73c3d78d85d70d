#!/usr/bin/env bash
# Installs the Debian packages Airlock's build and tests need, only those missing, as
# set-up steps with time limits (scripts/setup-step.sh).
# Usage: scripts/install-debian-packages.sh PACKAGE...
set -euo pipefail
missing=()
for package in "$@"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "installing Debian packages: ${missing[*]}"
SUDO=()
[ "$(id -u)" -eq 0 ] || SUDO=(sudo)
step="$(dirname "$0")/setup-step.sh"
"$step" debian-update 10 "make debian" -- "${SUDO[@]}" apt-get update
"$step" debian-packages 30 "make debian" -- "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"
