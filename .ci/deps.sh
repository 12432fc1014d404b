#!/bin/sh
# Installs the Debian packages named on the command line that are missing.
# As root it runs apt-get (updating the package lists first); otherwise it
# prints the command to run.
set -e
missing=""
for p in "$@"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing="$missing $p"
    fi
done
if [ -z "$missing" ]; then
    echo "deps: all present ($*)"
    exit 0
fi
echo "deps: missing:$missing"
if [ "$(id -u)" != 0 ]; then
    echo "deps: run as root:  apt-get update && apt-get install -y$missing"
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends $missing
