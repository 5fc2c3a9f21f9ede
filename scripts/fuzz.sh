#!/usr/bin/env bash
# Run every Fuzz target in the pure-Go packages for a short budget each.
# Usage: scripts/fuzz.sh BUDGET, a count of executions (60000x) or a time
# (10s). Long runs: go test -fuzz=NAME.
#
# A count, not a time: Go 1.26's fuzzing coordinator can fail a run that
# found nothing with "context deadline exceeded" when a time budget ends
# (go.dev/issue/75804, fixed in 1.27); a count has no deadline to race,
# and a loaded machine only takes longer. Each new input that widens
# coverage is minimized for at most 100 executions (the default, 60 s,
# spent whole 10 s runs minimizing one uwsgi packet: 132 executions
# instead of 250,000).
#
# A failing input is a real bug: go test writes it under
# testdata/fuzz/NAME/ and this script fails. A run that fails without
# writing one (the fuzzing engine lost a worker) is shown and run once
# more; only a second failure counts.
set -euo pipefail
dur=${1:-60000x}
out=$(mktemp)
trap 'rm -f "$out"' EXIT
for pkg in $(go list ./internal/...); do
  dir=$(go list -f '{{.Dir}}' "$pkg")
  for name in $(grep -ho '^func Fuzz[A-Za-z0-9_]*' "$dir"/*_test.go 2>/dev/null | sed 's/^func //'); do
    echo "fuzz $pkg $name ($dur)"
    corpus="$dir/testdata/fuzz/$name"
    before=$(find "$corpus" -type f 2>/dev/null | wc -l || true)
    if go test -run='^$' -fuzz="^${name}\$" -fuzztime="$dur" -fuzzminimizetime=100x "$pkg" >"$out" 2>&1; then
      continue
    fi
    cat "$out"
    after=$(find "$corpus" -type f 2>/dev/null | wc -l || true)
    if [ "$after" -gt "$before" ]; then
      echo "fuzz: $name found a failing input (see $corpus)" >&2
      exit 1
    fi
    echo "fuzz: $name failed without a failing input; running it once more"
    go test -run='^$' -fuzz="^${name}\$" -fuzztime="$dur" -fuzzminimizetime=100x "$pkg"
  done
done
