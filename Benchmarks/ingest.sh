#!/usr/bin/env bash
# Ingest benchmark: `ihub ingest` of a plain list of N indicators (half IPv4, half domains,
# 1% invalid lines) into an empty store, against `sort -u` of the same file (the cost of merely
# deduplicating the raw lines with a standard tool) in the same run. Target: >= 1,000,000
# indicators/s. Prints one JSON object on stdout.
#
#   Benchmarks/ingest.sh [N] [IHUB_BINARY]
set -euo pipefail
entries=${1:-1000000}
ihub=${2:-.build-release/release/ihub}
work=$(mktemp -d /tmp/ihub-ingest-bench-XXXXXX)
trap 'rm -rf "$work"' EXIT

python3 - "$entries" > "$work/feed.txt" <<'PY'
import random, sys
n = int(sys.argv[1]); r = random.Random(42)
letters = "abcdefghijklmnopqrstuvwxyz0123456789"
out = []
for i in range(n):
    if i % 100 == 99:
        out.append("999.%d.1.1" % (i % 250))          # refused: octet > 255
    elif i % 2:
        out.append("%d.%d.%d.%d" % (r.randrange(1, 224), r.randrange(256), r.randrange(256), r.randrange(256)))
    else:
        out.append("".join(r.choice(letters) for _ in range(8)) + "." + r.choice(["shop", "example", "bank-login", "cdn"]) + ".com")
sys.stdout.write("\n".join(out) + "\n")
PY

now() { date +%s.%N; }
"$ihub" init "$work/data" > /dev/null
start=$(now)
"$ihub" ingest --data "$work/data" --source bench --json "$work/feed.txt" > "$work/report.json" || true
end=$(now)
start_sort=$(now)
LC_ALL=C sort -u "$work/feed.txt" > /dev/null
end_sort=$(now)

python3 - "$entries" "$start" "$end" "$start_sort" "$end_sort" "$work/report.json" "$work/data/store/indicators.snap" <<'PY'
import json, os, sys
n = int(sys.argv[1]); t = float(sys.argv[3]) - float(sys.argv[2]); ts = float(sys.argv[5]) - float(sys.argv[4])
report = json.load(open(sys.argv[6]))
size = os.path.getsize(sys.argv[7])
print(json.dumps({
    "name": "ingest", "records": n, "accepted": report["accepted"], "rejected": report["rejected"],
    "seconds": round(t, 3), "indicators_per_second": round(n / t),
    "sort_u_seconds": round(ts, 3), "sort_u_lines_per_second": round(n / ts), "ratio": round(ts / t, 3),
    "target_indicators_per_second": 1000000, "bytes_per_entry": round(size / max(1, report["accepted"]), 2),
}))
PY
