#!/usr/bin/env bash
# Copy the interesting inputs the fuzzer found (kept in the Go build cache)
# into each package's testdata/fuzz/<Target>/, so they are committed and run
# as regression cases by every `go test`.
#
#   scripts/fuzz-corpus.sh [MAX_PER_TARGET]   (default 64)
set -euo pipefail
cd "$(dirname "$0")/.."
max="${1:-64}"
cache="$(go env GOCACHE)/fuzz/$(go list -m)"
grep -rl --include='*_test.go' '^func Fuzz' . | while read -r file; do
  dir="$(dirname "${file#./}")"
  pkgpath="$(go list "./$dir" </dev/null)"
  for target in $(grep -o '^func Fuzz[A-Za-z0-9_]*' "$file" | sed 's/^func //'); do
    src="$(go env GOCACHE)/fuzz/${pkgpath}/${target}"
    [[ -d "$src" ]] || continue
    dst="$dir/testdata/fuzz/$target"
    mkdir -p "$dst"
    # Smallest inputs first: they are the most readable regression cases.
    for f in $(ls -S -r "$src" | head -n "$max"); do cp "$src/$f" "$dst/$f"; done
    echo "$dst: $(ls "$dst" | wc -l) inputs"
  done
done
