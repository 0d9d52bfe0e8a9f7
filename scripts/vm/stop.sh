#!/usr/bin/env bash
# Stops the test VM that scripts/vm/start.sh booted (its run folder's qemu.pid); nothing of the run stays.
set -euo pipefail
RUN=${HANDSON_VM_RUN:-/tmp/handson-vm-run}
[ -f "$RUN/qemu.pid" ] || exit 0
pid=$(cat "$RUN/qemu.pid")
if kill "$pid" 2>/dev/null; then
  for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
  kill -9 "$pid" 2>/dev/null || true
fi
rm -f "$RUN/qemu.pid" "$RUN/disk.qcow2"
