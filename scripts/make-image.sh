#!/usr/bin/env bash
# Makes HandsOn's container image (`make image`): the release binary and the course files where `make install` puts
# them, and the programs HandsOn runs (the docker CLI, its buildx plugin, curl), each with the shared libraries it
# loads, on an empty base. Nothing is pulled: every file comes from this machine.
#
#   scripts/make-image.sh [BINARY]     BINARY: the release binary (.build-install/release/handson by default)
#   HANDSON_IMAGE=handson:latest       the tag it makes
#   HANDSON_ENGINE=docker|podman       the engine that builds it (docker by default)
#
# Run it against the machine's engine socket:
#   docker run --rm -v /var/run/docker.sock:/var/run/docker.sock handson:latest doctor
# The build limits hold in it only where it sees the engine's processes and cgroups and may write them (add
# --pid host --cgroupns host --privileged); `doctor` says which hold, and grading refuses where they do not.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
binary=${1:-$root/.build-install/release/handson}
tag=${HANDSON_IMAGE:-handson:latest}
engine=${HANDSON_ENGINE:-docker}
stage=$root/.build-image
rootfs=$stage/rootfs

fail() { echo "make-image: $*" >&2; exit 1; }
[ -x "$binary" ] || fail "no release binary at $binary (make release-build makes it)"
command -v "$engine" >/dev/null || fail "$engine is not installed (scripts/setup-engine.sh installs it)"

# The programs HandsOn runs, found as the machine has them. The buildx plugin is where the docker CLI looks for it.
docker_cli=$(command -v docker) || fail "no docker CLI to put in the image"
curl_program=$(command -v curl) || fail "no curl to put in the image"
buildx=""
for candidate in /usr/libexec/docker/cli-plugins/docker-buildx /usr/local/lib/docker/cli-plugins/docker-buildx \
  /usr/lib/docker/cli-plugins/docker-buildx; do
  if [ -x "$candidate" ]; then buildx=$candidate; break; fi
done
[ -n "$buildx" ] || fail "no docker-buildx plugin to put in the image"
# A program, not a wrapper script (podman-docker's `docker` is one): the image has no shell to run it.
for program in "$docker_cli" "$buildx" "$curl_program"; do
  [ "$(head -c 4 "$program")" = $'\x7fELF' ] || fail "$program is not a program the image can run (a script?)"
done

rm -rf "$stage"
mkdir -p "$rootfs"

# Copies a file to the same path in the image, following links (a library's soname link gives its file).
place() {
  local source=$1 target=${2:-$1}
  mkdir -p "$rootfs$(dirname "$target")"
  cp -L "$source" "$rootfs$target"
}

# Every shared library a program loads, and the loader, as ldd lists them (a static program lists none).
libraries() {
  local listed
  listed=$(ldd "$1" 2>&1 || true)
  if grep -q 'not found' <<<"$listed"; then fail "$1 needs a library this machine lacks: $listed"; fi
  awk '/=> \// { print $3 } /^[[:space:]]*\/[^ ]*ld-linux/ { print $1 }' <<<"$listed"
}

place "$binary" /usr/local/bin/handson
if command -v strip >/dev/null; then
  strip --strip-unneeded "$rootfs/usr/local/bin/handson"
else
  echo "make-image: no strip (Debian: binutils), so HandsOn's binary keeps its symbols" >&2
fi
place "$docker_cli" /usr/local/bin/docker
place "$buildx" "$buildx"
place "$curl_program" /usr/bin/curl
for program in "$binary" "$docker_cli" "$buildx" "$curl_program"; do
  needed=$(libraries "$program") # an assignment, so that a failure in it stops the script
  for library in $needed; do place "$library"; done
done

mkdir -p "$rootfs/usr/local/share/handson"
cp -R "$root/Chapters" "$root/apps" "$rootfs/usr/local/share/handson/"

# What a process expects of a machine: users, a temporary folder, a home for the docker CLI's configuration.
mkdir -p "$rootfs/etc" "$rootfs/root" "$rootfs/tmp"
chmod 1777 "$rootfs/tmp"
printf 'root:x:0:0:root:/root:/usr/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n' \
  >"$rootfs/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' >"$rootfs/etc/group"
printf 'hosts: files dns\n' >"$rootfs/etc/nsswitch.conf"

cat >"$stage/Dockerfile" <<'DOCKERFILE'
FROM scratch
COPY rootfs/ /
ENV PATH=/usr/local/bin:/usr/bin:/bin HOME=/root
ENTRYPOINT ["/usr/local/bin/handson"]
CMD ["--help"]
DOCKERFILE

"$engine" build --quiet -t "$tag" "$stage" >/dev/null
size=$("$engine" image ls --format '{{.Size}}' "$tag" | head -n 1)
echo "made $tag ($size): $(du -sh "$rootfs/usr/local/bin/handson" | cut -f1) HandsOn, $(du -sh "$rootfs" | cut -f1) in all"
rm -rf "$stage"
