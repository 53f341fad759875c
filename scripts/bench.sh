#!/usr/bin/env bash
# Runs surveysync's benchmark suites and prints one table of the figures that
# matter, next to their goals (the README's Performance table). Run
# `scripts/bench.sh --help` for the suites and settings.
set -euo pipefail

usage() {
  cat <<'EOF'
Usage: scripts/bench.sh [SUITE...]

Runs Go benchmarks (go test -run='^$' -bench=...) and prints one table:
benchmark, figure, unit, goal. Without a suite it runs them all; the raw
`go test` output of each suite is kept in $TMPDIR/surveysync-bench-results/SUITE.txt.

Suites:
  sheets     BenchmarkSheetsDelivery (connectors/sheets): rows per minute
             delivered into one sandbox sheet by the real engine and Sheets
             destination, under the emulator's DEFAULT quota (Google's: 60
             writes and 60 reads per minute per user) and the destination's
             default quota, batch size and byte limit; and the peak RSS of
             the delivering process (VmHWM, reset once the input file is
             written; the emulator runs in a child process, reported apart).
             Goal: >= 100,000 rows/min. Takes about two minutes.
  engine     BenchmarkIngestToSettle (CPU per response, ingest -> settle,
             network excluded; goal <= 20 cpu-us; also split into user and
             kernel time) and BenchmarkScoreJob1M (a
             score job over 1,000,000 stored responses; goal <= 1 s). The
             first run builds the 1M-response ledger (minutes), kept in
             $TMPDIR/surveysync-bench for later runs.
  webhook    BenchmarkSignedWebhooks: signed webhooks acknowledged with a
             durable commit, 64 senders over loopback (goal >= 2,000/s,
             p99 <= 50 ms)
  memory     BenchmarkDaemonMemory: the real daemon's RSS idle (goal <= 30
             MB) and with 1,000,000 responses waiting (goal <= 100 MB)
  backfill   BenchmarkBackfill1MPeakRSS: peak RSS of the real binary
             backfilling a file of 1,000,000 responses (goal <= 150 MB);
             takes a few minutes
  mapping    rendering rows and request bodies (ns per op)
  scores     score computation over 1,000,000 observations (goal <= 1 s/job)
  store      the SQLite ledger: ingest, claim/settle, stats (store/sqlite)
  sheetsapi  the Sheets emulator itself: appends, key-column reads, memory

Settings (environment):
  SHEETS_ROWS  responses BenchmarkSheetsDelivery delivers (default 300000;
               it must take well over a minute to be bound by the quota)
  BENCHTIME    -benchtime of the other suites (default 1s)
  GOFLAGS      passed through to go (default -mod=readonly)

Examples:
  scripts/bench.sh                 every suite
  scripts/bench.sh sheets          the Sheets delivery figure alone
  SHEETS_ROWS=1000000 scripts/bench.sh sheets
EOF
}

all_suites=(sheets engine webhook memory backfill mapping scores store sheetsapi)
suites=()
for arg in "$@"; do
  case "$arg" in
    -h|--help|help) usage; exit 0 ;;
    sheets|engine|webhook|memory|backfill|mapping|scores|store|sheetsapi) suites+=("$arg") ;;
    *) echo "bench.sh: unknown suite or option: $arg (see --help)" >&2; exit 2 ;;
  esac
done
if [[ ${#suites[@]} -eq 0 ]]; then
  suites=("${all_suites[@]}")
fi

cd "$(dirname "$0")/.."
export GOFLAGS="${GOFLAGS:--mod=readonly}"
sheets_rows="${SHEETS_ROWS:-300000}"
benchtime="${BENCHTIME:-1s}"
out_dir="${TMPDIR:-/tmp}/surveysync-bench-results"
mkdir -p "$out_dir"

# suite_args prints the package and -bench/-benchtime arguments of a suite.
suite_args() {
  case "$1" in
    sheets)    echo "./connectors/sheets -bench=^BenchmarkSheetsDelivery\$ -benchtime=${sheets_rows}x" ;;
    engine)    echo "./engine -bench=. -benchtime=${benchtime}" ;;
    webhook)   echo "./connectors/webhook -bench=^BenchmarkSignedWebhooks\$ -benchtime=20000x" ;;
    memory)    echo "./cmd/surveysync -bench=^BenchmarkDaemonMemory\$ -benchtime=1x" ;;
    backfill)  echo "./cmd/surveysync -bench=^BenchmarkBackfill1MPeakRSS\$ -benchtime=1x" ;;
    mapping)   echo "./mapping -bench=. -benchtime=${benchtime}" ;;
    scores)    echo "./scores -bench=. -benchtime=${benchtime}" ;;
    store)     echo "./store/sqlite -bench=. -benchtime=${benchtime}" ;;
    sheetsapi) echo "./sandbox/sheetsapi -bench=. -benchtime=${benchtime}" ;;
  esac
}

rows_file="$out_dir/table.tsv"
: >"$rows_file"
failed=()
for s in "${suites[@]}"; do
  read -r pkg bench bt <<<"$(suite_args "$s")"
  log="$out_dir/$s.txt"
  printf '== %s: go test -run=^$ %s %s %s\n' "$s" "$bench" "$bt" "$pkg" >&2
  if ! go test -run='^$' "$bench" "$bt" -timeout=0 "$pkg" >"$log" 2>&1; then
    echo "bench.sh: suite $s failed; see $log" >&2
    tail -n 20 "$log" >&2
    failed+=("$s")
    continue
  fi
  # Each result line: BenchmarkName-P  N  value unit  value unit ...
  awk -v suite="$s" '/^Benchmark/ {
    name = $1; sub(/-[0-9]+$/, "", name); name = suite ": " name
    for (i = 3; i + 1 <= NF; i += 2) print name "\t" $i "\t" $(i + 1)
  }' "$log" >>"$rows_file"
done

# goal prints the goal of a benchmark's figure (the README's Performance table).
goal() {
  case "$1|$2" in
    "sheets: BenchmarkSheetsDelivery|rows/min")            echo ">= 100000" ;;
    "sheets: BenchmarkSheetsDelivery|steady-rows/min")     echo ">= 100000" ;;
    "engine: BenchmarkIngestToSettle/"*"|cpu-µs/response") echo "<= 20" ;;
    "engine: BenchmarkScoreJob1M/"*"|ms/job")              echo "<= 1000" ;;
    "scores: BenchmarkCompute1M/"*"|ms/op")                echo "<= 1000" ;;
    "webhook: BenchmarkSignedWebhooks|webhooks/s")         echo ">= 2000" ;;
    "webhook: BenchmarkSignedWebhooks|p99-ms")             echo "<= 50" ;;
    "memory: BenchmarkDaemonMemory|idle-RSS-MB")           echo "<= 30" ;;
    "memory: BenchmarkDaemonMemory|1M-waiting-RSS-MB")     echo "<= 100" ;;
    "backfill: BenchmarkBackfill1MPeakRSS|peak-RSS-MB")    echo "<= 150" ;;
    *) echo "" ;;
  esac
}

# met says whether a figure meets a goal such as ">= 100000".
met() {
  awk -v v="$1" -v g="$2" 'BEGIN {
    split(g, p, " "); t = p[2] + 0
    ok = (p[1] == ">=") ? (v + 0 >= t) : (v + 0 <= t)
    print ok ? "met" : "MISSED"
  }'
}

printf '\n%-58s %14s  %-20s %s\n' "benchmark" "figure" "unit" "goal"
printf '%-58s %14s  %-20s %s\n' "---------" "------" "----" "----"
while IFS=$'\t' read -r name value unit; do
  case "$unit" in
    B/op|allocs/op|results) continue ;;
    ns/op)
      # Long operations read better in milliseconds.
      if awk -v v="$value" 'BEGIN { exit !(v >= 1e6) }'; then
        value=$(awk -v v="$value" 'BEGIN { printf "%.1f", v / 1e6 }')
        unit="ms/op"
      fi
      ;;
  esac
  g=$(goal "$name" "$unit")
  if [[ -n "$g" ]]; then
    g="$g ($(met "$value" "$g"))"
  fi
  printf '%-58s %14s  %-20s %s\n' "$name" "$value" "$unit" "$g"
done <"$rows_file"

if [[ ${#failed[@]} -gt 0 ]]; then
  echo "bench.sh: failed suites: ${failed[*]}" >&2
  exit 1
fi
