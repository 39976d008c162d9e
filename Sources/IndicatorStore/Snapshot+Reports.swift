package import IndicatorKit

/// One stored entry with its report fields (format version 3, docs/LIVE-UPDATES.md "Reports
/// and entries"): the merged metadata, the upload number of its single report (0 = unknown)
/// and whether several reports exist (then they are in the reports table).
package struct StoredEntry: Equatable, Sendable {
    package var metadata: EntryMetadata
    package var upload: UInt32
    package var multi: Bool
}

extension Snapshot {
    /// The entry stored for `digest` with its report fields, expired or not (the live store
    /// needs expired entries' reports too, to merge a new report into them). One probe.
    package func storedEntry(_ digest: IndicatorDigest) -> StoredEntry? {
        let stored = Slot.stored(digest)
        let index = table.find(lo: stored.lo, hi: stored.hi)
        guard index >= 0 else { return nil }
        let (word2, word3) = table.words(at: index)
        return StoredEntry(metadata: Slot.decode(word2, word3), upload: Slot.uploadNumber(word3), multi: Slot.isMulti(word3))
    }

    /// Calls `body` with every entry (ascending digest) and its report fields; used by
    /// compaction and by withdrawals of a whole upload.
    package func forEachStoredEntry<E: Error>(_ body: (IndicatorDigest, StoredEntry) throws(E) -> Void) throws(E) {
        for bucket in 0..<header.bucketCount {
            let base = table.base(bucket)
            for slot in 0..<min(table.rawCount(bucket), StoreFormat.slotsPerBucket) where base + slot < header.entryCount {
                let entry = base + slot
                let (word2, word3) = table.words(at: entry)
                try body(
                    IndicatorDigest(lo: table.fingerprint(bucket, slot), hi: table.hi(at: entry)),
                    StoredEntry(metadata: Slot.decode(word2, word3), upload: Slot.uploadNumber(word3), multi: Slot.isMulti(word3)))
            }
        }
    }

    /// Calls `body` with every entry as the writer holds it (ascending digest, metadata words
    /// with the report fields): compaction's and ingest's copy of untouched entries.
    func forEachRecord(_ body: (SlotRecord) -> Void) {
        for bucket in 0..<header.bucketCount {
            let base = table.base(bucket)
            for slot in 0..<min(table.rawCount(bucket), StoreFormat.slotsPerBucket) where base + slot < header.entryCount {
                let entry = base + slot
                let (word2, word3) = table.words(at: entry)
                body(SlotRecord(lo: table.fingerprint(bucket, slot), hi: table.hi(at: entry), word2: word2, word3: word3))
            }
        }
    }
}
