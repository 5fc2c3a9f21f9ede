#!/usr/bin/env bash
# Run every Fuzz target in the pure-Go packages for a short time each.
# Usage: scripts/fuzz.sh DURATION (e.g. 10s). Long runs: go test -fuzz=NAME.
set -euo pipefail
dur=${1:-10s}
for pkg in $(go list ./internal/...); do
  dir=$(go list -f '{{.Dir}}' "$pkg")
  for name in $(grep -ho '^func Fuzz[A-Za-z0-9_]*' "$dir"/*_test.go 2>/dev/null | sed 's/^func //'); do
    echo "fuzz $pkg $name ($dur)"
    go test -run='^$' -fuzz="^${name}\$" -fuzztime="$dur" "$pkg" >/dev/null || {
      go test -run='^$' -fuzz="^${name}\$" -fuzztime="$dur" "$pkg"; exit 1; }
  done
done
