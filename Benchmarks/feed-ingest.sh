#!/bin/sh
# Feed ingest benchmark (docs/BENCHMARKS.md, "Feed ingest (STIX/MISP)"):
#   Benchmarks/feed-ingest.sh [N] [IHUB_BINARY] [WORK_DIR]
# Generates a STIX 2.1 bundle of N indicators, a MISP feed of N attributes (10 events) and the
# bundle's values as a plain list (scripts/make-feed-bench.py), then times `ihub ingest --json`
# of each into an empty store, three rounds, in one run. Prints one JSON object per round.
set -eu
N=${1:-1000000}
IHUB=${2:-.build-release/release/ihub}
WORK=${3:-$(mktemp -d)}
HERE=$(cd "$(dirname "$0")/.." && pwd)
[ -f "$WORK/bundle.json" ] || python3 "$HERE/scripts/make-feed-bench.py" "$WORK" "$N"
now() { date +%s.%N; }
time_ingest() {
    rm -rf "$WORK/store"
    "$IHUB" init "$WORK/store" > /dev/null
    start=$(now)
    "$IHUB" ingest --data "$WORK/store" --source bench --json "$1" > "$WORK/report.json" || true
    end=$(now)
    echo "$end - $start" | bc
}
for round in 1 2 3; do
    stix=$(time_ingest "$WORK/bundle.json")
    misp=$(time_ingest "$WORK/misp")
    list=$(time_ingest "$WORK/values.txt")
    load=$(cut -d' ' -f1 /proc/loadavg)
    echo "{\"name\":\"feed-ingest\",\"indicators\":$N,\"stix_seconds\":$stix,\"misp_seconds\":$misp,\"list_seconds\":$list,\"stix_ratio_to_list\":$(printf "%.3f" "$(echo "scale=4; $list / $stix" | bc)"),\"target_seconds\":30,\"load_average\":$load}"
done
