#!/usr/bin/env bash
# Captures containerd's own metadata for the containerd-store tests: a containerd of its own (a temporary root, state
# and socket) imports a three-layer image (busybox, then a folder and a file, then the file deleted) into namespace
# moby with the overlayfs snapshotter, as Docker's containerd store does, and is stopped. Written to OUT_DIR:
# meta.db (containerd's metadata, bbolt), overlayfs-metadata.db (the snapshotter's, bbolt), blobs/sha256/ (the content
# store's blobs under 64 KiB: index, manifest and config; not the base layer) and expected.txt (the image's digest,
# each layer's chain id and its snapshot number, as `ctr` lists them).
# Usage: scripts/capture-containerd-metadata.sh OUT_DIR   (as root, with docker, containerd and ctr; removes what it made)
set -euo pipefail
out=${1:?output folder}
mkdir -p "$out/blobs/sha256"
work=$(mktemp -d)
cleanup() { pkill -f "containerd --config $work/config.toml" 2>/dev/null || true; sleep 1; rm -rf "$work"; }
trap cleanup EXIT
tag=handson-fixture/containerd-layers:1

mkdir -p "$work/root" "$work/state" "$work/context"
cat > "$work/config.toml" <<TOML
version = 2
root = "$work/root"
state = "$work/state"
[grpc]
  address = "$work/sock"
[plugins."io.containerd.grpc.v1.cri"]
  disable = true
TOML
printf 'FROM busybox:latest\nRUN mkdir /d && echo handson > /d/f && echo gone > /x\nRUN rm /x\n' > "$work/context/Dockerfile"
docker build -q -t "$tag" "$work/context" >/dev/null
docker save "$tag" > "$work/image.tar"
docker rmi "$tag" >/dev/null
containerd --config "$work/config.toml" > "$work/containerd.log" 2>&1 &
for _ in $(seq 50); do [ -S "$work/sock" ] && break; sleep 0.2; done
ctr() { command ctr -a "$work/sock" -n moby "$@"; }
ctr images import --snapshotter overlayfs "$work/image.tar" >/dev/null
digest=$(ctr images ls | awk 'NR==2 {print $3}')
{
  echo "image $digest"
  ctr snapshots --snapshotter overlayfs ls | awk 'NR>1 {print "snapshot", $1, ($2 == "Committed" ? "-" : $2)}'
} > "$out/expected.txt"
pkill -f "containerd --config $work/config.toml"; sleep 1
cp "$work/root/io.containerd.metadata.v1.bolt/meta.db" "$out/meta.db"
cp "$work/root/io.containerd.snapshotter.v1.overlayfs/metadata.db" "$out/overlayfs-metadata.db"
find "$work/root/io.containerd.content.v1.content/blobs/sha256" -type f -size -64k -exec cp {} "$out/blobs/sha256/" \;
# The snapshot number of each folder, by the snapshotter's key (its folder holds the layer's files).
for folder in "$work/root/io.containerd.snapshotter.v1.overlayfs/snapshots"/*; do
  echo "folder $(basename "$folder") $(find "$folder/fs" -mindepth 1 | sed "s|$folder/fs||" | sort | tr '\n' ' ' | cut -c1-120)"
done >> "$out/expected.txt"
echo "captured into $out"
