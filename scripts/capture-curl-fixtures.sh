#!/usr/bin/env bash
# Captures what a terminal shows for curl against health endpoints (stdout and stderr mixed, as people paste),
# each file starting with the prompt line. Needs go (the sample app runs natively) and python3.
# Usage: scripts/capture-curl-fixtures.sh OUT_DIR
set -uo pipefail
out=${1:?output folder}
mkdir -p "$out"
root=$(cd "$(dirname "$0")/.." && pwd)
go=${GO:-$(command -v go || echo /usr/lib/go-1.19/bin/go)}
work=$(mktemp -d)
(cd "$root/apps" && "$go" build -o "$work/server" ./server)
app=19090; misc=19190; closed=19099
(cd "$root/apps" && ADDR=127.0.0.1:$app exec "$work/server" 2>/dev/null) & app_pid=$!
python3 "$root/scripts/curl_fixture_server.py" $misc & misc_pid=$!
trap 'kill $app_pid $misc_pid 2>/dev/null; rm -rf "$work"' EXIT
sleep 1

capture() { # name, then curl's arguments
  local name=$1; shift
  { printf '$ curl'; printf " %q" "$@"; printf '\n'; curl "$@" 2>&1; } > "$out/$name.txt"
}
h=http://localhost:$app/health
capture body-only -s $h
capture write-out-after-body -s -w '%{http_code}' $h
capture write-out-alone -s -o /dev/null -w '%{http_code}' $h
capture write-out-newline -s -w '\n%{http_code}\n' $h
capture include-headers -s -i $h
capture verbose -s -v $h
capture progress-meter $h
capture not-found -s -i http://localhost:$app/missing
capture unhealthy-body -s http://localhost:$misc/unhealthy
capture server-error -s -i http://localhost:$misc/fail
capture server-error-fail -sS -f http://localhost:$misc/fail
capture server-error-fail-with-body -sS --fail-with-body -w '%{http_code}' http://localhost:$misc/unavailable
capture unavailable -s http://localhost:$misc/unavailable
capture text-body -s http://localhost:$misc/text
capture connection-refused -sS http://localhost:$closed/health
capture connection-refused-write-out -s -w '%{http_code}' http://localhost:$closed/health
capture connection-refused-verbose -v http://localhost:$closed/health
capture connection-refused-progress http://localhost:$closed/health
capture could-not-resolve -sS http://no-such-host.invalid/health
capture empty-reply -sS http://localhost:$((misc+1))/health
capture connection-reset -sS http://localhost:$((misc+2))/health
capture timeout -sS --max-time 1 http://localhost:$((misc+3))/health
capture timeout-write-out -sS --max-time 1 -w '%{http_code}' http://localhost:$((misc+3))/health
