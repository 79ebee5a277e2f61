#!/usr/bin/env bash
# CI check: the Dockerfile builds and `rare-mine bm25` runs inside the image.
#
# For machines with no Docker engine and no container registry (the CI machines of this project):
#   1. apt-installs podman and debootstrap if missing;
#   2. builds the local base image (debootstrap bookworm + this machine's Node 20) if it is absent or
#      stale (.ci/docker/make-base-image.sh), tagged localhost/rare-mine-base/node:20-bookworm;
#   3. podman build --isolation=chroot -t rare-mine:ci .   (npm ci reaches the npm registry directly);
#   4. gets the image filesystem (podman create + podman mount, or podman export) and runs its ENTRYPOINT under
#      chroot as the image's USER, in its WORKDIR, with its ENV and a temp dir mounted at /data
#      (.ci/docker/chroot-run.sh), i.e. what `docker run -i --rm -v "$DIR:/data" rare-mine:ci ...` does;
#   5. asserts the results, printing PASS/FAIL lines; exits non-zero if anything failed.
#
# Run as root from anywhere: .ci/docker-check.sh
# Idempotent. Cached between runs on the same machine (never required): the base image, podman's layer
# cache (npm ci is skipped when package*.json did not change), the npm download cache (build cache
# mount) and debootstrap's .deb cache (/var/cache/rare-mine-ci).
#
# Env: IMAGE (localhost/rare-mine:ci), BASE_IMAGE (localhost/rare-mine-base/node:20-bookworm),
#      INPUT (fixtures/dataflow-scifact-40.jsonl), NPM_CA_FILE (CA bundle handed to npm ci as the build
#      secret npm_ca; default $NODE_EXTRA_CA_CERTS or /etc/ssl/certs/ca-certificates.crt, skipped if
#      absent), NO_CACHE=1 (podman build --no-cache), FORCE_BASE=1 (rebuild the base image),
#      ROOTFS_MODE=export (unpack `podman export` instead of `podman mount`), KEEP_ROOTFS=1 (keep the
#      container/filesystem and the outputs for debugging).
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$REPO"
IMAGE=${IMAGE:-localhost/rare-mine:ci}
BASE_IMAGE=${BASE_IMAGE:-localhost/rare-mine-base/node:20-bookworm}
INPUT=${INPUT:-fixtures/dataflow-scifact-40.jsonl}
NUM_NEG=2
export BASE_IMAGE

START=$(date +%s)
FAILED=0
PASSED=0
TIMINGS=()
pass() { PASSED=$((PASSED + 1)); printf 'PASS: %s\n' "$*"; }
fail() { FAILED=$((FAILED + 1)); printf 'FAIL: %s\n' "$*"; }
info() { printf '[docker-check] %s\n' "$*"; }
fatal() {
  fail "$*"
  [ -n "${PHASE:-}" ] && phase_end
  summary
  exit 1
}
phase_start() { PHASE=$1; PHASE_T0=$(date +%s); info "== $PHASE"; }
phase_end() { TIMINGS+=("$(printf '%-28s %4ss' "$PHASE" $(($(date +%s) - PHASE_T0)))"); PHASE=""; }
summary() {
  info "timings:"
  local t
  for t in "${TIMINGS[@]}"; do info "  $t"; done
  info "  $(printf '%-28s %4ss' total $(($(date +%s) - START)))"
  if [ "$FAILED" -eq 0 ]; then
    printf 'PASS: docker-check (%d checks)\n' "$PASSED"
  else
    printf 'FAIL: docker-check (%d failed, %d passed)\n' "$FAILED" "$PASSED"
  fi
}

WORK=""
CTR=""
ROOTFS=""
cleanup() {
  if [ "${KEEP_ROOTFS:-0}" = 1 ]; then
    [ -n "$CTR" ] && info "kept container ${CTR:0:12} (filesystem ${ROOTFS:-?}); podman rm -f ${CTR:0:12} when done"
    [ -n "$WORK" ] && info "kept $WORK"
    return
  fi
  if [ -n "$CTR" ]; then podman rm -f "$CTR" >/dev/null 2>&1 || true; fi
  if [ -n "$WORK" ] && [ -d "$WORK" ]; then rm -rf --one-file-system "$WORK"; fi
}
trap cleanup EXIT

[ "$(id -u)" = 0 ] || fatal "must run as root (apt, podman build, chroot)"
# One check at a time per machine: concurrent runs would retag and remove each other's rare-mine:ci.
exec 9>/var/lock/rare-mine-docker-check.lock
flock -w 1800 9 || fatal "another docker-check held /var/lock/rare-mine-docker-check.lock for 30 min"
[ -f "$INPUT" ] || fatal "input $INPUT not found"

# ---------------------------------------------------------------------------------------------------
phase_start "tools (apt)"
need=()
command -v podman >/dev/null || need+=(podman)
command -v debootstrap >/dev/null || need+=(debootstrap)
command -v chroot >/dev/null || need+=(coreutils)
command -v unshare >/dev/null || need+=(util-linux)
if [ ${#need[@]} -gt 0 ]; then
  info "apt-get install ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  { apt-get update -q && apt-get install -y -q "${need[@]}"; } >"/tmp/rare-mine-docker-check-apt.log" 2>&1 || {
    tail -n 20 /tmp/rare-mine-docker-check-apt.log | sed 's/^/  apt| /'
    fatal "apt-get install ${need[*]} failed"
  }
fi
command -v node >/dev/null || fatal "no node on PATH: the base image is made from this machine's Node 20"
info "$(podman --version), debootstrap $(dpkg-query -W -f '${Version}' debootstrap 2>/dev/null || echo '?'), host node $(node -v)"
phase_end

# ---------------------------------------------------------------------------------------------------
phase_start "base image"
if [ "${FORCE_BASE:-0}" = 1 ]; then FORCE=1 .ci/docker/make-base-image.sh; else .ci/docker/make-base-image.sh; fi ||
  fatal "base image $BASE_IMAGE could not be built"
podman image exists "$BASE_IMAGE" && pass "base image $BASE_IMAGE present" || fatal "base image $BASE_IMAGE missing"
phase_end

# ---------------------------------------------------------------------------------------------------
phase_start "podman build"
WORK=$(mktemp -d /var/tmp/rare-mine-docker-check.XXXXXX)
# Remove export containers left behind by an interrupted earlier run.
podman ps -a --filter label=rare-mine.ci=docker-check -q | xargs -r podman rm -f >/dev/null 2>&1 || true
OLD_ID=$(podman image inspect --format '{{.Id}}' "$IMAGE" 2>/dev/null || true)
build_args=(--isolation=chroot --network=host --pull=never --build-arg "BASE_IMAGE=$BASE_IMAGE" -t "$IMAGE")
NPM_CA_FILE=${NPM_CA_FILE:-${NODE_EXTRA_CA_CERTS:-/etc/ssl/certs/ca-certificates.crt}}
[ -s "$NPM_CA_FILE" ] && build_args+=(--secret "id=npm_ca,src=$NPM_CA_FILE")
[ "${NO_CACHE:-0}" = 1 ] && build_args+=(--no-cache)
if podman build "${build_args[@]}" . >"$WORK/build.log" 2>&1; then
  pass "podman build --isolation=chroot -t $IMAGE ."
else
  tail -n 40 "$WORK/build.log" | sed 's/^/  build| /'
  fatal "podman build failed (log above)"
fi
NEW_ID=$(podman image inspect --format '{{.Id}}' "$IMAGE")
# The previous rare-mine:ci is now untagged; drop it (its shared layers stay cached).
if [ -n "$OLD_ID" ] && [ "$OLD_ID" != "$NEW_ID" ]; then podman rmi "$OLD_ID" >/dev/null 2>&1 || true; fi
info "image $IMAGE ${NEW_ID:0:12}, $(podman image inspect --format '{{.Size}}' "$IMAGE" | awk '{printf "%.0f MB", $1/1e6}')"
phase_end

# ---------------------------------------------------------------------------------------------------
phase_start "image filesystem"
# A container of the image (never started: `podman run` is refused in the sandbox). Its filesystem is
# reached with `podman mount` (a writable overlay, like a container's root, nothing copied) or, where
# that fails or ROOTFS_MODE=export, with `podman export` unpacked into $WORK/rootfs.
CTR=$(podman create --label rare-mine.ci=docker-check "$IMAGE")
ROOTFS=""
if [ "${ROOTFS_MODE:-mount}" != export ] && ROOTFS=$(podman mount "$CTR" 2>"$WORK/mount.err") && [ -d "$ROOTFS/app" ]; then
  pass "image filesystem mounted (podman create + podman mount)"
else
  [ "${ROOTFS_MODE:-mount}" != export ] && info "podman mount failed ($(head -c 200 "$WORK/mount.err")); using podman export"
  ROOTFS="$WORK/rootfs"
  mkdir -p "$ROOTFS"
  if podman export "$CTR" | tar -x --numeric-owner -C "$ROOTFS"; then
    pass "image filesystem exported (podman create + podman export, $(du -sh "$ROOTFS" | cut -f1))"
  else
    fatal "podman export failed"
  fi
fi

# The image's run configuration, as `docker run` would apply it.
mapfile -t ENTRYPOINT < <(podman image inspect --format '{{range .Config.Entrypoint}}{{println .}}{{end}}' "$IMAGE" | sed '/^$/d')
USER_NAME=$(podman image inspect --format '{{.Config.User}}' "$IMAGE")
WORKDIR=$(podman image inspect --format '{{.Config.WorkingDir}}' "$IMAGE")
podman image inspect --format '{{range .Config.Env}}{{println .}}{{end}}' "$IMAGE" | sed '/^$/d' >"$WORK/env"
info "ENTRYPOINT=${ENTRYPOINT[*]} USER=$USER_NAME WORKDIR=$WORKDIR"

[ "${ENTRYPOINT[*]}" = rare-mine ] && pass "ENTRYPOINT is [\"rare-mine\"]" || fail "ENTRYPOINT is [${ENTRYPOINT[*]}], want [\"rare-mine\"]"
[ "$WORKDIR" = /data ] && pass "WORKDIR is /data" || fail "WORKDIR is '$WORKDIR', want /data"

# USER may be name, uid, name:group or uid:gid; resolve it in the image's own /etc/passwd and /etc/group.
u=${USER_NAME%%:*} g=""
[[ "$USER_NAME" == *:* ]] && g=${USER_NAME#*:}
if [[ "$u" =~ ^[0-9]+$ ]]; then UID_IN=$u; else UID_IN=$(awk -F: -v n="$u" '$1 == n {print $3}' "$ROOTFS/etc/passwd"); fi
HOME_IN=$(awk -F: -v id="$UID_IN" '$3 == id {print $6; exit}' "$ROOTFS/etc/passwd")
if [ -z "$g" ]; then GID_IN=$(awk -F: -v id="$UID_IN" '$3 == id {print $4; exit}' "$ROOTFS/etc/passwd")
elif [[ "$g" =~ ^[0-9]+$ ]]; then GID_IN=$g
else GID_IN=$(awk -F: -v n="$g" '$1 == n {print $3}' "$ROOTFS/etc/group"); fi
if [ -n "$UID_IN" ] && [ -n "$GID_IN" ] && [ "$UID_IN" != 0 ]; then
  pass "runs as non-root user '$USER_NAME' ($UID_IN:$GID_IN)"
else
  fatal "image USER '$USER_NAME' is root or unresolvable (uid='$UID_IN' gid='$GID_IN')"
fi
echo "HOME=${HOME_IN:-/}" >>"$WORK/env"
phase_end

# ---------------------------------------------------------------------------------------------------
phase_start "run inside image (chroot)"
DATA="$WORK/data"
mkdir -p "$DATA"
cp "$INPUT" "$DATA/in.jsonl"
chown -R "$UID_IN:$GID_IN" "$DATA"
# in_image [--entrypoint CMD] ARGS... : like docker run -i --rm -v "$DATA:/data" [--entrypoint CMD] IMAGE ARGS...
in_image() {
  local ep=("${ENTRYPOINT[@]}")
  if [ "${1:-}" = --entrypoint ]; then ep=("$2"); shift 2; fi
  .ci/docker/chroot-run.sh "$ROOTFS" "$UID_IN:$GID_IN" "$WORKDIR" "$DATA" "$WORK/env" -- "${ep[@]}" "$@"
}

# 1. The entrypoint answers.
if out=$(in_image --version </dev/null 2>"$WORK/version.err"); then
  want=$(node -p "require('./package.json').version")
  [ "$out" = "$want" ] && pass "rare-mine --version prints $out" || fail "rare-mine --version printed '$out', want '$want'"
else
  sed 's/^/  stderr| /' "$WORK/version.err" | tail -n 20
  fail "rare-mine --version exited non-zero"
fi

# 2. The documented usage: bm25 on a file under /data, JSONL to stdout.
T=$(date +%s)
set +e
in_image bm25 --num-neg "$NUM_NEG" /data/in.jsonl </dev/null >"$WORK/out.jsonl" 2>"$WORK/bm25.err"
rc=$?
set -e
info "bm25 ran in $(($(date +%s) - T))s"
if [ "$rc" -eq 0 ]; then
  pass "rare-mine bm25 --num-neg $NUM_NEG /data/in.jsonl exits 0"
else
  sed 's/^/  stderr| /' "$WORK/bm25.err" | tail -n 30
  fail "rare-mine bm25 exited $rc"
fi
# Same records, same order, each with a hard_negatives list of at most NUM_NEG strings (and at least
# one record with the full NUM_NEG, so the engine really retrieved something).
if verdict=$(node - "$DATA/in.jsonl" "$WORK/out.jsonl" "$NUM_NEG" 2>&1 <<'EOF'
const fs = require('node:fs');
const [inFile, outFile, numNeg] = process.argv.slice(2);
const lines = (f) => fs.readFileSync(f, 'utf8').split('\n').filter((l) => l.length > 0);
const input = lines(inFile), output = lines(outFile), n = Number(numNeg);
const problems = [];
if (output.length !== input.length) problems.push(`${output.length} output lines for ${input.length} input lines`);
let full = 0;
output.forEach((line, i) => {
  let rec;
  try { rec = JSON.parse(line); } catch (e) { problems.push(`line ${i + 1}: not JSON (${e.message})`); return; }
  const neg = rec.hard_negatives;
  if (!Array.isArray(neg) || !neg.every((x) => typeof x === 'string') || neg.length > n)
    problems.push(`line ${i + 1}: hard_negatives is ${JSON.stringify(neg)?.slice(0, 80)}`);
  else if (neg.length === n) full++;
  const src = input[i] === undefined ? undefined : JSON.parse(input[i]);
  if (src && rec.question !== src.question) problems.push(`line ${i + 1}: record out of order`);
});
if (full === 0) problems.push(`no record got ${n} negatives`);
if (problems.length) { console.log(problems.slice(0, 10).join('\n')); process.exit(1); }
console.log(`${output.length} lines, each with hard_negatives (${full} with ${n})`);
EOF
); then
  pass "output: $verdict"
else
  printf '%s\n' "$verdict" | sed 's/^/  check| /'
  fail "output does not match the input record for record"
fi

# 3. docker run -i usage: input on stdin, -o into the mounted /data as the non-root user (atomic
#    rename there); must equal the stdout run byte for byte.
set +e
in_image bm25 --num-neg "$NUM_NEG" -o /data/out-stdin.jsonl <"$DATA/in.jsonl" >/dev/null 2>"$WORK/bm25-stdin.err"
rc=$?
set -e
if [ "$rc" -eq 0 ] && cmp -s "$WORK/out.jsonl" "$DATA/out-stdin.jsonl"; then
  pass "stdin in, -o /data/out-stdin.jsonl: same bytes as the stdout run"
else
  sed 's/^/  stderr| /' "$WORK/bm25-stdin.err" | tail -n 20
  fail "stdin/-o run: exit $rc, output $( [ -f "$DATA/out-stdin.jsonl" ] && echo differs || echo missing)"
fi

# 4. The native modules of the dense path load inside the image (prebuilt binaries present, shared
#    libraries satisfied); the application files are not writable by the runtime user.
if out=$(in_image --entrypoint /bin/sh -c 'cd /app && node --input-type=module -e "
    const ort = await import(\"onnxruntime-node\");
    const us = await import(\"usearch\");
    if (typeof ort.InferenceSession?.create !== \"function\") throw new Error(\"onnxruntime-node: no InferenceSession\");
    const index = new us.Index({ dimensions: 4, metric: \"cos\", connectivity: 8 });
    index.add(1n, new Float32Array([1, 0, 0, 0]));
    console.log(\"onnxruntime-node + usearch ok\");
  " && if [ -w /app/dist ] || [ -w /app/node_modules ]; then echo "/app is writable"; exit 1; fi' </dev/null 2>&1); then
  pass "native modules load in the image ($out); /app read-only for the user"
else
  printf '%s\n' "$out" | tail -n 20 | sed 's/^/  out| /'
  fail "native module / permission check"
fi
phase_end

summary
[ "$FAILED" -eq 0 ]
