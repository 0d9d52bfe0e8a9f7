#!/usr/bin/env bash
# The plain shell a grader would write for one answer, for `make bench` to compare `handson grade` with: the same
# engine calls (BuildKit's cache ids before, build, the image read once for its size and listed, the build's new cache
# records removed, run with the same limits on a free port, curl /health until it answers, remove), nothing else.
# Prints the size and the health answer; exits non-zero when it is not healthy.
set -euo pipefail
answer=$1
port=$2
tag="bench-plain/answer:$$"
name="bench-plain-$$"
trap 'docker rm -f "$name" >/dev/null 2>&1 || true; docker image rm -f "$tag" >/dev/null 2>&1 || true' EXIT
cache_ids() { docker buildx du --verbose 2>/dev/null | awk '/^ID:/ {print $2}' | sort; }
before=$(cache_ids)
docker build --force-rm -t "$tag" "$answer" >/dev/null
added=$(comm -13 <(printf '%s\n' "$before") <(cache_ids) | paste -sd '|')
[ -z "$added" ] || docker builder prune --all --force --filter "id=^($added)\$" >/dev/null
bytes=$(docker image save "$tag" | wc -c)
listed=$(docker image ls --format '{{.Size}}' "$tag")
docker run -d --pull never --name "$name" -p "127.0.0.1:$port:9090" --memory 256m --pids-limit 128 --cpus 1 \
  --cap-drop ALL --security-opt no-new-privileges --log-opt max-size=1m "$tag" >/dev/null
for _ in $(seq 1 400); do
  if body=$(curl -s --max-time 2 "http://127.0.0.1:$port/health") && [[ $body == *'"Healthy"'* ]]; then
    echo "$bytes $listed $body"
    exit 0
  fi
  sleep 0.05
done
echo "not healthy: ${body:-no answer}" >&2
exit 1
