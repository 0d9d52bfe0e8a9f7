#!/usr/bin/env bash
# `timed.sh LABEL COMMAND...` runs COMMAND and appends how long it took to .build/phase-times.txt, so that the end of a
# CI log says where its time went; on a failure it prints the phases so far. `timed.sh --reset` starts a new record,
# `timed.sh --summary` prints it.
set -u
record=.build/phase-times.txt
case "${1:-}" in
--reset) mkdir -p .build && : > "$record"; exit 0 ;;
--summary) echo "phase times:"; cat "$record"; exit 0 ;;
esac
label=$1
shift
start=$(date +%s)
"$@"
status=$?
mkdir -p .build
printf '%-28s %5d s%s\n' "$label" "$(($(date +%s) - start))" "$([ $status -eq 0 ] || echo " (failed: exit $status)")" >> "$record"
if [ $status -ne 0 ]; then
    echo "phase times so far:"
    cat "$record"
fi
exit $status
