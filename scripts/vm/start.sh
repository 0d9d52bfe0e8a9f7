#!/usr/bin/env bash
# Boots the build-limits test VM (scripts/vm/build-image.sh builds or reuses its image) under QEMU's TCG, with user
# networking (ssh on 127.0.0.1:$HANDSON_VM_SSH_PORT, default 2222) and SHARE (the first argument, default
# /tmp/handson-vm-share) mounted at /mnt/share in the guest. The disk is a throw-away overlay of the cached image, so
# every boot starts from the same state. Waits until root and grader answer over ssh and both Docker engines answer.
# Prints the run folder (qemu.pid, serial.log, ssh_config: `ssh -F RUN/ssh_config vm` or `grader@vm`).
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
log() { printf 'vm: %s\n' "$*" >&2; }
SHARE=${1:-/tmp/handson-vm-share}
PORT=${HANDSON_VM_SSH_PORT:-2222}
RUN=${HANDSON_VM_RUN:-/tmp/handson-vm-run}

image=$(bash "$HERE/build-image.sh" | tail -n 1)
bash "$HERE/stop.sh" >/dev/null 2>&1 || true
rm -rf "$RUN"; mkdir -p "$RUN" "$SHARE"
printf '%s\n' "$SHARE" > "$RUN/share"
qemu-img create -q -f qcow2 -b "$image/disk.img" -F raw "$RUN/disk.qcow2"
cp "$image/id_ed25519" "$RUN/id_ed25519"; chmod 600 "$RUN/id_ed25519"
cat > "$RUN/ssh_config" <<EOF
Host vm
  HostName 127.0.0.1
  Port $PORT
  User root
  IdentityFile $RUN/id_ed25519
  IdentitiesOnly yes
  StrictHostKeyChecking no
  UserKnownHostsFile /dev/null
  LogLevel ERROR
  ConnectTimeout 10
  ServerAliveInterval 15
  ServerAliveCountMax 8
EOF

# /dev/kvm here is PVM, which boots no stock kernel: software emulation (TCG), both cores.
qemu-system-x86_64 -accel tcg,thread=multi,tb-size=512 -cpu max -smp 2 -m "${HANDSON_VM_MEMORY:-4096}" \
  -kernel "$image/vmlinuz" -initrd "$image/initrd.img" \
  -append "root=/dev/vda rw console=ttyS0 systemd.unified_cgroup_hierarchy=1 quiet" \
  -drive "file=$RUN/disk.qcow2,format=qcow2,if=virtio" \
  -netdev "user,id=n0,hostfwd=tcp:127.0.0.1:$PORT-:22" -device virtio-net-pci,netdev=n0 \
  -virtfs "local,path=$SHARE,mount_tag=share,security_model=none,id=share" \
  -display none -serial "file:$RUN/serial.log" -daemonize -pidfile "$RUN/qemu.pid"

log "booting (TCG; about 30 s to ssh)"
started=$SECONDS
until ssh -F "$RUN/ssh_config" vm true 2>/dev/null; do
  if [ $((SECONDS - started)) -gt 300 ]; then log "no ssh after 300 s; serial log:"; tail -n 30 "$RUN/serial.log" >&2; exit 1; fi
  sleep 3
done
log "ssh answers after $((SECONDS - started)) s; waiting for the engines"
# Both Docker daemons (root, and the grader's rootless one) come up with the system.
ssh -F "$RUN/ssh_config" vm 'for i in $(seq 1 120); do docker info >/dev/null 2>&1 && break; sleep 2; done; docker info >/dev/null' \
  || { log "the root dockerd did not answer"; exit 1; }
ssh -F "$RUN/ssh_config" grader@vm '. ~/.profile; for i in $(seq 1 120); do docker info >/dev/null 2>&1 && break; sleep 2; done; docker info >/dev/null' \
  || { log "the rootless dockerd did not answer"; ssh -F "$RUN/ssh_config" vm 'journalctl --user -M grader@ -n 30 --no-pager' >&2 || true; exit 1; }
log "ready after $((SECONDS - started)) s"
printf '%s\n' "$RUN"
