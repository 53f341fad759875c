#!/usr/bin/env bash
# The whole test suite, exactly as CI runs it: vet, a dependency check, every
# test with the race detector, then each fuzz target briefly.
#
#   scripts/test.sh            everything
#   FUZZTIME=1m scripts/test.sh  fuzz longer (default 15s per target)
#   SKIP_FUZZ=1 scripts/test.sh  skip the fuzzing step
set -euo pipefail
cd "$(dirname "$0")/.."

export GOFLAGS="${GOFLAGS:--mod=readonly}"
fuzztime="${FUZZTIME:-15s}"

step() { printf '\n== %s\n' "$*"; }

# The console's browser test needs Debian's headless Chromium: install it
# when missing, if this user may (root, or sudo without a password);
# otherwise the test skips (outside CI) and says so.
if ! command -v chromium >/dev/null 2>&1; then
  step "installing chromium for the console's browser test"
  sudo=""
  if [[ "$(id -u)" != 0 ]]; then
    if sudo -n true 2>/dev/null; then sudo="sudo"; else sudo="none"; fi
  fi
  if [[ "$sudo" == none ]] || ! { $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends chromium >/dev/null; }; then
    echo "chromium could not be installed here; the console's browser test will skip" >&2
  fi
fi

step "go vet"
go vet ./...

step "dependency pins"
scripts/check-deps.sh

step "tests (race detector on)"
go test -race -count=1 -timeout 20m ./...

# fuzz runs one target. Go 1.26's fuzzing coordinator can end a run that
# found nothing with a bare "context deadline exceeded" when -fuzztime runs
# out while a worker is still busy (golang/go#75804, fixed in Go 1.27). Such
# a run wrote no failing input and printed nothing else, so it is run once
# more; any other failure, and a second such ending, fails the suite.
fuzz() {
  local pkg=$1 target=$2 log
  log=$(mktemp)
  for try in 1 2; do
    if go test -run='^$' -fuzz="^${target}\$" -fuzztime="$fuzztime" -parallel=1 "$pkg" 2>&1 | tee "$log"; then
      rm -f "$log"
      return 0
    fi
    if [[ $try == 1 ]] && grep -q '^    context deadline exceeded$' "$log" &&
      ! grep -qE 'Failing input written|panic:|_test\.go:[0-9]+:' "$log"; then
      echo "-- $pkg $target ended on Go's fuzztime deadline race with no failing input (golang/go#75804); running it once more"
      continue
    fi
    rm -f "$log"
    return 1
  done
}

if [[ -z "${SKIP_FUZZ:-}" ]]; then
  step "fuzz targets, ${fuzztime} each"
  # Every FuzzXxx function, found in the sources, is run on its own.
  grep -rl --include='*_test.go' '^func Fuzz' . | while read -r file; do
    pkg="./$(dirname "${file#./}")"
    for target in $(grep -o '^func Fuzz[A-Za-z0-9_]*' "$file" | sed 's/^func //'); do
      echo "-- $pkg $target"
      fuzz "$pkg" "$target"
    done
  done
fi

step "all tests passed"
