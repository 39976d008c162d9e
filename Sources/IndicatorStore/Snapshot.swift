public import IndicatorKit

/// An open snapshot: a read-only, memory-mapped table of digests and metadata (a hot array
/// of 64-byte buckets of fingerprints and a cold array of records)
/// (docs/STORE-FORMAT.md). Opening is O(1) — the header is checked and the file is mapped,
/// nothing is parsed — unless `.full` verification is asked for.
///
/// A snapshot is immutable and safe to share between threads; `Matcher`s (one per thread)
/// read it. The file must not be modified in place while open (writers replace it by
/// `rename`, see `SnapshotWriter`); truncating a mapped file would fault the reader.
public final class Snapshot: @unchecked Sendable {
    /// How much of the file `open` checks.
    public enum Verification: Sendable {
        /// O(1): magic, version, header checksum, field ranges, exact file size, key id and
        /// canonicaliser version. A corrupted body is not detected, but lookups stay in bounds
        /// (scans stop at the last bucket, cold indexes are checked against the entry count).
        case header
        /// Also the body checksum and the structural invariants of every bucket and record
        /// (`checkInvariants`). Reads the whole file: use for imports, backups and tests.
        case full
    }

    /// Where the table lives once open.
    public enum Memory: Sendable, Equatable {
        /// A read-only shared mapping of the file (page cache). `populate` pre-faults it
        /// (`MAP_POPULATE`), so the first lookups do not take page faults.
        case fileMapping(populate: Bool)
        /// A private anonymous copy of the file, optionally with transparent huge pages
        /// (`MADV_HUGEPAGE`; file-backed mappings usually cannot use them). Costs a full
        /// read at open; fewer TLB misses afterwards.
        case anonymousCopy(hugePages: Bool)
    }

    /// The file the snapshot was opened from.
    public let path: String
    /// The decoded header.
    public let header: SnapshotHeader
    /// Where the table lives (as `open` was asked).
    public let memory: Memory
    let mapping: Mapping
    let table: BucketTable

    /// Opens the snapshot at `path`, refusing it unless it was built with the digest key
    /// whose id is `keyID` and with this build's canonicaliser version.
    public static func open(
        _ path: String, keyID: UInt64, verification: Verification = .header,
        memory: Memory = .fileMapping(populate: false)
    ) throws(StoreError) -> Snapshot {
        let mapping = try Mapping.open(path, memory: memory)
        let header = try SnapshotHeader.decode(mapping.bytes, fileSize: mapping.fileSize, path: path)
        guard header.keyID == keyID else {
            throw .keyMismatch(path: path, expected: keyID, found: header.keyID)
        }
        guard header.canonicalizerVersion == Canonicalizer.version else {
            throw .canonicalizerMismatch(
                path: path, expected: Canonicalizer.version, found: header.canonicalizerVersion)
        }
        let snapshot = Snapshot(path: path, header: header, memory: memory, mapping: mapping)
        if verification == .full {
            try snapshot.verifyBodyChecksum()
            try snapshot.checkInvariants()
        }
        return snapshot
    }

    /// Opens the snapshot at `path` for use with `key` (see `open(_:keyID:verification:memory:)`).
    public static func open(
        _ path: String, key: DigestKey, verification: Verification = .header,
        memory: Memory = .fileMapping(populate: false)
    ) throws(StoreError) -> Snapshot {
        try open(path, keyID: key.id, verification: verification, memory: memory)
    }

    private init(path: String, header: SnapshotHeader, memory: Memory, mapping: Mapping) {
        self.path = path
        self.header = header
        self.memory = memory
        self.mapping = mapping
        self.table = BucketTable(file: mapping.bytes.baseAddress!, header: header)
    }

    /// Number of entries (expired ones included until the next rewrite).
    public var entryCount: Int { header.entryCount }

    /// Size of the file (and of the table in memory), in bytes.
    public var byteCount: Int { header.fileSize }

    /// The metadata stored for `digest` (a digest as computed by `DigestKey`), or nil when it
    /// is absent or expired at `now` (Unix seconds). One probe; no CIDR or parent logic
    /// (that is `Matcher`'s job).
    public func lookup(_ digest: IndicatorDigest, now: UInt32) -> EntryMetadata? {
        let stored = Slot.stored(digest)
        let index = table.find(lo: stored.lo, hi: stored.hi)
        guard index >= 0 else { return nil }
        let metadata = table.metadata(at: index)
        return metadata.isExpired(at: now) ? nil : metadata
    }

    /// Calls `body` with every entry in bucket order (ascending digest): `lo` from the bucket's
    /// fingerprint, `hi` and the metadata from the cold record. With `liveAt`, entries expired
    /// at that time are skipped. Used to merge a new ingest into the existing store.
    public func forEachEntry<E: Error>(
        liveAt now: UInt32? = nil, _ body: (IndicatorDigest, EntryMetadata) throws(E) -> Void
    ) throws(E) {
        for bucket in 0..<header.bucketCount {
            let base = table.base(bucket)
            for slot in 0..<min(table.rawCount(bucket), StoreFormat.slotsPerBucket) where base + slot < header.entryCount {
                let entry = base + slot
                let metadata = table.metadata(at: entry)
                if let now, metadata.isExpired(at: now) { continue }
                try body(IndicatorDigest(lo: table.fingerprint(bucket, slot), hi: table.hi(at: entry)), metadata)
            }
        }
    }

    /// Recomputes the body checksum and compares it with the header's.
    func verifyBodyChecksum() throws(StoreError) {
        let body = UnsafeRawBufferPointer(rebasing: mapping.bytes[StoreFormat.headerSize...])
        let computed = Checksum.of(body)
        let matches = header.bodyChecksum.withUnsafeBytes { Checksum.matches($0, computed) }
        guard matches else { throw .checksumMismatch(path: path, section: .body) }
    }
}
