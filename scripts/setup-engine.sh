#!/usr/bin/env bash
# Makes sure a container engine answers: on Debian as root, installs docker.io, debootstrap, curl, podman and chromium
# when missing, starts dockerd in the background and waits for it. Elsewhere it says what to do.
set -euo pipefail

log() { printf 'setup: %s\n' "$*" >&2; }

need_packages=()
command -v dockerd >/dev/null 2>&1 || need_packages+=(docker.io)
command -v debootstrap >/dev/null 2>&1 || [ -x /usr/sbin/debootstrap ] || need_packages+=(debootstrap)
command -v curl >/dev/null 2>&1 || need_packages+=(curl)
command -v podman >/dev/null 2>&1 || need_packages+=(podman)
command -v tar >/dev/null 2>&1 || need_packages+=(tar)
# The batch report's tests load report.html in a real headless browser.
command -v chromium >/dev/null 2>&1 || need_packages+=(chromium)

if [ "${#need_packages[@]}" -gt 0 ]; then
  if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    log "missing: ${need_packages[*]}. On Debian, as root: apt-get install ${need_packages[*]}"
    log "(elsewhere: install Docker or Podman, curl and debootstrap, and start the engine)"
    exit 1
  fi
  log "installing ${need_packages[*]}"
  apt-get update -qq || log "apt-get update reported errors (some sources unreachable); going on"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need_packages[@]}" >/dev/null
fi

# Podman: hosts that cannot raise rlimits fail `podman run` with "error setting rlimits" unless this is set.
if command -v podman >/dev/null 2>&1 && [ "$(id -u)" = 0 ] && [ ! -e /etc/containers/containers.conf ]; then
  mkdir -p /etc/containers
  printf '[containers]\ndefault_ulimits = []\n' > /etc/containers/containers.conf
fi

if docker info >/dev/null 2>&1; then
  log "docker answers"
  exit 0
fi
if [ "$(id -u)" != 0 ]; then
  log "docker does not answer and this is not root: start the engine (e.g. sudo dockerd &) and try again"
  exit 1
fi
log "starting dockerd in the background (log: /var/log/handson-dockerd.log)"
nohup dockerd >/var/log/handson-dockerd.log 2>&1 &
for _ in $(seq 1 60); do
  if docker info >/dev/null 2>&1; then
    log "docker answers"
    exit 0
  fi
  sleep 1
done
log "dockerd did not answer within 60 s; last lines of its log:"
tail -n 20 /var/log/handson-dockerd.log >&2 || true
exit 1
