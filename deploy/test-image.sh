#!/usr/bin/env bash
# Builds deploy/Containerfile around a `signaalhub` binary built already (no compiler in the image
# build), starts the image against a fresh dev kit and calls it:
#   - `signaalhub --version` through the image's entrypoint;
#   - `serve` (the default command) as the image's unprivileged user, configuration mounted
#     read-only at /etc/signaalhub, state on a volume at /var/lib/signaalhub;
#   - from the host through the published port, over mutual TLS with a bearer token:
#     `signaal health` (SERVING) and `signaal whoami` (the school's OIN);
#   - `signaalhub log verify` with `podman exec` in the running container (docs/OPERATIONS.md);
#   - `podman stop`: SIGTERM, drained, exit code 0.
#
# Usage: deploy/test-image.sh [SIGNAALHUB_BINARY [SIGNAAL_BINARY]]
#   (default: target/release/{signaalhub,signaal} when both exist, else target/debug/...;
#   CARGO_TARGET_DIR is honoured). The binaries must be built on glibc <= Debian bookworm's.
# Exit 0 when it passed or was skipped (then the last line is `test-image: skipped: <reason>`),
# 1 when it failed. TEST_IMAGE_REQUIRED=1 turns a skip into a failure.
#
# Needs podman (Debian: `apt-get install podman runc`). The base image is
# docker.io/library/debian:bookworm-slim when it is present or can be pulled; where no image
# registry is reachable it is built from Debian packages with debootstrap (as root: `apt-get
# install debootstrap`; once, then kept as localhost/signaalhub-base:bookworm) and passed to the
# build as BASE_IMAGE. Where the default OCI runtime cannot start a container (crun refuses
# hybrid cgroup v1/v2 hosts; some sandboxes forbid raising rlimits) it retries with runc and the
# current hard rlimits, and says so.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { echo "test-image: $*"; }
skip() {
  if [ "${TEST_IMAGE_REQUIRED:-}" = "1" ]; then
    say "FAILED (TEST_IMAGE_REQUIRED=1): $*" >&2
    exit 1
  fi
  say "skipped: $*"
  exit 0
}
fail() {
  say "FAILED: $*" >&2
  exit 1
}

target="${CARGO_TARGET_DIR:-target}"
if [ $# -ge 1 ]; then
  hub_bin="$1"
  client_bin="${2:-$(dirname "$1")/signaal}"
elif [ -x "$target/release/signaalhub" ] && [ -x "$target/release/signaal" ]; then
  hub_bin="$target/release/signaalhub" client_bin="$target/release/signaal"
else
  hub_bin="$target/debug/signaalhub" client_bin="$target/debug/signaal"
fi
for b in "$hub_bin" "$client_bin"; do
  [ -x "$b" ] || fail "$b is not an executable (build it first: cargo build --release -p signaalhub-server -p signaalhub-client)"
done

command -v podman >/dev/null 2>&1 ||
  skip "podman is not installed (Debian: apt-get install podman runc debootstrap)"

tmp=$(mktemp -d)
name="signaalhub-test-$$"
image="localhost/signaalhub-test:$$"
P=(podman)
cleanup() {
  "${P[@]}" rm -f -t 0 "$name" >/dev/null 2>&1 || true
  "${P[@]}" rmi -f "$image" >/dev/null 2>&1 || true
  if [ "$(id -u)" = 0 ]; then rm -rf "$tmp"; else podman unshare rm -rf "$tmp" 2>/dev/null || rm -rf "$tmp"; fi
}
trap cleanup EXIT

# --- The base image -------------------------------------------------------------------------
official=docker.io/library/debian:bookworm-slim
local_base=localhost/signaalhub-base:bookworm
if [ -n "${BASE_IMAGE:-}" ]; then
  base="$BASE_IMAGE"
elif podman image exists "$official"; then
  base="$official"
elif pull_err=$(timeout 120 podman pull -q "$official" 2>&1); then
  base="$official"
elif podman image exists "$local_base"; then
  base="$local_base"
  say "$official cannot be pulled; using $local_base, built from Debian packages by an earlier run"
else
  say "cannot pull $official: $(echo "$pull_err" | tail -n 1)"
  command -v debootstrap >/dev/null 2>&1 ||
    skip "no base image: $official cannot be pulled and debootstrap is not installed (apt-get install debootstrap)"
  [ "$(id -u)" = 0 ] || skip "no base image: $official cannot be pulled, and debootstrap needs root"
  mirror="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
  say "building $local_base from Debian packages: debootstrap --variant=minbase bookworm ($mirror)"
  debootstrap --variant=minbase bookworm "$tmp/rootfs" "$mirror" >"$tmp/debootstrap.log" 2>&1 || {
    tail -n 20 "$tmp/debootstrap.log" >&2
    skip "debootstrap of Debian bookworm failed (log above)"
  }
  rm -rf "$tmp"/rootfs/var/cache/apt/archives/*.deb "$tmp"/rootfs/var/lib/apt/lists/*
  tar -C "$tmp/rootfs" -c . | podman import -q --change 'CMD ["bash"]' - "$local_base" >/dev/null
  rm -rf "$tmp/rootfs"
  base="$local_base"
fi
say "base image: $base"

# --- A runtime that can start containers here ------------------------------------------------
# podman asks for rlimits above the caller's by default; some hosts refuse that, and one seen
# here refuses any RLIMIT_NPROC above kernel.pid_max. So: the default, then the caller's hard
# limits (nproc at most pid_max), then 1024 of each.
nofile=$(ulimit -Hn)
nproc=$(ulimit -Hu)
pid_max=$(cat /proc/sys/kernel/pid_max 2>/dev/null || echo 32768)
[ "$nofile" = unlimited ] && nofile=1048576
{ [ "$nproc" = unlimited ] || [ "$nproc" -gt "$pid_max" ]; } && nproc=$pid_max
tried=""
ok=""
for runtime in "" runc; do
  if [ -n "$runtime" ]; then
    command -v "$runtime" >/dev/null 2>&1 || continue
    P=(podman --runtime "$runtime")
  fi
  for limits in "" "nofile=$nofile:$nofile nproc=$nproc:$nproc" "nofile=1024:1024 nproc=1024:1024"; do
    U=()
    for l in $limits; do U+=(--ulimit "$l"); done
    if err=$("${P[@]}" run --rm "${U[@]}" "$base" true 2>&1); then
      ok=1
      break 2
    fi
    tried="$tried
  ${P[*]} run ${U[*]}: $(echo "$err" | tail -n 1)"
  done
done
[ -n "$ok" ] || skip "podman cannot start a container here:$tried"
if [ -n "$tried" ]; then
  say "the default podman settings cannot start a container here:$tried"
  say "using: ${P[*]} ${U[*]}"
fi

# --- Build: the Containerfile as shipped, the binary built already standing in for `build` -----
install -D -m 0755 "$hub_bin" "$tmp/prebuilt/out/signaalhub"
say "building the image from deploy/Containerfile with $hub_bin"
start=$(date +%s)
"${P[@]}" build -q --pull=never "${U[@]}" --build-arg "BASE_IMAGE=$base" \
  --build-context "build=$tmp/prebuilt" -f deploy/Containerfile -t "$image" . >"$tmp/build.log" 2>&1 || {
  cat "$tmp/build.log" >&2
  fail "podman build failed"
}
say "built in $(($(date +%s) - start)) s"

version=$("${P[@]}" run --rm "${U[@]}" "$image" --version 2>&1) || fail "signaalhub --version in the image: $version"
echo "$version" | grep -q '^signaalhub ' || fail "unexpected --version output: $version"
say "entrypoint: $version"

# --- Start it on a dev kit: configuration read-only, state on a volume ------------------------
kit="$tmp/kit"
"$hub_bin" dev init --dir "$kit" >"$tmp/init.log" 2>&1 || {
  cat "$tmp/init.log" >&2
  fail "signaalhub dev init"
}
# The image runs as uid 10001: it reads the configuration and owns its state.
if [ "$(id -u)" = 0 ]; then chown -R 10001:10001 "$kit"; else podman unshare chown -R 10001:10001 "$kit"; fi
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])' 2>/dev/null ||
  echo $((20000 + RANDOM % 20000)))
"${P[@]}" run -d --name "$name" "${U[@]}" -p "127.0.0.1:$port:50051" \
  -v "$kit:/etc/signaalhub:ro,Z" -v "$kit/data:/var/lib/signaalhub:Z" \
  -e SIGNAALHUB_CONFIG=/etc/signaalhub/hub.toml "$image" >/dev/null ||
  fail "podman run failed"
for _ in $(seq 1 60); do
  "${P[@]}" logs "$name" 2>&1 | grep -q "serving" && break
  [ "$("${P[@]}" inspect -f '{{.State.Running}}' "$name")" = true ] || break
  sleep 0.5
done
"${P[@]}" logs "$name" 2>&1 | grep -q "serving" || {
  "${P[@]}" logs "$name" >&2 || true
  fail "the hub in the container did not start serving"
}
say "serving in container $name on 127.0.0.1:$port"

uid=$("${P[@]}" exec "$name" id -u)
[ "$uid" = 10001 ] || fail "the hub runs as uid $uid, not the image's user 10001"

S=("$client_bin" --kit "$kit" --as school --endpoint "https://127.0.0.1:$port")
out=$("${S[@]}" health 2>&1) || fail "signaal health: $out"
echo "$out" | grep -q SERVING || fail "signaal health did not say SERVING: $out"
out=$("${S[@]}" whoami 2>&1) || fail "signaal whoami: $out"
echo "$out" | grep -q 00000009901000000000 || fail "signaal whoami did not name the school: $out"
say "signaal health and whoami answered over mutual TLS through the published port"

out=$("${P[@]}" exec "$name" signaalhub log verify 2>&1) || fail "podman exec ... signaalhub log verify: $out"
say "log verify in the running container: $(echo "$out" | tail -n 1)"

"${P[@]}" stop -t 45 "$name" >/dev/null
code=$("${P[@]}" inspect -f '{{.State.ExitCode}}' "$name")
[ "$code" = 0 ] || {
  "${P[@]}" logs "$name" >&2 || true
  fail "the hub exited with $code on SIGTERM (expected 0 after draining)"
}
say "stopped on SIGTERM with exit code 0"
say "ok"
