package import IndicatorKit

extension Snapshot {
    /// Cache lines (64 bytes) a lookup of `digest` reads: buckets scanned (`hot`) and lines of
    /// the cold records compared (`cold`; a 24-byte record at offset 48 or 56 of a line spans
    /// two), and the distinct 4 KiB pages those lines are in (`pages`: a TLB entry, or a page
    /// walk, each). The benchmark's lines- and pages-per-lookup figures; follows the same rule
    /// as the lookup.
    package func cacheLines(for digest: IndicatorDigest) -> (hot: Int, cold: Int, pages: Int) {
        let stored = Slot.stored(digest)
        var bucket = Bucket.home(stored.lo, homeBuckets: table.homeBuckets)
        var hot = 0
        var cold = 0
        var pages: Set<Int> = []
        var result: (Int, Int, Int) { (hot, cold, pages.count) }
        while true {
            hot += 1
            pages.insert((StoreFormat.headerSize + bucket * StoreFormat.bucketSize) / 4096)
            let count = min(table.rawCount(bucket), StoreFormat.slotsPerBucket)
            for slot in 0..<count {
                let fingerprint = table.fingerprint(bucket, slot)
                if fingerprint > stored.lo { return result }
                guard fingerprint == stored.lo else { continue }
                let entry = table.base(bucket) + slot
                guard entry < header.entryCount else { return result }
                let start = header.recordsOffset + entry * StoreFormat.recordSize
                let end = start + StoreFormat.recordSize - 1
                cold += end / 64 - start / 64 + 1
                pages.insert(start / 4096)
                pages.insert(end / 4096)
                if table.hi(at: entry) == stored.hi { return result }
            }
            if count < StoreFormat.slotsPerBucket || bucket >= table.lastBucket { return result }
            bucket += 1
        }
    }
}
