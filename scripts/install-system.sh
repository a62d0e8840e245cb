#!/usr/bin/env bash
# Installs the Debian packages Cellar needs, only those missing, so a second run costs nothing.
# Usage: scripts/install-system.sh [--test]   (--test adds what only the test suite needs)
set -euo pipefail

need=()
have() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }
for p in runsc fuse3 libfuse3-dev pkg-config make gcc debootstrap ca-certificates procps; do have "$p" || need+=("$p"); done
if [[ "${1:-}" == "--test" ]]; then
  for p in chromium postgresql; do have "$p" || need+=("$p"); done
fi

if ((${#need[@]})); then
  if [[ $(id -u) -ne 0 ]]; then
    echo "cellar: missing Debian packages: ${need[*]} — run this script as root" >&2
    exit 1
  fi
  echo "cellar: installing Debian packages: ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
