#!/usr/bin/env bash
# Builds the base image root filesystem that kernels boot from, as images/base.json says:
# Debian bookworm (minbase) + Python 3, ipykernel, numpy, pandas, matplotlib, scipy, scikit-learn,
# seaborn, statsmodels, plotly, altair, folium, tqdm, requests, dill, cloudpickle; and its `pip`
# packages where bookworm's are too old (ipywidgets 8: bookworm's 6.0 is older than the web app's
# widget manager speaks), installed from images/base.lock.json by install-root-pip.ts.
#
#   scripts/build-base-image.sh [DEST]
#
# DEST defaults to ${CELLAR_CACHE:-/var/cache/cellar}/images/base/rootfs. The result is cached:
# a stamp inside the rootfs records a hash of the package list and this script's version, and a
# matching stamp makes the script exit at once. A build happens in a temporary directory next to
# DEST and is renamed into place only when complete, so a half-built tree is never used.
set -euo pipefail

# Bump when the build steps change in a way that should rebuild existing images.
SCRIPT_VERSION=4
REPO="$(cd "$(dirname "$0")/.." && pwd)"
SPEC="$REPO/images/base.json"
LOCK="$REPO/images/base.lock.json"
SUITE="$(node -e 'console.log(require(process.argv[1]).debian.suite)' "$SPEC")"
mapfile -t PACKAGES < <(node -e 'for (const p of require(process.argv[1]).debian.packages) console.log(p)' "$SPEC")
mapfile -t PIP < <(node -e 'for (const p of require(process.argv[1]).pip ?? []) console.log(p)' "$SPEC")
# Where the pip packages come from: CELLAR_PIP_INDEX_URL, else the machine's own wheel mirror at
# /opt/pypi/simple when it has one (these machines do, and reach no PyPI), else PyPI. The lock's
# hashes make every index give the same wheels.
if [[ -z "${CELLAR_PIP_INDEX_URL:-}" && -d /opt/pypi/simple ]]; then export CELLAR_PIP_INDEX_URL=file:///opt/pypi/simple; fi

DEST="${1:-${CELLAR_CACHE:-/var/cache/cellar}/images/base/rootfs}"
STAMP_REL=etc/cellar/image-stamp
stamp() {
  { printf '%s\n' "version=$SCRIPT_VERSION" "suite=$SUITE" "${PACKAGES[@]}" "pip:" "${PIP[@]}"; if [[ -f $LOCK ]]; then cat "$LOCK"; fi; } | sha256sum | cut -d' ' -f1
}
STAMP="$(stamp)"

if [[ -f "$DEST/$STAMP_REL" && "$(cat "$DEST/$STAMP_REL")" == "$STAMP" ]]; then
  echo "base image up to date: $DEST"
  exit 0
fi

log() { printf '[build-base-image %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

if [[ $EUID -ne 0 ]]; then
  echo "build-base-image: must run as root (debootstrap and chroot need it)" >&2
  exit 1
fi
for tool in debootstrap chroot flock; do
  command -v "$tool" >/dev/null || { echo "build-base-image: missing $tool (apt-get install debootstrap)" >&2; exit 1; }
done

PARENT="$(dirname "$DEST")"
mkdir -p "$PARENT"

# One build at a time per destination; a second caller waits, then finds the stamp.
exec 9>"$DEST.lock"
flock 9
if [[ -f "$DEST/$STAMP_REL" && "$(cat "$DEST/$STAMP_REL")" == "$STAMP" ]]; then
  echo "base image up to date: $DEST"
  exit 0
fi

# Use the same Debian mirror as the host, since that is the one known to be reachable.
host_mirror() {
  local uri=""
  if [[ -f /etc/apt/sources.list ]]; then
    uri="$(awk '$1=="deb" && $3 ~ /^bookworm$/ {print $2; exit}' /etc/apt/sources.list | sed 's/\[.*\]//')"
  fi
  if [[ -z "$uri" ]]; then
    local f
    for f in /etc/apt/sources.list.d/*.sources /etc/apt/sources.list.d/*.list; do
      [[ -f "$f" ]] || continue
      if [[ "$f" == *.sources ]]; then
        # deb822: take the URIs line of the first stanza whose Suites include plain "bookworm".
        uri="$(awk -v RS= '/Suites:[^\n]*[[:space:]]bookworm([[:space:]]|$)/ {
                 if (match($0, /URIs:[[:space:]]*[^[:space:]]+/)) { s = substr($0, RSTART, RLENGTH); sub(/URIs:[[:space:]]*/, "", s); print s; exit } }' "$f")"
      else
        uri="$(awk '$1=="deb" && $3 ~ /^bookworm$/ {print $2; exit}' "$f")"
      fi
      [[ -n "$uri" ]] && break
    done
  fi
  echo "${uri:-http://deb.debian.org/debian}"
}
MIRROR="${CELLAR_DEBIAN_MIRROR:-$(host_mirror)}"

WORK="$(mktemp -d "$PARENT/.rootfs-build.XXXXXX")"
cleanup() {
  local rc=$?
  umount -l "$WORK/proc" 2>/dev/null || true
  umount -l "$WORK/dev/pts" 2>/dev/null || true
  rm -rf --one-file-system "$WORK"
  [[ $rc -eq 0 ]] || log "FAILED (exit $rc)"
}
trap cleanup EXIT

START=$SECONDS
log "debootstrap $SUITE (minbase) from $MIRROR into $WORK"
INCLUDE="$(IFS=,; echo "${PACKAGES[*]}")"
# With --include, debootstrap leaves packages with virtual dependencies unconfigured and may
# report failure; apt-get -f install below finishes them, so only a missing apt is fatal here.
if ! debootstrap --variant=minbase --include="$INCLUDE" "$SUITE" "$WORK" "$MIRROR" >&2; then
  log "debootstrap reported errors; finishing with apt-get -f install"
fi
[[ -x "$WORK/usr/bin/apt-get" ]] || { log "debootstrap did not produce a usable system"; exit 1; }

mount -t proc proc "$WORK/proc"
log "apt-get -f install (configures remaining packages)"
chroot "$WORK" env DEBIAN_FRONTEND=noninteractive apt-get -f install -y --no-install-recommends >&2
chroot "$WORK" env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${PACKAGES[@]}" >&2

if ((${#PIP[@]})); then
  log "pip packages: ${PIP[*]} (from ${CELLAR_PIP_INDEX_URL:-https://pypi.org/simple})"
  umount -l "$WORK/proc"
  (cd "$REPO" && node --import tsx apps/kernel-gateway/src/images/install-root-pip.ts "$SPEC" "$WORK") >/dev/null
  mount -t proc proc "$WORK/proc"
fi

log "checking the kernel's Python imports"
chroot "$WORK" python3 -c 'import ipykernel.inprocess, IPython, numpy, pandas, matplotlib, scipy, matplotlib_inline, dill, cloudpickle, sklearn, seaborn, statsmodels.api, plotly.express, altair, folium, tqdm, requests, ipywidgets; print("imports ok", ipykernel.__version__, "ipywidgets", ipywidgets.__version__)' >&2

log "creating user cellar (uid 1000), /home/cellar and /workspace"
chroot "$WORK" useradd --uid 1000 --user-group --create-home --home-dir /home/cellar --shell /bin/bash cellar
mkdir -p "$WORK/workspace"
chown 1000:1000 "$WORK/workspace"
# Mount point of the kernel bridge: a lazily mounted image is read-only, so runsc cannot make it
# ("mkdir /proc/root/opt/cellar: read-only file system" and the sandbox never starts).
mkdir -p "$WORK/opt/cellar/bridge"

# matplotlib builds its font list on first import (seconds). /home/cellar is a fresh tmpfs in
# every sandbox, so build the cache once here; the kernel bridge copies it into $HOME at start.
log "prebuilding the matplotlib font cache"
mkdir -p "$WORK/etc/cellar/matplotlib"
chroot "$WORK" env MPLCONFIGDIR=/etc/cellar/matplotlib MPLBACKEND=Agg python3 -c 'import matplotlib.pyplot as plt; plt.figure()' >&2
chmod -R a+rX "$WORK/etc/cellar/matplotlib"

log "cleaning apt caches and docs"
umount -l "$WORK/proc" 2>/dev/null || true
chroot "$WORK" apt-get clean
rm -rf "$WORK"/debootstrap "$WORK"/var/lib/apt/lists/* "$WORK"/var/cache/apt/*.bin \
       "$WORK"/usr/share/doc/* "$WORK"/usr/share/man/* "$WORK"/usr/share/info/* \
       "$WORK"/var/log/*.log "$WORK"/var/log/apt/* "$WORK"/tmp/* "$WORK"/root/.cache

# Again: a build that resolved the pip packages has just written the lock the stamp covers.
stamp > "$WORK/$STAMP_REL"
chmod 755 "$WORK"

# Swap into place: the old tree (if any) moves aside first, so DEST is never half-written.
if [[ -e "$DEST" ]]; then
  OLD="$PARENT/.rootfs-old.$$"
  mv "$DEST" "$OLD"
  mv "$WORK" "$DEST"
  rm -rf --one-file-system "$OLD"
else
  mv "$WORK" "$DEST"
fi
trap - EXIT
log "done in $((SECONDS - START)) s: $DEST ($(du -sh "$DEST" | cut -f1))"
