#!/usr/bin/env bash
# modernc.org/sqlite works only with the exact modernc.org/libc version its
# own go.mod names; a different one breaks the build or, worse, the runtime.
set -euo pipefail
cd "$(dirname "$0")/.."
sqlite=$(go list -m -f '{{.Version}}' modernc.org/sqlite)
libc=$(go list -m -f '{{.Version}}' modernc.org/libc)
want=$(go mod download -json "modernc.org/sqlite@${sqlite}" | sed -n 's/.*"GoMod": "\(.*\)".*/\1/p' | xargs grep -E '^\s*modernc.org/libc ' | awk '{print $2}')
if [[ "$libc" != "$want" ]]; then
  echo "modernc.org/libc is $libc but modernc.org/sqlite $sqlite needs $want; run: go get modernc.org/libc@$want" >&2
  exit 1
fi
echo "modernc.org/sqlite $sqlite with modernc.org/libc $libc: ok"
