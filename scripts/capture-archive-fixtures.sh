#!/usr/bin/env bash
# Captures real image archives (`image save`) for the size tests: one small image FROM scratch, built and saved on
# each engine of the matrix: Docker overlay2 with BuildKit and with the classic builder, Docker's containerd store
# (gzip layers in an OCI layout), and Podman (docker-archive). The image holds a file, a hard link to it, a symbolic
# link, an empty file, a path longer than 100 bytes, a second layer, and a third that overwrites the first file.
# Writes OUT_DIR/<engine>.tar and OUT_DIR/expected.txt (the overlay2 store's `.Size`, which the measurement must equal).
# Usage: scripts/capture-archive-fixtures.sh OUT_DIR   (needs the engines of scripts/setup-engine.sh; removes what it made)
set -euo pipefail
out=${1:?output folder}
mkdir -p "$out"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
containerd_host=${HANDSON_CONTAINERD_HOST:-unix:///run/handson-containerd-store/docker.sock}
tag=handson-fixture/archive:1

mkdir -p "$work/tree/$(printf 'd%.0s' {1..70})/$(printf 'e%.0s' {1..70})"
head -c 1000 /dev/zero | tr '\0' a > "$work/tree/a.txt"
ln "$work/tree/a.txt" "$work/tree/hard"
ln -s a.txt "$work/tree/link"
: > "$work/tree/empty"
head -c 10 /dev/zero | tr '\0' b > "$work/tree/$(printf 'd%.0s' {1..70})/$(printf 'e%.0s' {1..70})/$(printf 'f%.0s' {1..40}).bin"
tar --format=gnu -C "$work/tree" -cf "$work/content.tar" .
head -c 5000 /dev/zero | tr '\0' c > "$work/second.bin"
printf 'FROM scratch\nADD content.tar /\nCOPY second.bin /second.bin\nCOPY second.bin /a.txt\n' > "$work/Dockerfile"
rm -rf "$work/tree"

cache_ids() { "$@" buildx du --verbose 2>/dev/null | awk '/^ID:/ {print $2}' | sort; }
# Removes the BuildKit cache records added since $2 (a file of ids), leaving what was there before.
prune_added() {
  local before=$1; shift
  local added
  added=$(comm -13 "$before" <(cache_ids "$@") | paste -sd '|')
  [ -z "$added" ] || "$@" builder prune --all --force --filter "id=^($added)\$" >/dev/null
}
cache_ids docker > "$work/cache-default"
cache_ids env DOCKER_HOST="$containerd_host" docker > "$work/cache-containerd"

save() {  # engine label, then the command prefix
  local label=$1; shift
  "$@" build -q -t "$tag" "$work" >/dev/null
  "$@" image save "$tag" > "$out/$label.tar"
  "$@" image rm "$tag" >/dev/null
}
save docker-buildkit docker
DOCKER_BUILDKIT=0 docker build -q -t "$tag" "$work" >/dev/null
printf 'overlay2-size %s\n' "$(docker image inspect -f '{{.Size}}' "$tag")" > "$out/expected.txt"
docker image save "$tag" > "$out/docker-classic.tar"
docker image rm "$tag" >/dev/null
save docker-containerd-store env DOCKER_HOST="$containerd_host" docker
save podman podman
prune_added "$work/cache-default" docker
prune_added "$work/cache-containerd" env DOCKER_HOST="$containerd_host" docker
ls -l "$out"
