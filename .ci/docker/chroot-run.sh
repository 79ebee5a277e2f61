#!/usr/bin/env bash
# Run a command inside an exported image filesystem the way `docker run` would, without a container
# runtime: /proc, /dev and a host directory at /data (like -v "$DIR:/data") are mounted into ROOTFS
# in a private mount namespace (gone when the command ends), then
#   chroot --userspec=UID:GID ROOTFS env -i ENV... sh -c 'cd WORKDIR && exec "$@"' CMD...
# stdin, stdout, stderr and the exit status are the command's.
#
# Usage (as root): chroot-run.sh ROOTFS UID:GID WORKDIR DATA_DIR ENVFILE -- CMD [ARG...]
#   ENVFILE: one NAME=value per line (the image's Config.Env, HOME added); "-" for none.
set -euo pipefail

[ $# -ge 7 ] && [ "$6" = "--" ] || { echo "usage: $0 ROOTFS UID:GID WORKDIR DATA_DIR ENVFILE -- CMD [ARG...]" >&2; exit 64; }
ROOTFS=$1 USERSPEC=$2 WORKDIR=$3 DATA_DIR=$4 ENVFILE=$5
shift 6

# First pass: re-exec in a private mount namespace so that no mount outlives the command, even if the
# caller is killed. Without unshare (or where it is refused), fall back to unmounting on exit.
if [ -z "${RARE_MINE_CHROOT_NS:-}" ]; then
  if command -v unshare >/dev/null && unshare --mount --propagation private true 2>/dev/null; then
    RARE_MINE_CHROOT_NS=1 exec unshare --mount --propagation private "$0" "$ROOTFS" "$USERSPEC" "$WORKDIR" "$DATA_DIR" "$ENVFILE" -- "$@"
  fi
  RARE_MINE_CHROOT_NS=fallback
fi

mounted=()
cleanup() {
  local i
  for ((i = ${#mounted[@]} - 1; i >= 0; i--)); do umount -l "${mounted[i]}" 2>/dev/null || true; done
}
[ "$RARE_MINE_CHROOT_NS" = fallback ] && trap cleanup EXIT

mkdir -p "$ROOTFS/proc" "$ROOTFS/dev" "$ROOTFS/data"
mount -t proc proc "$ROOTFS/proc" && mounted+=("$ROOTFS/proc")
mount --rbind /dev "$ROOTFS/dev" && mounted+=("$ROOTFS/dev")
mount --bind "$DATA_DIR" "$ROOTFS/data" && mounted+=("$ROOTFS/data")

envs=()
if [ "$ENVFILE" != - ]; then
  while IFS= read -r line || [ -n "$line" ]; do [ -n "$line" ] && envs+=("$line"); done <"$ENVFILE"
fi

set +e
chroot --userspec="$USERSPEC" "$ROOTFS" /usr/bin/env -i "${envs[@]}" \
  /bin/sh -c 'cd "$0" && exec "$@"' "$WORKDIR" "$@"
rc=$?
set -e
exit "$rc"
