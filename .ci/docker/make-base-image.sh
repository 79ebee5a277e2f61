#!/usr/bin/env bash
# Build a local stand-in for the official `node:20-bookworm-slim` image, for machines that can reach
# Debian's apt mirror and the npm registry but no container registry:
#   debootstrap --variant=minbase bookworm  +  this machine's Node 20 (node, npm, corepack, headers)
#   laid out like the official image (/usr/local/{bin,lib/node_modules,include/node}, user `node` 1000:1000),
# then `podman import`ed under $BASE_IMAGE (default localhost/rare-mine-base/node:20-bookworm).
#
# Usage (as root):  .ci/docker/make-base-image.sh            # builds only if the image is absent or stale
#                   FORCE=1 .ci/docker/make-base-image.sh    # rebuild anyway
# Env: BASE_IMAGE, DEBIAN_MIRROR (default: the first deb.debian.org-style URI in /etc/apt/sources*),
#      DEBIAN_SUITE (bookworm), NODE_BIN (default: `command -v node`), CACHE_DIR (debootstrap .deb cache).
set -euo pipefail

BASE_IMAGE=${BASE_IMAGE:-localhost/rare-mine-base/node:20-bookworm}
DEBIAN_SUITE=${DEBIAN_SUITE:-bookworm}
CACHE_DIR=${CACHE_DIR:-/var/cache/rare-mine-ci}
NODE_BIN=${NODE_BIN:-$(command -v node || true)}

log() { printf '[make-base-image] %s\n' "$*" >&2; }
die() { printf '[make-base-image] ERROR: %s\n' "$*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || die "must run as root (debootstrap, podman import)"
[ -n "$NODE_BIN" ] && [ -x "$NODE_BIN" ] || die "no node on PATH (set NODE_BIN)"
NODE_BIN=$(readlink -f "$NODE_BIN")
NODE_VERSION=$("$NODE_BIN" -v)
case "$NODE_VERSION" in v20.*) ;; *) die "need Node 20, $NODE_BIN is $NODE_VERSION" ;; esac

# npm/corepack live next to the node install: <prefix>/lib/node_modules (nodesource: /usr/lib/node_modules).
NODE_PREFIX=$(dirname "$(dirname "$NODE_BIN")")
GLOBAL_MODULES="$NODE_PREFIX/lib/node_modules"
[ -f "$GLOBAL_MODULES/npm/bin/npm-cli.js" ] || die "npm not found under $GLOBAL_MODULES"
NPM_VERSION=$("$NODE_BIN" -p "require('$GLOBAL_MODULES/npm/package.json').version")
WANT_LABEL="$NODE_VERSION/npm-$NPM_VERSION/$DEBIAN_SUITE"

if [ "${FORCE:-0}" != 1 ] && podman image exists "$BASE_IMAGE"; then
  HAVE_LABEL=$(podman image inspect --format '{{index .Labels "rare-mine.base"}}' "$BASE_IMAGE" 2>/dev/null || true)
  if [ "$HAVE_LABEL" = "$WANT_LABEL" ]; then
    log "cached: $BASE_IMAGE ($HAVE_LABEL)"
    exit 0
  fi
  log "stale: $BASE_IMAGE is '$HAVE_LABEL', want '$WANT_LABEL'; rebuilding"
fi

if [ -z "${DEBIAN_MIRROR:-}" ]; then
  # deb822 (URIs: ...) or one-line (deb URI suite ...) sources; first plain Debian archive URI wins.
  DEBIAN_MIRROR=$(
    { grep -hE '^[[:space:]]*URIs:' /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '{print $2}'
      grep -hE '^[[:space:]]*deb[[:space:]]' /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null |
        sed -E 's/\[[^]]*\]//' | awk '{print $2}'
    } | grep -E '/debian/?$' | head -n 1 || true)
  DEBIAN_MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
fi

command -v debootstrap >/dev/null || die "debootstrap is not installed (apt-get install debootstrap)"
WORK=$(mktemp -d /var/tmp/rare-mine-base.XXXXXX)
cleanup() {
  # debootstrap unmounts what it mounts, but be sure before deleting the tree.
  for m in proc sys dev/pts dev; do mountpoint -q "$WORK/rootfs/$m" 2>/dev/null && umount -l "$WORK/rootfs/$m" || true; done
  rm -rf --one-file-system "$WORK"
}
trap cleanup EXIT
ROOTFS="$WORK/rootfs"
mkdir -p "$CACHE_DIR/debootstrap-$DEBIAN_SUITE"

log "debootstrap --variant=minbase $DEBIAN_SUITE from $DEBIAN_MIRROR"
if ! debootstrap --variant=minbase --cache-dir="$CACHE_DIR/debootstrap-$DEBIAN_SUITE" \
    "$DEBIAN_SUITE" "$ROOTFS" "$DEBIAN_MIRROR" >"$WORK/debootstrap.log" 2>&1; then
  tail -n 30 "$WORK/debootstrap.log" >&2
  die "debootstrap failed"
fi

log "adding Node $NODE_VERSION + npm $NPM_VERSION from $NODE_PREFIX (layout of the official image: /usr/local)"
install -m 0755 "$NODE_BIN" "$ROOTFS/usr/local/bin/node"
mkdir -p "$ROOTFS/usr/local/lib/node_modules" "$ROOTFS/usr/local/include"
cp -a "$GLOBAL_MODULES/npm" "$ROOTFS/usr/local/lib/node_modules/npm"
ln -s ../lib/node_modules/npm/bin/npm-cli.js "$ROOTFS/usr/local/bin/npm"
ln -s ../lib/node_modules/npm/bin/npx-cli.js "$ROOTFS/usr/local/bin/npx"
if [ -f "$GLOBAL_MODULES/corepack/dist/corepack.js" ]; then
  cp -a "$GLOBAL_MODULES/corepack" "$ROOTFS/usr/local/lib/node_modules/corepack"
  ln -s ../lib/node_modules/corepack/dist/corepack.js "$ROOTFS/usr/local/bin/corepack"
fi
[ -d "$NODE_PREFIX/include/node" ] && cp -a "$NODE_PREFIX/include/node" "$ROOTFS/usr/local/include/node"

# Same user as the official image (uid/gid 1000, home /home/node).
chroot "$ROOTFS" groupadd --gid 1000 node
chroot "$ROOTFS" useradd --uid 1000 --gid node --shell /bin/bash --create-home node

# Slim down and drop host-specific files (podman provides resolv.conf/hosts/hostname at build time).
rm -rf "$ROOTFS"/var/cache/apt/archives/*.deb "$ROOTFS"/var/lib/apt/lists/* "$ROOTFS"/var/log/*.log \
       "$ROOTFS"/etc/resolv.conf "$ROOTFS"/etc/hostname
: >"$ROOTFS/etc/hostname"

log "smoke test: node and npm run inside the rootfs"
env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root \
  chroot "$ROOTFS" sh -c 'node -v && npm -v' >&2 || die "node/npm do not run inside the rootfs"

log "podman import -> $BASE_IMAGE"
tar --numeric-owner -C "$ROOTFS" -c . | podman import \
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change "ENV NODE_VERSION=${NODE_VERSION#v}" \
  --change "LABEL rare-mine.base=$WANT_LABEL" \
  --change 'CMD ["node"]' \
  --message "debootstrap minbase $DEBIAN_SUITE + node $NODE_VERSION (local stand-in for node:20-bookworm-slim)" \
  - "$BASE_IMAGE" >/dev/null
log "done: $BASE_IMAGE ($WANT_LABEL)"
