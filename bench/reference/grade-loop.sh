#!/usr/bin/env bash
# A shell loop over `handson grade`, one answer after another: what a batch is compared with.
set -euo pipefail
handson=$1 class=$2
for answer in "$class"/*/; do
  "$handson" grade --chapter ictsc-diet "$answer" --json >/dev/null
done
