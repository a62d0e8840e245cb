#!/usr/bin/env bash
# Resolves and installs pip packages over a parent image's root filesystem, run by the gateway's
# pip builder (apps/kernel-gateway/src/images/pip-layer.ts), on the host, never in a sandbox.
#
#   scripts/build-pip-layer.sh resolve PARENT_ROOTFS OUT REQUIREMENTS_TXT
#     pip's dry-run report of what it would install (OUT/report.json) and the distributions the
#     parent already has (OUT/installed.json), from a throwaway overlay that leaves nothing behind.
#   scripts/build-pip-layer.sh install PARENT_ROOTFS OUT HASHED_REQUIREMENTS_TXT
#     installs exactly those wheels (--require-hashes --no-deps) in an overlay over the parent;
#     what changed, overlayfs' upper directory, is left in OUT/upper for ingestLayer.
#
# Both run the parent's own python3 in a chroot, so pip sees the parent's Debian packages as
# installed (and keeps them), and picks wheels for the image's Python and platform. pip itself is
# the host's (PIP_DIR, default the host python3's), bound in read-only. The index is
# CELLAR_PIP_INDEX_URL (default PyPI); a file:// index is bind-mounted into the chroot.
set -euo pipefail
[[ $# -eq 4 ]] || { echo "usage: $0 resolve|install PARENT_ROOTFS OUT REQUIREMENTS_TXT" >&2; exit 2; }
MODE="$1"; PARENT="$2"; OUT="$3"; REQS="$4"
[[ $EUID -eq 0 ]] || { echo "build-pip-layer: must run as root (mount and chroot need it)" >&2; exit 1; }
[[ -x "$PARENT/usr/bin/python3" ]] || { echo "build-pip-layer: $PARENT has no /usr/bin/python3" >&2; exit 1; }
log() { printf '[build-pip-layer %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

INDEX="${CELLAR_PIP_INDEX_URL:-https://pypi.org/simple}"
PIP_DIR="${PIP_DIR:-$(python3 -c 'import os, pip; print(os.path.dirname(os.path.dirname(pip.__file__)))')}"
[[ -d "$PIP_DIR/pip" ]] || { echo "build-pip-layer: no pip under $PIP_DIR" >&2; exit 1; }

rm -rf --one-file-system "$OUT"
mkdir -p "$OUT/upper" "$OUT/work" "$OUT/merged"
M="$OUT/merged"
cleanup() {
  umount -l "$M/tmp/cellar-index" 2>/dev/null || true
  umount -l "$M/tmp/cellar-pip/pip" 2>/dev/null || true
  umount -l "$M/proc" 2>/dev/null || true
  umount -l "$M/etc/resolv.conf" 2>/dev/null || true
  umount -l "$M" 2>/dev/null || true
}
trap cleanup EXIT
mount -t overlay overlay -o "lowerdir=$PARENT,upperdir=$OUT/upper,workdir=$OUT/work" "$M"
mount -t proc proc "$M/proc"
if [[ -f /etc/resolv.conf && -e "$M/etc/resolv.conf" ]]; then mount --bind /etc/resolv.conf "$M/etc/resolv.conf"; fi

mkdir -p "$M/tmp/cellar-pip/pip" "$M/tmp/cellar-index"
# Bound, not copied: a copy costs a quarter second and, with new mtimes, makes every compiled file
# of pip stale, so each pip run compiled pip again (about 0.6 s).
mount --bind -o ro "$PIP_DIR/pip" "$M/tmp/cellar-pip/pip"
cp "$REQS" "$M/tmp/cellar-requirements.txt"
# A file:// index's links are relative (../../files/x.whl), so the index's parent directory goes in.
CHROOT_INDEX="$INDEX"
if [[ "$INDEX" == file://* ]]; then
  SIMPLE="${INDEX#file://}"; SIMPLE="${SIMPLE%/}"
  [[ -d "$SIMPLE" ]] || { echo "build-pip-layer: the index $INDEX is unreachable (no directory $SIMPLE)" >&2; exit 3; }
  mount --bind -o ro "$(dirname "$SIMPLE")" "$M/tmp/cellar-index"
  CHROOT_INDEX="file:///tmp/cellar-index/$(basename "$SIMPLE")"
fi

pip_in() {
  # A clean environment: the host's PIP_* settings and pip.conf (find-links, extra indexes) must
  # not leak into what the lock says, nor PYTHONDONTWRITEBYTECODE into the layer.
  chroot "$M" env -i PATH=/usr/local/bin:/usr/bin:/bin HOME=/root LANG=C.UTF-8 PYTHONPATH=/tmp/cellar-pip \
    PIP_CONFIG_FILE=/dev/null PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1 PIP_NO_INPUT=1 python3 -m pip "$@"
}

START=$SECONDS
case "$MODE" in
  resolve)
    log "resolving against $INDEX over $PARENT"
    pip_in install --dry-run --quiet --report /tmp/cellar-report.json --only-binary=:all: --index-url "$CHROOT_INDEX" \
      --break-system-packages --timeout 20 --retries 1 -r /tmp/cellar-requirements.txt >&2
    chroot "$M" python3 -c 'import importlib.metadata as m, json, sys
json.dump(sorted({(d.metadata["Name"], d.version, str(d._path)) for d in m.distributions() if d.metadata["Name"]}), sys.stdout)' >"$OUT/installed.json"
    cp "$M/tmp/cellar-report.json" "$OUT/report.json"
    cleanup
    rm -rf --one-file-system "$OUT/upper" "$OUT/work" "$OUT/merged"
    ;;
  install)
    log "installing $(grep -c '==' "$REQS") wheels from $INDEX over $PARENT"
    # --break-system-packages: the wheels go to /usr/local (before Debian's dist-packages on
    # sys.path), and the resolver's check already refused anything replacing a Debian package.
    pip_in install --quiet --no-deps --require-hashes --only-binary=:all: --index-url "$CHROOT_INDEX" \
      --break-system-packages --root-user-action=ignore --no-warn-script-location --timeout 20 --retries 1 -r /tmp/cellar-requirements.txt >&2
    umount -l "$M/tmp/cellar-index" "$M/tmp/cellar-pip/pip"
    rm -rf "$M"/tmp/* "$M"/root/.cache
    cleanup
    trap - EXIT
    rm -rf "$OUT/work" "$OUT/merged"
    log "done in $((SECONDS - START)) s: $OUT/upper ($(du -sh "$OUT/upper" | cut -f1))"
    ;;
  *) echo "build-pip-layer: unknown mode $MODE" >&2; exit 2 ;;
esac
