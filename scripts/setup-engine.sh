#!/usr/bin/env bash
# Sets up the engines HandsOn is proven on, from Debian packages, and starts them (as root on Debian):
#   - Docker 26 (Debian 13's docker.io and containerd, installed on Debian 12 with dpkg -i) with BuildKit
#     (Debian 13's docker-buildx as the CLI plugin) on the overlay2 store: the default socket;
#   - a second dockerd on the containerd image store, with its own socket, data root, exec root, pidfile and
#     bridge: unix:///run/handson-containerd-store/docker.sock (HANDSON_CONTAINERD_HOST);
#   - with --second-overlay2, a third dockerd on overlay2 likewise (unix:///run/handson-overlay2-second/docker.sock):
#     the benchmark grades one class on two engines of one kind with it;
#   - Podman, and debootstrap, curl and chromium for the lab images and the report tests.
# The classic builder needs nothing more: DOCKER_BUILDKIT=0 on the default engine.
# Elsewhere (not root, not Debian) it says what to install. Safe to run again: what runs and is installed stays.
set -euo pipefail

log() { printf 'setup: %s\n' "$*" >&2; }

SECOND_OVERLAY2_HOST=unix:///run/handson-overlay2-second/docker.sock
WANTED_DOCKERD_MAJOR=26

second_overlay2=false
for argument in "$@"; do
  case $argument in
    --second-overlay2) second_overlay2=true ;;
    -h | --help)
      printf 'Usage: %s [--second-overlay2]\n  --second-overlay2  also start a second overlay2 dockerd at %s\n' \
        "$0" "$SECOND_OVERLAY2_HOST"
      printf '                     (the benchmark grades one class on two engines of one kind with it)\n'
      exit 0 ;;
    *) log "unknown option $argument (see --help)"; exit 2 ;;
  esac
done

is_root_debian() { [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; }

dockerd_major() { { dockerd --version 2>/dev/null || true; } | sed -n 's/^Docker version \([0-9]*\)\..*/\1/p'; }

source "$(dirname "$0")/lib/debian-mirror.sh"

install_bookworm_packages() {
  local need=()
  command -v debootstrap >/dev/null 2>&1 || [ -x /usr/sbin/debootstrap ] || need+=(debootstrap)
  command -v curl >/dev/null 2>&1 || need+=(curl)
  command -v podman >/dev/null 2>&1 || need+=(podman)
  command -v tar >/dev/null 2>&1 || need+=(tar)
  command -v chromium >/dev/null 2>&1 || need+=(chromium)     # the batch report's tests load report.html in it
  command -v runc >/dev/null 2>&1 || need+=(runc)
  command -v tini >/dev/null 2>&1 || need+=(tini)
  command -v iptables >/dev/null 2>&1 || need+=(iptables)
  command -v ip >/dev/null 2>&1 || need+=(iproute2)
  [ -e /usr/include/zlib.h ] || need+=(zlib1g-dev)           # HandsOn reads compressed image layers with zlib
  [ -x /usr/sbin/sshd ] || need+=(openssh-server)             # a batch test reaches an engine over ssh://root@localhost
  command -v tmux >/dev/null 2>&1 || need+=(tmux)                  # the live view is tested in a real terminal
  if [ "$(dockerd_major)" != "$WANTED_DOCKERD_MAJOR" ]; then need+=(adduser sysvinit-utils libsystemd0); fi
  [ "${#need[@]}" -gt 0 ] || return 0
  log "installing ${need[*]}"
  apt-get update -qq || log "apt-get update reported errors (some sources unreachable); going on"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
}

# Debian 13's docker.io 26, containerd and docker-buildx, fetched through a private apt state (the machine's own
# sources stay as they are) and installed with dpkg -i, their services not started by the packages.
install_docker_from_trixie() {
  local have
  have=$(dockerd_major)
  if [ "$have" = "$WANTED_DOCKERD_MAJOR" ] && [ -x /usr/libexec/docker/cli-plugins/docker-buildx ]; then return 0; fi
  local state
  state=$(mktemp -d /tmp/handson-trixie-debs.XXXXXX)
  log "fetching Debian 13's docker.io, containerd and docker-buildx (dockerd ${have:-missing} -> $WANTED_DOCKERD_MAJOR)"
  local packages=(docker.io containerd docker-buildx)
  command -v docker >/dev/null 2>&1 || packages+=(docker-cli)
  fetch_trixie_debs "$state/debs" "${packages[@]}"
  # The packages would start their services through invoke-rc.d: this script starts the daemons itself.
  local policy_added=0
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d && policy_added=1
  fi
  DEBIAN_FRONTEND=noninteractive dpkg -i "$state"/debs/*.deb >/dev/null || { [ "$policy_added" = 0 ] || rm -f /usr/sbin/policy-rc.d; exit 1; }
  [ "$policy_added" = 0 ] || rm -f /usr/sbin/policy-rc.d
  rm -rf "$state"
  log "installed: $(dockerd --version)"
}

# Waits until `docker` (with the given DOCKER_HOST, or the default) answers; prints the log's tail if it does not.
wait_for_docker() {
  local host=$1 logfile=$2
  for _ in $(seq 1 60); do
    if DOCKER_HOST=$host docker info >/dev/null 2>&1; then return 0; fi
    sleep 1
  done
  log "dockerd ($host) did not answer within 60 s; last lines of $logfile:"
  tail -n 20 "$logfile" >&2 || true
  exit 1
}

start_default_dockerd() {
  if DOCKER_HOST= docker info >/dev/null 2>&1; then
    local running
    running=$(DOCKER_HOST= docker info --format '{{.ServerVersion}}' 2>/dev/null | cut -d. -f1)
    if [ "$running" = "$WANTED_DOCKERD_MAJOR" ]; then log "docker (overlay2) answers"; return 0; fi
    log "an older dockerd ($running) answers: stopping it to start the installed one"
    kill "$(cat /var/run/docker.pid)" 2>/dev/null || true
    for _ in $(seq 1 20); do [ -e /var/run/docker.pid ] || break; sleep 0.5; done
  fi
  log "starting dockerd (overlay2) in the background (log: /var/log/handson-dockerd.log)"
  nohup dockerd >/var/log/handson-dockerd.log 2>&1 &
  wait_for_docker "" /var/log/handson-dockerd.log
  log "docker (overlay2) answers"
}

# Another dockerd beside the default one, with its own socket, data root, exec root, pidfile and bridge: NAME is its
# folder under /run and /var/lib (and names its config in /etc/handson and its log); FEATURES is its daemon.json
# features. Its bridge is made here (never "none": dockerd would then delete the default docker0 that the first
# daemon uses); iptables stay the first daemon's, and published ports work through the userland proxy.
start_extra_dockerd() {
  local name=$1 what=$2 bridge=$3 subnet=$4 features=$5
  local dir=/run/$name host=unix:///run/$name/docker.sock
  local config=/etc/handson/dockerd-${name#handson-}.json logfile=/var/log/handson-dockerd-${name#handson-}.log
  if DOCKER_HOST=$host docker info >/dev/null 2>&1; then log "docker ($what) answers"; return 0; fi
  if ! ip link show "$bridge" >/dev/null 2>&1; then
    ip link add "$bridge" type bridge
    ip addr add "$subnet" dev "$bridge"
  fi
  ip link set "$bridge" up
  mkdir -p /etc/handson "$dir" "/var/lib/$name"
  cat > "$config" <<EOF
{
  "features": $features,
  "hosts": ["$host"],
  "data-root": "/var/lib/$name",
  "exec-root": "$dir/exec",
  "pidfile": "$dir/docker.pid",
  "bridge": "$bridge",
  "iptables": false
}
EOF
  log "starting a dockerd on the $what (log: $logfile)"
  nohup dockerd --config-file "$config" >"$logfile" 2>&1 &
  wait_for_docker "$host" "$logfile"
  log "docker ($what) answers at $host"
}

if ! is_root_debian; then
  if $second_overlay2; then log "--second-overlay2 starts a daemon as root on Debian only"; exit 1; fi
  if command -v docker >/dev/null 2>&1 && docker info >/dev/null 2>&1; then
    log "not root on Debian: using the docker that answers (the engine matrix is set up only as root on Debian)"
    exit 0
  fi
  log "no engine answers. On Debian, as root, this script installs and starts them; elsewhere install Docker"
  log "(with buildx) or Podman, curl and debootstrap, and start the engine"
  exit 1
fi

install_bookworm_packages
install_docker_from_trixie

# Podman: hosts that cannot raise rlimits fail `podman run` with "error setting rlimits" unless this is set.
if [ ! -e /etc/containers/containers.conf ]; then
  mkdir -p /etc/containers
  printf '[containers]\ndefault_ulimits = []\n' > /etc/containers/containers.conf
fi

# sshd on the loopback only: the several-engine batch test reaches the default daemon as ssh://root@... with a key it
# makes itself (root logs in with keys only, Debian's default).
start_loopback_sshd() {
  if [ -e /run/handson-sshd.pid ] && kill -0 "$(cat /run/handson-sshd.pid)" 2>/dev/null; then return 0; fi
  mkdir -p /run/sshd
  /usr/sbin/sshd -o ListenAddress=127.0.0.1 -o PidFile=/run/handson-sshd.pid -o PasswordAuthentication=no \
    && log "sshd listens on 127.0.0.1:22 (keys only)"
}

start_default_dockerd
start_extra_dockerd handson-containerd-store "containerd store" handson-ctr0 172.30.250.1/24 \
  '{"containerd-snapshotter": true}'
if $second_overlay2; then
  start_extra_dockerd handson-overlay2-second "second overlay2 store" handson-ob0 172.30.251.1/24 \
    '{"containerd-snapshotter": false}'
fi
start_loopback_sshd
