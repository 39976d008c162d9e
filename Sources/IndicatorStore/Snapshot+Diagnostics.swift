package import IndicatorKit

extension Snapshot {
    /// Cache lines (64 bytes) a lookup of `digest` reads: buckets scanned (`hot`) and lines of
    /// the cold records compared (`cold`; a 24-byte record at offset 48 or 56 of a line spans
    /// two). The benchmark's lines-per-lookup figure; follows the same rule as the lookup.
    package func cacheLines(for digest: IndicatorDigest) -> (hot: Int, cold: Int) {
        let stored = Slot.stored(digest)
        var bucket = Bucket.home(stored.lo, homeBuckets: table.homeBuckets)
        var hot = 0
        var cold = 0
        while true {
            hot += 1
            let count = min(table.rawCount(bucket), StoreFormat.slotsPerBucket)
            for slot in 0..<count {
                let fingerprint = table.fingerprint(bucket, slot)
                if fingerprint > stored.lo { return (hot, cold) }
                guard fingerprint == stored.lo else { continue }
                let entry = table.base(bucket) + slot
                guard entry < header.entryCount else { return (hot, cold) }
                let start = header.recordsOffset + entry * StoreFormat.recordSize
                cold += (start + StoreFormat.recordSize - 1) / 64 - start / 64 + 1
                if table.hi(at: entry) == stored.hi { return (hot, cold) }
            }
            if count < StoreFormat.slotsPerBucket || bucket >= table.lastBucket { return (hot, cold) }
            bucket += 1
        }
    }
}
