/// Sorting entry records by digest for the writer: ascending `(lo, hi)`, which is also
/// ascending home bucket, since the home function is monotonic in `lo`.
///
/// Two stable counting-sort passes on the top 16 bits of `lo` (through a scratch buffer of
/// the same size) cut 100 million records into 65,536 runs of ~1,500 that fit in cache; each
/// run is then sorted by comparison. O(n) passes over memory instead of O(n log n) cache misses.
///
/// `byHigh` sorts by `(hi, lo)` instead: the order of `IndicatorDigest`'s `<`, in which an
/// upload's content hash lists its reports (`UploadIndex.contentHash`).
enum DigestSort {
    static func sort(_ records: UnsafeMutableBufferPointer<SlotRecord>, byHigh: Bool = false) {
        if byHigh {
            sort(records) { ($0.hi, $0.lo) }
        } else {
            sort(records) { ($0.lo, $0.hi) }
        }
    }

    @inline(__always)
    private static func sort(
        _ records: UnsafeMutableBufferPointer<SlotRecord>, key: (SlotRecord) -> (UInt64, UInt64)
    ) {
        var records = records
        let count = records.count
        guard count >= 1 << 16 else {
            records.sort { key($0) < key($1) }
            return
        }
        let scratch = UnsafeMutableBufferPointer<SlotRecord>.allocate(capacity: count)
        defer { scratch.deallocate() }

        var low = [Int](repeating: 0, count: 256)   // bits 48..<56
        var high = [Int](repeating: 0, count: 256)  // bits 56..<64
        for record in records {
            let first = key(record).0
            low[Int(truncatingIfNeeded: first >> 48) & 0xFF] += 1
            high[Int(truncatingIfNeeded: first >> 56)] += 1
        }
        scatter(from: records, to: scratch, counts: &low, shift: 48, key: key)
        scatter(from: scratch, to: records, counts: &high, shift: 56, key: key)

        // Runs of equal top 16 bits are now contiguous and in order.
        var start = 0
        while start < count {
            let top = key(records[start]).0 >> 48
            var end = start + 1
            while end < count, key(records[end]).0 >> 48 == top { end += 1 }
            if end - start > 1 {
                var run = UnsafeMutableBufferPointer(rebasing: records[start..<end])
                run.sort { key($0) < key($1) }
            }
            start = end
        }
    }

    /// One stable counting-sort pass on the byte of `lo` at `shift`.
    @inline(__always)
    private static func scatter(
        from source: UnsafeMutableBufferPointer<SlotRecord>, to target: UnsafeMutableBufferPointer<SlotRecord>,
        counts: inout [Int], shift: UInt64, key: (SlotRecord) -> (UInt64, UInt64)
    ) {
        var offset = 0
        for digit in 0..<256 {
            let size = counts[digit]
            counts[digit] = offset
            offset += size
        }
        counts.withUnsafeMutableBufferPointer { next in
            for record in source {
                let digit = Int(truncatingIfNeeded: key(record).0 >> shift) & 0xFF
                target[next[digit]] = record
                next[digit] += 1
            }
        }
    }
}
