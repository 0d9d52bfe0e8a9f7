#!/usr/bin/env bash
# Makes a class folder of answers to the ictsc-diet problem, for trying `handson batch` and for its tests and
# benchmarks: the chapter's graded examples (every tier) and one answer of each failure kind (no Dockerfile, one
# that does not parse, a missing base image, a build that hangs, fills its memory or its disk or starts processes
# without end, a container that hangs, floods its log, forks without end, fills its memory or its disk, a shell-form
# ENTRYPOINT in scratch).
# Usage: scripts/make-sample-class.sh DIR [--copies N] [--only NAME,NAME...]
# Writes DIR/expected.tsv: name, score, and the check that must fail ("-" for none). DIR must not exist yet.
set -euo pipefail

die() { printf 'make-sample-class: %s\n' "$*" >&2; exit 2; }
[ $# -ge 1 ] || die "usage: $0 DIR [--copies N] [--only NAME,...]"
class=$1; shift
copies=1
only=""
while [ $# -gt 0 ]; do
  case $1 in
    --copies) copies=${2:?--copies takes a number}; shift 2 ;;
    --only) only=${2:?--only takes names}; shift 2 ;;
    *) die "unknown option $1" ;;
  esac
done
[ -e "$class" ] && die "$class exists already; give a new folder"
chapter="$(cd "$(dirname "$0")/.." && pwd)/Chapters/ictsc-diet"
hash_build='FROM golang:1.19 AS builder
WORKDIR /src
COPY hash.go .
RUN CGO_ENABLED=0 go build -o /hash hash.go
'
mkdir -p "$class"
printf 'name\tscore\tfailing_check\n' > "$class/expected.tsv"

# answer NAME SCORE FAILING-CHECK [FILE CONTENTS]... ; contents "-" deletes the file.
answer() {
  local name=$1 score=$2 check=$3; shift 3
  if [ -n "$only" ] && [[ ",$only," != *",$name,"* ]]; then return; fi
  local copy suffix
  for copy in $(seq 1 "$copies"); do
    suffix=$([ "$copies" -gt 1 ] && printf -- '-%02d' "$copy" || true)
    cp -R "$chapter/starter" "$class/$name$suffix"
    local rest=("$@")
    while [ ${#rest[@]} -ge 2 ]; do
      if [ "${rest[1]}" = "-" ]; then rm -f "$class/$name$suffix/${rest[0]}"; else printf '%s' "${rest[1]}" > "$class/$name$suffix/${rest[0]}"; fi
      rest=("${rest[@]:2}")
    done
    printf '%s\t%s\t%s\n' "$name$suffix" "$score" "$check" >> "$class/expected.tsv"
  done
}

answer as-given 0 size
answer debian-slim 40 - Dockerfile "$(cat "$chapter/examples/debian-slim.Dockerfile")"
answer distroless-base 70 - Dockerfile "$(cat "$chapter/examples/distroless-base.Dockerfile")"
answer scratch 100 - Dockerfile "$(cat "$chapter/solutions/multistage.Dockerfile")"
answer edits-hash-go 0 hash-go-unchanged Dockerfile "$(cat "$chapter/solutions/multistage.Dockerfile")" \
  hash.go "$(cat "$chapter/examples/hash-edited.go")"
answer no-dockerfile 0 dockerfile Dockerfile -
answer does-not-parse 0 dockerfile Dockerfile $'FORM scratch\n'
answer missing-base 0 builds Dockerfile $'FROM handson-no-such-image:1\nCOPY hash.go /\n'
answer build-hangs 0 builds Dockerfile $'FROM busybox\nRUN sleep 600\n'
answer build-memory-hog 0 builds Dockerfile $'FROM busybox\nRUN awk \'BEGIN { s = "x"; while (length(s) < 1500000000) s = s s }\'\n'
answer build-fork-bomb 0 builds Dockerfile $'FROM busybox\nRUN i=0; while [ $i -lt 2000 ]; do sleep 30 & i=$((i+1)); done; wait\n'
answer build-disk-filler 0 builds Dockerfile $'FROM busybox\nRUN head -c 1000000000 /dev/zero > /fill && rm /fill\n'
answer run-hangs 0 hash-value Dockerfile $'FROM busybox\nENTRYPOINT ["sleep", "600"]\n'
answer log-flood 0 hash-value Dockerfile $'FROM busybox\nENTRYPOINT ["yes", "flooding the log"]\n'
answer fork-bomb 0 hash-value Dockerfile $'FROM busybox\nENTRYPOINT ["sh", "-c", "f(){ f | f & }; f; sleep 600"]\n'
answer memory-hog 0 hash-value Dockerfile $'FROM busybox\nENTRYPOINT ["sh", "-c", "x=a; while :; do x=$x$x; done"]\n'
answer run-disk-filler 0 hash-value Dockerfile $'FROM busybox\nENTRYPOINT ["sh", "-c", "head -c 1000000000 /dev/zero > /tmp/fill; sleep 600"]\n'
answer shell-form-in-scratch 0 hash-value Dockerfile "$hash_build"$'FROM scratch\nCOPY --from=builder /hash /hash\nENTRYPOINT /hash\n'
printf 'make-sample-class: %s answers in %s\n' "$(($(wc -l < "$class/expected.tsv") - 1))" "$class" >&2
