#!/usr/bin/env bash
# Builds a layered image: installs Debian packages in an overlayfs mount over a parent image's
# root filesystem and leaves only what changed, overlayfs' upper directory, in OUT/upper.
#
#   scripts/build-image-layer.sh PARENT_ROOTFS OUT PACKAGE...
#
# Called by the gateway's image catalog (apps/kernel-gateway/src/images), which ingests OUT/upper
# on top of the parent's manifest and caches the result by the spec's hash. OUT is replaced.
set -euo pipefail
[[ $# -ge 3 ]] || { echo "usage: $0 PARENT_ROOTFS OUT PACKAGE..." >&2; exit 2; }
PARENT="$1"; OUT="$2"; shift 2
[[ $EUID -eq 0 ]] || { echo "build-image-layer: must run as root (mount and chroot need it)" >&2; exit 1; }
[[ -x "$PARENT/usr/bin/apt-get" ]] || { echo "build-image-layer: $PARENT is not a built Debian root" >&2; exit 1; }
log() { printf '[build-image-layer %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

rm -rf --one-file-system "$OUT"
mkdir -p "$OUT/upper" "$OUT/work" "$OUT/merged"
M="$OUT/merged"
cleanup() {
  umount -l "$M/proc" 2>/dev/null || true
  umount -l "$M/etc/resolv.conf" 2>/dev/null || true
  umount -l "$M" 2>/dev/null || true
}
trap cleanup EXIT
mount -t overlay overlay -o "lowerdir=$PARENT,upperdir=$OUT/upper,workdir=$OUT/work" "$M"
mount -t proc proc "$M/proc"
# The chroot resolves the mirror with the host's resolver; the bind leaves no trace in the layer.
if [[ -f /etc/resolv.conf && -e "$M/etc/resolv.conf" ]]; then mount --bind /etc/resolv.conf "$M/etc/resolv.conf"; fi

START=$SECONDS
log "apt-get install $* over $PARENT"
chroot "$M" env DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2
chroot "$M" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >&2
chroot "$M" apt-get clean
rm -rf "$M"/var/lib/apt/lists/* "$M"/var/cache/apt/*.bin "$M"/var/log/apt/* "$M"/var/log/dpkg.log \
       "$M"/usr/share/doc/* "$M"/usr/share/man/* "$M"/tmp/* "$M"/root/.cache
cleanup
trap - EXIT
rm -rf "$OUT/work" "$OUT/merged"
log "done in $((SECONDS - START)) s: $OUT/upper ($(du -sh "$OUT/upper" | cut -f1))"
