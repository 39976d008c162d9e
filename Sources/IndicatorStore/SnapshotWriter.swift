public import IndicatorKit

/// Builds a snapshot file from digests and metadata (docs/STORE-FORMAT.md, "Writing").
///
/// Entries are collected as 32-byte records, sorted by digest (radix sort on the top 16 bits,
/// then small comparison sorts), duplicates merged with `EntryMetadata.merged(with:)`, placed
/// greedily in 64-byte buckets of 7 fingerprints (`BucketPlacement`), and streamed — the
/// buckets, then the 24-byte cold records — to a temporary file that is then `fsync`ed and
/// renamed over the target, like cdbmake. Peak memory is about 64 bytes per entry.
public struct SnapshotWriter {
    /// Id of the digest key the digests were computed with (`DigestKey.id`).
    public let keyID: UInt64
    /// Prefix lengths of the IP networks among the entries; `add(_:_:form:)` records them.
    /// Must include every network length present, or those networks will not match.
    public var prefixes = NetworkPrefixes()
    private var records: [SlotRecord] = []
    /// The records are already sorted by digest and unique (`init(keyID:sortedUnique:)`).
    private var presorted = false
    /// Every record is the single report of this upload: its number is written into each cold
    /// record (the records themselves carry none; a local ingest into an empty store).
    var reportUpload: UInt32? = nil

    /// Where a simulated crash stops `write` (tests of crash safety): the temporary file is
    /// left behind as a dead process would leave it, and the target is not touched.
    package enum CrashPoint: Sendable { case afterBody, beforeRename }
    package var crashPoint: CrashPoint? = nil
    /// The last journal sequence number the snapshot includes (header field, version 3);
    /// compaction sets it, a plain ingest leaves 0.
    public var sequence: UInt64 = 0

    /// A writer for digests computed with the key whose id is `keyID`.
    public init(keyID: UInt64, reservingCapacity: Int = 0) {
        self.keyID = keyID
        records.reserveCapacity(reservingCapacity)
    }

    /// A writer for records already in ascending `(lo, hi)` order without duplicates (a live
    /// store's merge produces them so): `write` skips its sort and merge.
    init(keyID: UInt64, sortedUnique records: [SlotRecord]) {
        self.keyID = keyID
        self.records = records
        presorted = true
    }

    /// A writer for digests computed with `key`.
    public init(key: DigestKey, reservingCapacity: Int = 0) {
        self.init(keyID: key.id, reservingCapacity: reservingCapacity)
    }

    /// Number of entries added so far, duplicates included.
    public var count: Int { records.count }

    /// Adds one entry. Pass the value's canonical `form` so IP network prefix lengths are
    /// recorded in the header (without it, add them to `prefixes` yourself).
    public mutating func add(_ digest: IndicatorDigest, _ metadata: EntryMetadata, form: CanonicalForm? = nil) {
        if let form { prefixes.insert(form) }
        let stored = Slot.stored(digest)
        let (word2, word3) = Slot.encode(metadata)
        records.append(SlotRecord(lo: stored.lo, hi: stored.hi, word2: word2, word3: word3))
    }

    /// Adds one entry with its report fields (format version 3, docs/LIVE-UPDATES.md): the
    /// 24-bit upload number of its single report (0 = unknown) and the multi bit (several
    /// reports: see the reports table). Callers that track reports add each digest once:
    /// duplicates are merged and then keep an upload number only if both had the same one.
    package mutating func add(_ digest: IndicatorDigest, _ metadata: EntryMetadata, upload: UInt32, multi: Bool) {
        let stored = Slot.stored(digest)
        let (word2, word3) = Slot.encode(metadata)
        records.append(SlotRecord(
            lo: stored.lo, hi: stored.hi, word2: word2, word3: Slot.withReport(word3, upload: upload, multi: multi)))
    }

    /// Adds every entry of an open snapshot (to merge a new ingest into the existing store),
    /// skipping entries expired at `liveAt` when given, and keeps its network prefix lengths,
    /// its journal sequence and its entries' report fields (upload number, multi bit), so the
    /// live store's journal and reports table still fit the rewritten file
    /// (docs/LIVE-UPDATES.md).
    public mutating func add(contentsOf snapshot: Snapshot, liveAt now: UInt32? = nil) throws(StoreError) {
        guard snapshot.header.keyID == keyID else {
            throw .keyMismatch(path: snapshot.path, expected: keyID, found: snapshot.header.keyID)
        }
        prefixes.formUnion(snapshot.header.prefixes)
        sequence = max(sequence, snapshot.header.sequence)
        records.reserveCapacity(records.count + snapshot.entryCount)
        snapshot.forEachStoredEntry { digest, entry in
            if let now, entry.metadata.isExpired(at: now) { return }
            add(digest, entry.metadata, upload: entry.upload, multi: entry.multi)
        }
    }

    /// What `write` did.
    public struct Summary: Equatable, Sendable {
        /// Entries in the written snapshot.
        public var entries: Int
        /// Entries added more than once (merged into one).
        public var duplicates: Int
        /// Entries left out because they had expired.
        public var expired: Int
        /// The header written.
        public var header: SnapshotHeader
    }

    /// Writes the snapshot to `path` atomically: a temporary file in the same directory,
    /// `fsync`, `rename`, `fsync` of the directory. On failure the old file at `path` (if any)
    /// is untouched and the temporary file removed. Entries expired at `droppingExpiredAt`
    /// are left out. `createdAt` (Unix seconds) is stored in the header; pass a fixed value
    /// for byte-identical output.
    public consuming func write(
        to path: String, createdAt: UInt64? = nil, droppingExpiredAt now: UInt32? = nil
    ) throws(StoreError) -> Summary {
        try write(to: path, createdAt: createdAt, droppingExpiredAt: now, beforeRename: {})
    }

    /// `write`, running `beforeRename` once the temporary file is durable, before the rename.
    consuming func write(
        to path: String, createdAt: UInt64? = nil, droppingExpiredAt now: UInt32? = nil,
        beforeRename: () throws(StoreError) -> Void
    ) throws(StoreError) -> Summary {
        var duplicates = 0
        var expired = 0
        if presorted {
            precondition(now == nil, "a presorted writer's caller drops expired entries itself")
        } else {
            (duplicates, expired) = records.withUnsafeMutableBufferPointer { buffer in
                DigestSort.sort(buffer)
                return Self.mergeDuplicates(buffer, droppingExpiredAt: now)
            }
            records.removeLast(duplicates + expired)
        }
        var header = Self.layout(records)
        header.keyID = keyID
        header.createdAt = createdAt ?? Syscalls.unixTime()
        header.prefixes = prefixes
        header.sequence = sequence
        let crashPoint = crashPoint
        header = try records.withUnsafeBufferPointer { (buffer) throws(StoreError) in
            try AtomicFile.write(
                path, header: header, records: buffer, upload: reportUpload, crashPoint: crashPoint, beforeRename: beforeRename)
        }
        return Summary(entries: records.count, duplicates: duplicates, expired: expired, header: header)
    }

    /// Merges runs of equal digests in sorted `records`, drops expired entries, compacts the
    /// survivors to the front. Returns how many were duplicates and how many expired. Also
    /// local ingest's merge of one upload's records (`now` nil: nothing dropped).
    static func mergeDuplicates(
        _ records: UnsafeMutableBufferPointer<SlotRecord>, droppingExpiredAt now: UInt32?
    ) -> (duplicates: Int, expired: Int) {
        var kept = 0
        var duplicates = 0
        var index = 0
        while index < records.count {
            var record = records[index]
            index += 1
            while index < records.count, records[index].lo == record.lo, records[index].hi == record.hi {
                let merged = Slot.decode(record.word2, record.word3)
                    .merged(with: Slot.decode(records[index].word2, records[index].word3))
                let upload = Slot.uploadNumber(record.word3)
                let sameUpload = upload == Slot.uploadNumber(records[index].word3)
                let multi = Slot.isMulti(record.word3) || Slot.isMulti(records[index].word3)
                (record.word2, record.word3) = Slot.encode(merged)
                record.word3 = Slot.withReport(record.word3, upload: sameUpload ? upload : 0, multi: multi)
                duplicates += 1
                index += 1
            }
            records[kept] = record
            kept += 1
        }
        guard let now else { return (duplicates, 0) }
        var live = 0
        for index in 0..<kept where !Slot.decode(records[index].word2, records[index].word3).isExpired(at: now) {
            records[live] = records[index]
            live += 1
        }
        return (duplicates, kept - live)
    }

    /// Home buckets, bucket count and max spill of the table for sorted, unique `records`.
    private static func layout(_ records: [SlotRecord]) -> SnapshotHeader {
        let homeBuckets = Bucket.homeBuckets(forEntries: records.count)
        var placement = BucketPlacement(homeBuckets: homeBuckets)
        var covers = false
        for record in records {
            placement.place(record.lo)
            if Slot.coversSubdomains(record.word3) { covers = true }
        }
        return SnapshotHeader(
            canonicalizerVersion: Canonicalizer.version, hasSubdomainEntries: covers, keyID: 0,
            entryCount: records.count, homeBuckets: homeBuckets, bucketCount: placement.bucketCount,
            maxSpill: placement.maxSpill, createdAt: 0, prefixes: NetworkPrefixes(),
            bodyChecksum: [UInt8](repeating: 0, count: StoreFormat.checksumSize))
    }
}

/// The greedy placement of docs/STORE-FORMAT.md ("Placement"): entries, fed in ascending
/// `(lo, hi)` order, each go to the bucket `max(home, bucket of the previous entry)`, or the
/// one after it when that bucket already holds 7. The writer runs it twice: once to size the
/// table, once to fill the buckets.
struct BucketPlacement {
    let homeBuckets: UInt64
    /// Bucket of the last entry placed, and how many entries it holds.
    private(set) var bucket = 0
    private(set) var used = 0
    /// Largest `bucket − home` so far.
    private(set) var maxSpill = 0

    init(homeBuckets: Int) { self.homeBuckets = UInt64(homeBuckets) }

    /// Places the next entry (by its stored `lo`); returns its bucket.
    @discardableResult
    mutating func place(_ lo: UInt64) -> Int {
        let home = Bucket.home(lo, homeBuckets: homeBuckets)
        if home > bucket {
            bucket = home
            used = 0
        } else if used == StoreFormat.slotsPerBucket {
            bucket += 1
            used = 0
        }
        used += 1
        maxSpill = max(maxSpill, bucket - home)
        return bucket
    }

    /// Buckets in the file: the home range, extended so the last bucket is never full.
    var bucketCount: Int {
        let needed = used == 0 ? 1 : bucket + 1 + (used == StoreFormat.slotsPerBucket ? 1 : 0)
        return max(Int(homeBuckets), needed)
    }
}

/// One entry as the writer holds it: digest lo, digest hi, the two metadata words
/// (docs/STORE-FORMAT.md, "Cold records").
struct SlotRecord {
    var lo: UInt64
    var hi: UInt64
    var word2: UInt64
    var word3: UInt64
}
