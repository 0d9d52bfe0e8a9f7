#!/usr/bin/env bash
# Captures real `docker image ls` / `podman images` output for the parser tests: images FROM scratch holding
# one file of an exact size, at and beside the rounding edges and the contest's tier bounds.
# Usage: scripts/capture-listing-fixtures.sh OUT_DIR   (needs docker and podman; removes what it made)
set -euo pipefail
out=${1:?output folder}
mkdir -p "$out"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
sizes=(0 999 1000 999499 999500 999999 1000000 6455000 6465000 9949999 9950000 10000000 10049999 10050000 99949999 100000000 100049999 399499999 400000000 400499999 999999999 1000000000 1234567890)
printf 'FROM scratch\nCOPY blob /blob\n' > "$work/Dockerfile"
for engine in docker podman; do
  for n in "${sizes[@]}"; do
    head -c "$n" /dev/zero > "$work/blob"
    "$engine" build -q -t "handson-fixture/edge:b$n" "$work" >/dev/null
  done
done
rm -f "$work/blob"
docker image ls handson-fixture/edge > "$out/docker-table.txt"
docker image ls --digests handson-fixture/edge > "$out/docker-digests.txt"
docker image ls --no-trunc handson-fixture/edge > "$out/docker-no-trunc.txt"
docker image ls -a > "$out/docker-all.txt"
docker image ls --format 'table {{.Repository}}:{{.Tag}}\t{{.Size}}' handson-fixture/edge > "$out/docker-format-repotag.txt"
docker image ls --format 'table {{.ID}}\t{{.Size}}\t{{.Repository}}' handson-fixture/edge > "$out/docker-format-subset.txt"
docker image ls --format '{{json .}}' handson-fixture/edge > "$out/docker-json-lines.txt"
docker image ls --format json handson-fixture/edge > "$out/docker-format-json.txt"
for n in "${sizes[@]}"; do printf '%s %s\n' "b$n" "$(docker image inspect -f '{{.Size}}' "handson-fixture/edge:b$n")"; done > "$out/docker-exact-sizes.txt"
podman images handson-fixture/edge > "$out/podman-table.txt"
podman images --format json handson-fixture/edge > "$out/podman-json.txt"
for n in "${sizes[@]}"; do printf '%s %s\n' "b$n" "$(podman image inspect -f '{{.Size}}' "handson-fixture/edge:b$n")"; done > "$out/podman-exact-sizes.txt"
for n in "${sizes[@]}"; do docker image rm -f "handson-fixture/edge:b$n" >/dev/null; podman rmi -f "handson-fixture/edge:b$n" >/dev/null; done
