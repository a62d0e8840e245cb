#!/usr/bin/env bash
# Installs the Debian packages Cellar needs, only those missing, so a second run costs nothing.
# Usage: scripts/install-system.sh [--cluster] [--test]
#   --cluster  the engines of the scaled-out layout (`npm run cluster`): postgresql, redis-server, haproxy
#   --test     what only the test suite needs (chromium; Debian's python3 with dill, cloudpickle, numpy
#              and pandas for the kernel bridge's state-move unit test), and the cluster engines, which tests start
#
# runsc comes from bookworm-backports (20240729: uncompressed checkpoints, systrap, nvproxy);
# the suite is pinned below the default so nothing else is upgraded from it.
set -euo pipefail

RUNSC_SUITE=bookworm-backports
BACKPORTS_LIST=/etc/apt/sources.list.d/cellar-bookworm-backports.sources
BACKPORTS_PIN=/etc/apt/preferences.d/cellar-bookworm-backports

need=()
have() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }
# The backports runsc's version string starts 0.0~2024…; the bookworm one 0.0~2022….
runsc_current() {
  have runsc && dpkg --compare-versions "$(dpkg-query -W -f='${Version}' runsc)" ge "0.0~20240729"
}
# crun is the fallback runtime for GPU kernels whose driver runsc's nvproxy does not know;
# golang-github-containers-common brings the seccomp profile (seccomp.json) its kernels run under.
# python3-pip: images' pip packages (base's ipywidgets, pip layers) are installed by the host's pip.
for p in fuse3 libfuse3-dev pkg-config make gcc debootstrap ca-certificates procps crun golang-github-containers-common python3-pip; do
  have "$p" || need+=("$p")
done
cluster=0 test=0
for arg in "$@"; do
  case $arg in
    --cluster) cluster=1 ;;
    --test) test=1 cluster=1 ;;
    *) echo "usage: $0 [--cluster] [--test]" >&2; exit 2 ;;
  esac
done
if ((test)); then
  # python3-torch is left out on purpose (over 200 MB installed with libtorch): that test skips.
  for p in chromium python3-dill python3-cloudpickle python3-numpy python3-pandas; do have "$p" || need+=("$p"); done
fi
if ((cluster)); then
  for p in postgresql redis-server haproxy; do have "$p" || need+=("$p"); done
fi
need_runsc=0
runsc_current || need_runsc=1

if ((${#need[@]} + need_runsc)); then
  if [[ $(id -u) -ne 0 ]]; then
    echo "cellar: missing Debian packages: ${need[*]} $( ((need_runsc)) && echo "runsc (from $RUNSC_SUITE)") — run this script as root" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  if ((need_runsc)) && [[ ! -f $BACKPORTS_LIST ]]; then
    # Same mirror as the machine's own Debian source, so it works wherever bookworm does.
    mirror=$(grep -rhoE '^(URIs:|deb) +[a-z]+://[^ ]+/debian/?( |$)' /etc/apt/sources.list /etc/apt/sources.list.d/ 2>/dev/null \
      | grep -v security | head -1 | awk '{print $2}' || true)
    mirror=${mirror:-http://deb.debian.org/debian}
    echo "cellar: adding $RUNSC_SUITE from $mirror (pinned: only runsc comes from it)"
    cat >"$BACKPORTS_LIST" <<SRC
Types: deb
URIs: $mirror
Suites: $RUNSC_SUITE
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
    cat >"$BACKPORTS_PIN" <<PIN
Package: *
Pin: release n=$RUNSC_SUITE
Pin-Priority: 100

Package: runsc
Pin: release n=$RUNSC_SUITE
Pin-Priority: 990
PIN
  fi
  apt-get update -qq
  if ((${#need[@]})); then
    echo "cellar: installing Debian packages: ${need[*]}"
    apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
  fi
  if ((need_runsc)); then
    echo "cellar: installing runsc from $RUNSC_SUITE"
    apt-get install -y -qq --no-install-recommends -t "$RUNSC_SUITE" runsc >/dev/null
  fi
fi
