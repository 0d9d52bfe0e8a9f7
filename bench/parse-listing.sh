#!/usr/bin/env bash
# Benchmark: parse a 100,000-row `docker image ls` listing with `handson parse image-ls` (release build) and with
# a plain Python script that only splits the columns. Prints rows per second for each and their ratio.
# Not part of `make test`; exits non-zero when HandsOn is slower than the plain script.
set -euo pipefail
cd "$(dirname "$0")/.."
rows=${ROWS:-100000}
rounds=${ROUNDS:-3}
swift build -c release --product handson >/dev/null
handson=$(swift build -c release --show-bin-path)/handson
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
listing="$work/listing.txt"
python3 - "$rows" "Tests/HandsOnKitTests/Fixtures/listings/docker-table.txt" > "$listing" <<'PY'
import sys
rows, fixture = int(sys.argv[1]), sys.argv[2]
lines = open(fixture).read().splitlines()
print(lines[0])
body = lines[1:]
for i in range(rows):
    line = body[i % len(body)]
    print(line.replace("handson-fixture/edge", "team/app-%06d" % i, 1))
PY
cat > "$work/split.py" <<'PY'
import json, re, sys
lines = open(sys.argv[1]).read().splitlines()
header = re.split(r"\s{2,}", lines[0].strip())
out = [dict(zip(header, re.split(r"\s{2,}", line.strip()))) for line in lines[1:] if line.strip()]
json.dump(out, sys.stdout)
PY
time_it() { # command... -> median seconds over $rounds
  local times=()
  for _ in $(seq "$rounds"); do
    local start end
    start=$(date +%s.%N); "$@" > /dev/null; end=$(date +%s.%N)
    times+=("$(echo "$end - $start" | bc -l)")
  done
  printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {m=a[int((NR+1)/2)]; printf "%.3f %.3f %.3f\n", m, a[1], a[NR]}'
}
read -r ours ours_min ours_max < <(time_it "$handson" parse image-ls "$listing")
read -r plain plain_min plain_max < <(time_it python3 "$work/split.py" "$listing")
count=$("$handson" parse image-ls "$listing" | grep -c '"sizeBytesMin"')
[ "$count" = "$rows" ] || { echo "parsed $count rows, expected $rows" >&2; exit 1; }
printf '%-28s %10s %12s %16s\n' "parser ($rows rows)" "median s" "range s" "rows per second"
printf '%-28s %10s %12s %16.0f\n' "handson parse image-ls" "$ours" "$ours_min-$ours_max" "$(echo "$rows / $ours" | bc -l)"
printf '%-28s %10s %12s %16.0f\n' "python3 column split" "$plain" "$plain_min-$plain_max" "$(echo "$rows / $plain" | bc -l)"
ratio=$(echo "$ours / $plain" | bc -l)
printf 'handson / python time ratio: %.2f (goal: below 1)\n' "$ratio"
awk -v r="$ratio" 'BEGIN { exit !(r < 1) }'
