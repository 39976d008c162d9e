#!/usr/bin/env python3
"""Simulates snapshot layouts for cache lines read per lookup (docs/STORE-FORMAT.md, issue 2).

v2: 64-byte buckets of 7 sorted u64 fingerprints (digest lo), entries sorted by lo and placed
greedily at max(home, previous bucket), moving on when a bucket is full; a lookup scans from
its home bucket and continues only past a full bucket whose fingerprints are all smaller.
v1 (for comparison): 32-byte slots, two per line, ordered linear probing at load 0.82.

Usage: scripts/simulate_store_v2.py [ENTRIES] [QUERIES]
"""
import sys
import numpy as np

def v2(lo, slots, num, den, queries, rng):
    n = len(lo)
    buckets = max(1, -(-n * num // den))            # home buckets = ceil(n * num / den)
    home = ((lo.astype(object) * buckets) >> 64).astype(np.int64) if n < 50_000 else \
        np.minimum((lo.astype(np.float64) / 2.0**64 * buckets).astype(np.int64), buckets - 1)
    per_home = np.bincount(home, minlength=buckets)
    pos = np.empty(n, dtype=np.int64)
    count = []
    bucket, used, i = 0, 0, 0
    # greedy placement: each entry to max(home, current bucket), next bucket when full
    for j in range(n):
        h = home[j]
        if h > bucket:
            bucket, used = h, 0
        if used == slots:
            bucket, used = bucket + 1, 0
        pos[j] = bucket
        used += 1
    total = max(pos[-1] + 1, buckets) if n else buckets
    counts = np.bincount(pos, minlength=total + 1)
    if counts[total - 1] == slots:      # last used bucket never full: one extra
        total += 1
    counts = np.bincount(pos, minlength=total)
    # first non-full bucket at or after b
    nf = np.empty(total, dtype=np.int64)
    nxt = total - 1
    for b in range(total - 1, -1, -1):
        if counts[b] < slots: nxt = b
        nf[b] = nxt
    # misses: random lo
    q = rng.integers(0, 2**63, size=queries, dtype=np.uint64) * np.uint64(2) + rng.integers(0, 2, size=queries, dtype=np.uint64)
    qh = np.minimum((q.astype(np.float64) / 2.0**64 * buckets).astype(np.int64), buckets - 1)
    j = np.searchsorted(lo, q)
    pj = np.where(j < n, pos[np.minimum(j, n - 1)], total)
    miss_lines = np.minimum(pj, nf[qh]) - qh + 1
    hit_lines = pos - home + 1
    full = np.mean(counts[:buckets] == slots)
    tail = total - buckets
    return dict(buckets=buckets, tail=tail, load=n / (buckets * slots), full_buckets=full,
                miss_lines=miss_lines.mean(), miss_multi=np.mean(miss_lines > 1),
                hit_hot_lines=hit_lines.mean(), hit_multi=np.mean(hit_lines > 1),
                max_spill=int((pos - home).max()) if n else 0,
                bytes_per_entry=(4096 + (buckets + tail) * 64 + n * 24) / n)

def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    queries = int(sys.argv[2]) if len(sys.argv) > 2 else 1_000_000
    rng = np.random.default_rng(1)
    lo = np.sort(rng.integers(0, 2**63, size=n, dtype=np.uint64) * np.uint64(2) + rng.integers(0, 2, size=n, dtype=np.uint64))
    # 24-byte cold records: 2 in 8 straddle a line boundary (offsets 48 and 56 mod 64)
    cold_lines = 1 + 2 / 8
    print(f"entries {n}, queries {queries}")
    for slots, num, den in [(7, 5, 21), (7, 1, 4), (7, 2, 9), (7, 4, 21)]:
        r = v2(lo, slots, num, den, queries, rng)
        hit = r['hit_hot_lines'] + cold_lines
        print(f"v2 {slots} slots, buckets = ceil(n*{num}/{den}): load {r['load']:.3f}, "
              f"{r['bytes_per_entry']:.2f} B/entry, full buckets {r['full_buckets']:.3f}, tail {r['tail']}, "
              f"max spill {r['max_spill']}\n"
              f"   miss: {r['miss_lines']:.4f} lines ({r['miss_multi']:.4f} read >1); "
              f"hit: {r['hit_hot_lines']:.4f} hot lines ({r['hit_multi']:.4f} >1) + {cold_lines} cold = {hit:.3f}; "
              f"at 50% hits {(r['miss_lines'] + hit) / 2:.3f}, at 1% hits {0.99 * r['miss_lines'] + 0.01 * hit:.3f}")

if __name__ == "__main__":
    main()
