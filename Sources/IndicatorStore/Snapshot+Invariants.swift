/// The structural invariants of the bucket array and the cold records (docs/STORE-FORMAT.md,
/// "Checksums and open modes"). `.full` verification runs them at open; tests run them after
/// every write. O(size): reads the whole body once.
extension Snapshot {
    /// Throws `.malformed` naming the first bucket or entry that breaks a rule:
    /// - a bucket counts at most 7 slots, its 3 reserved bytes and its unused fingerprint slots
    ///   are zero, and its `base` is the number of entries in the buckets before it (so cold
    ///   records are dense and in bucket order);
    /// - every entry sits at or after its home bucket, at most `maxSpill` buckets after it, and
    ///   every bucket from its home to the one before it is full (or a lookup would stop early);
    /// - digests strictly ascend across all buckets (fingerprints sorted, no duplicates);
    /// - the last bucket is not full (no lookup runs off the end);
    /// - cold records are well formed (known category, TLP, action; confidence ≤ 100; reserved
    ///   bits and bytes zero);
    /// - the buckets hold exactly the header's entry count, and the header's subdomain flag is
    ///   set if some entry covers subdomains.
    public func checkInvariants() throws(StoreError) {
        func fail(_ reason: String) -> StoreError { .malformed(path: path, reason: reason) }
        typealias B = StoreFormat.BucketOffset
        let slotsPerBucket = StoreFormat.slotsPerBucket
        var entries = 0
        var previous: (lo: UInt64, hi: UInt64)? = nil
        var coversSubdomains = false
        var lastNotFull = -1
        for bucket in 0..<header.bucketCount {
            let count = table.rawCount(bucket)
            guard count <= slotsPerBucket else { throw fail("bucket \(bucket) counts \(count) slots, at most \(slotsPerBucket)") }
            let line = table.bucket(bucket)
            guard (B.reserved..<B.fingerprints).allSatisfy({ line.load(fromByteOffset: $0, as: UInt8.self) == 0 }) else {
                throw fail("bucket \(bucket) has non-zero reserved bytes")
            }
            guard table.base(bucket) == entries else {
                throw fail("bucket \(bucket) starts at cold record \(table.base(bucket)), expected \(entries) (the entries before it)")
            }
            guard (count..<slotsPerBucket).allSatisfy({ table.fingerprint(bucket, $0) == 0 }) else {
                throw fail("bucket \(bucket) has a non-zero fingerprint after its \(count) occupied slots")
            }
            guard count <= header.entryCount - entries else {
                throw fail("buckets 0...\(bucket) hold more than the header's \(header.entryCount) entries")
            }
            for slot in 0..<count {
                let entry = entries + slot
                let lo = table.fingerprint(bucket, slot)
                let hi = table.hi(at: entry)
                let home = Bucket.home(lo, homeBuckets: table.homeBuckets)
                guard home <= bucket else {
                    throw fail("bucket \(bucket) slot \(slot) holds an entry whose home bucket \(home) is after it")
                }
                guard bucket - home <= header.maxSpill else {
                    throw fail("bucket \(bucket) slot \(slot) is \(bucket - home) buckets from its home, max spill is \(header.maxSpill)")
                }
                guard lastNotFull < home else {
                    throw fail("bucket \(lastNotFull) is not full but lies between bucket \(bucket) slot \(slot) and its home \(home)")
                }
                if let previous {
                    guard (previous.lo, previous.hi) < (lo, hi) else {
                        throw fail("bucket \(bucket) slot \(slot) is out of digest order (fingerprints must ascend, digests be unique)")
                    }
                }
                previous = (lo, hi)
                let (word2, word3) = table.words(at: entry)
                guard Slot.isWellFormed(word2, word3, formatVersion: header.formatVersion) else { throw fail("cold record \(entry) has invalid metadata") }
                if Slot.coversSubdomains(word3) { coversSubdomains = true }
            }
            entries += count
            if count < slotsPerBucket { lastNotFull = bucket }
        }
        guard lastNotFull == header.bucketCount - 1 else {
            throw fail("the last bucket \(header.bucketCount - 1) is full (a lookup could run off the end)")
        }
        guard entries == header.entryCount else {
            throw fail("\(entries) entries in the buckets, header says \(header.entryCount)")
        }
        if coversSubdomains && !header.hasSubdomainEntries {
            throw fail("entries cover subdomains but the header flag is not set")
        }
    }
}
