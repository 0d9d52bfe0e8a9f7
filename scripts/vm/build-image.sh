#!/usr/bin/env bash
# Builds the test VM of the build-limits proof: the host kind contests and classes use, unlike this machine.
#   Debian 12 booted by systemd on the unified cgroup v2 hierarchy; Docker 26 (Debian 13's docker.io, containerd,
#   docker-buildx; overlay2, BuildKit, cgroup driver systemd) and Podman as root; a user `grader` (uid 1000, lingering,
#   with subordinate ids and cpu, memory and pids delegated) running rootless Docker and rootless Podman.
# Everything comes from Debian's packages through the mirror apt here is configured with. The result is cached by the
# hash of this script: HANDSON_VM_CACHE (default /var/cache/handson-vm)/<hash>/{vmlinuz,initrd.img,disk.img,id_ed25519}.
# Prints that folder. Root only (debootstrap, chroot). About 4 minutes on two cores the first time, nothing after.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
source "$HERE/../lib/debian-mirror.sh"
log() { printf 'vm-image: %s\n' "$*" >&2; }

CACHE=${HANDSON_VM_CACHE:-/var/cache/handson-vm}
KEY=$(cat "$0" "$HERE/../lib/debian-mirror.sh" | sha256sum | cut -c1-16)
OUT=$CACHE/$KEY
if [ -f "$OUT/ready" ]; then printf '%s\n' "$OUT"; exit 0; fi
[ "$(id -u)" = 0 ] || { log "building the VM image needs root (debootstrap, chroot)"; exit 1; }

need=()
command -v qemu-system-x86_64 >/dev/null 2>&1 || need+=(qemu-system-x86)
command -v qemu-img >/dev/null 2>&1 || need+=(qemu-utils)
[ -x /usr/sbin/debootstrap ] || need+=(debootstrap)
command -v mkfs.ext4 >/dev/null 2>&1 || [ -x /sbin/mkfs.ext4 ] || need+=(e2fsprogs)
if [ "${#need[@]}" -gt 0 ]; then
  log "installing ${need[*]}"
  apt-get update -qq || log "apt-get update reported errors; going on"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

mirror=$(debian_mirror)
[ -n "$mirror" ] || { log "no Debian mirror in /etc/apt/sources.list*: set HANDSON_DEBIAN_MIRROR"; exit 1; }
work=$(mktemp -d "$CACHE.build.XXXXXX")
root=$work/rootfs
cleanup() {
  for mount in "$root/proc" "$root/sys" "$root/dev/pts" "$root/dev"; do umount "$mount" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

log "debootstrap bookworm from $mirror"
/usr/sbin/debootstrap --variant=minbase \
  --include=systemd,systemd-sysv,dbus,linux-image-amd64,initramfs-tools,openssh-server,iproute2,ca-certificates,kmod,udev \
  bookworm "$root" "$mirror" >"$work/debootstrap.log" 2>&1 || { tail -n 30 "$work/debootstrap.log" >&2; exit 1; }

mount -t proc proc "$root/proc"; mount -t sysfs sys "$root/sys"
mount --bind /dev "$root/dev"; mount --bind /dev/pts "$root/dev/pts"
cp /etc/resolv.conf "$root/etc/resolv.conf"
printf '#!/bin/sh\nexit 101\n' > "$root/usr/sbin/policy-rc.d"; chmod +x "$root/usr/sbin/policy-rc.d"
in_guest() { chroot "$root" env DEBIAN_FRONTEND=noninteractive LC_ALL=C PATH=/usr/sbin:/usr/bin:/sbin:/bin "$@"; }

log "packages: Podman, rootless tools, Docker's dependencies"
cat > "$root/etc/apt/sources.list" <<EOF
deb $mirror bookworm main
EOF
in_guest apt-get update -qq
in_guest apt-get install -y -qq --no-install-recommends \
  podman crun runc tini iptables apparmor uidmap slirp4netns fuse-overlayfs rootlesskit dbus-user-session \
  systemd-container adduser sysvinit-utils libsystemd0 procps busybox-static >/dev/null

log "Docker 26 from Debian 13: docker.io, containerd, docker-cli, docker-buildx"
fetch_trixie_debs "$root/tmp/debs" docker.io containerd docker-cli docker-buildx
in_guest sh -c 'dpkg -i /tmp/debs/*.deb >/dev/null'
rm -rf "$root/tmp/debs"
in_guest systemctl enable docker.service containerd.service systemd-networkd.service ssh.service >/dev/null 2>&1

log "configuring: network, ssh, the rootless user, delegation"
echo handson-vm > "$root/etc/hostname"
printf '/dev/vda / ext4 rw,relatime 0 1\nshare /mnt/share 9p trans=virtio,version=9p2000.L,msize=262144,nofail 0 0\n' > "$root/etc/fstab"
mkdir -p "$root/mnt/share"
printf '[Match]\nName=en* eth*\n\n[Network]\nDHCP=yes\n' > "$root/etc/systemd/network/20-wired.network"
printf 'virtio_blk\nvirtio_pci\nvirtio_net\n9p\n9pnet_virtio\next4\n' >> "$root/etc/initramfs-tools/modules"
ssh-keygen -q -t ed25519 -N '' -f "$work/id_ed25519"
for home in root home/grader; do mkdir -p "$root/$home/.ssh"; cp "$work/id_ed25519.pub" "$root/$home/.ssh/authorized_keys"; done
chmod 700 "$root/root/.ssh"
in_guest useradd --uid 1000 --create-home --shell /bin/bash grader 2>/dev/null || true
cp "$work/id_ed25519.pub" "$root/home/grader/.ssh/authorized_keys"
grep -q '^grader:' "$root/etc/subuid" || echo 'grader:100000:65536' >> "$root/etc/subuid"
grep -q '^grader:' "$root/etc/subgid" || echo 'grader:100000:65536' >> "$root/etc/subgid"
# The user's manager starts at boot (lingering) and gets the cpu controller too (Docker's rootless guide does this).
mkdir -p "$root/var/lib/systemd/linger" "$root/etc/systemd/system/user@.service.d"
touch "$root/var/lib/systemd/linger/grader"
printf '[Service]\nDelegate=cpu cpuset io memory pids\n' > "$root/etc/systemd/system/user@.service.d/delegate.conf"
# Rootless Docker as the user's service, as dockerd-rootless-setuptool.sh would install it.
units=$root/home/grader/.config/systemd/user
mkdir -p "$units/default.target.wants"
cat > "$units/docker.service" <<'EOF'
[Unit]
Description=Docker Application Container Engine (Rootless)

[Service]
Environment=PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
ExecStart=/usr/share/docker.io/contrib/dockerd-rootless.sh
ExecReload=/bin/kill -s HUP $MAINPID
TimeoutSec=0
Restart=always
StartLimitBurst=3
StartLimitInterval=60s
LimitNOFILE=infinity
LimitNPROC=infinity
LimitCORE=infinity
TasksMax=infinity
Delegate=yes
Type=notify
NotifyAccess=all
KillMode=mixed

[Install]
WantedBy=default.target
EOF
ln -sf ../docker.service "$units/default.target.wants/docker.service"
# Rootless Podman on the kernel's own overlay file system (it would otherwise pick vfs, a full copy per layer).
mkdir -p "$root/home/grader/.config/containers"
printf '[storage]\ndriver = "overlay"\n' > "$root/home/grader/.config/containers/storage.conf"
# The tests' base image, registry-free: Debian's static busybox as a root file system, for `docker import`.
base=$work/busybox-root
mkdir -p "$base/bin" "$base/tmp" "$root/opt/handson-vm"
cp "$root/bin/busybox" "$base/bin/busybox"
for applet in $(chroot "$root" /bin/busybox --list); do [ "$applet" = busybox ] || ln -sf busybox "$base/bin/$applet"; done
tar -C "$base" -cf "$root/opt/handson-vm/busybox.tar" .
# The user's docker and podman reach their own engines from a login shell.
cat >> "$root/home/grader/.profile" <<'EOF'
export XDG_RUNTIME_DIR=/run/user/1000
export DBUS_SESSION_BUS_ADDRESS=unix:path=/run/user/1000/bus
export DOCKER_HOST=unix:///run/user/1000/docker.sock
EOF
in_guest chown -R grader:grader /home/grader
in_guest passwd -d root >/dev/null
rm -f "$root/usr/sbin/policy-rc.d" "$root/etc/resolv.conf"
in_guest update-initramfs -u -k all >/dev/null 2>&1
in_guest apt-get clean

for mount in "$root/proc" "$root/sys" "$root/dev/pts" "$root/dev"; do umount "$mount"; done
mkdir -p "$work/image"
cp -L "$root/vmlinuz" "$work/image/vmlinuz"
cp -L "$root/initrd.img" "$work/image/initrd.img"
cp "$work/id_ed25519" "$work/id_ed25519.pub" "$work/image/"
log "disk image (ext4, 12G sparse)"
truncate -s 12G "$work/image/disk.img"
mkfs.ext4 -q -d "$root" -L handson-vm "$work/image/disk.img"
touch "$work/image/ready"
rm -rf "$OUT"; mkdir -p "$CACHE"
mv "$work/image" "$OUT"
# Older images (of an earlier version of this script) are not kept.
find "$CACHE" -mindepth 1 -maxdepth 1 -type d ! -name "$KEY" -exec rm -rf {} + 2>/dev/null || true
log "ready: $OUT"
printf '%s\n' "$OUT"
