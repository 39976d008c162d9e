package import IndicatorKit

/// The answer to an accepted upload; a retry with the same id and content gets the same one.
public struct UploadReceipt: Equatable, Hashable, Sendable {
    /// The upload's number (24 bits, from 1, never reused).
    public var uploadNumber: UInt32
    /// Unique reports the upload holds.
    public var accepted: UInt32
    /// Records merged into another of the same digest (the caller's count plus the store's).
    public var duplicates: UInt32
    /// Records the caller refused while reading the upload.
    public var refused: UInt32
    /// Unix seconds when the hub accepted it.
    public var time: UInt64
}

/// One upload of the index (docs/LIVE-UPDATES.md, "Uploads, upload numbers and sequence
/// numbers"): what a retry is recognised by and what `withdraw upload` resolves.
package struct UploadIndexRecord: Equatable, Sendable {
    package var id: UploadID
    package var source: UInt16
    package var format: UInt8
    package var withdrawn: Bool
    package var receipt: UploadReceipt
    /// BLAKE2b-256 of the canonical content (`UploadIndex.contentHash`).
    package var contentHash: [UInt8]
}

/// The upload index: upload id → record. Owned by the live store's writer; checkpointed to
/// `uploads.NNNNNNNNNNNNNNNN` at compaction, the uploads after that rebuilt from the journal.
package struct UploadIndex: Sendable {
    package private(set) var records: [UploadID: UploadIndexRecord] = [:]
    /// The largest upload number used (0: none).
    package private(set) var lastNumber: UInt32 = 0

    package init() {}

    package subscript(id: UploadID) -> UploadIndexRecord? { records[id] }

    package mutating func insert(_ record: UploadIndexRecord) {
        records[record.id] = record
        lastNumber = max(lastNumber, record.receipt.uploadNumber)
    }

    package mutating func markWithdrawn(_ id: UploadID) { records[id]?.withdrawn = true }

    /// The content hash of an upload: BLAKE2b-256 over source (2), format (1), report count (4)
    /// and each report (digest 16, the two metadata words 16), reports sorted by digest —
    /// the digests and metadata the upload produced, not its bytes, so a retry that re-encodes
    /// the same feed is the same upload.
    package static func contentHash(source: UInt16, format: UInt8, reports: [DigestReport]) -> [UInt8] {
        contentHash(source: source, format: format, reports: reports, order: .digest)
    }

    /// The order a content hash lists the reports in: `IndicatorDigest`'s (`hi`, then `lo`),
    /// as a pushed upload's reports are sorted, or stored-digest order (`lo`, then `hi`), as a
    /// local ingest's are (docs/LIVE-UPDATES.md, "Local ingest"). A retry is recognised by
    /// either.
    package enum HashOrder: Sendable { case digest, stored }

    /// Whether `hash` is the content hash of `reports` (sorted by digest, as `prepare` leaves
    /// them) in either order; the stored-order one is computed only if the first differs.
    package static func hash(
        _ hash: [UInt8], matches canonical: [UInt8], source: UInt16, format: UInt8, reports: [DigestReport]
    ) -> Bool {
        hash == canonical || hash == contentHash(source: source, format: format, reports: reports, order: .stored)
    }

    package static func contentHash(source: UInt16, format: UInt8, reports: [DigestReport], order: HashOrder) -> [UInt8] {
        var reports = reports
        if order == .stored { reports.sort { ($0.digest.lo, $0.digest.hi) < ($1.digest.lo, $1.digest.hi) } }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(7 + 32 * reports.count)
        func put(_ value: UInt64, _ width: Int) {
            for index in 0..<width { bytes.append(UInt8(truncatingIfNeeded: value >> (8 * index))) }
        }
        put(UInt64(source), 2)
        put(UInt64(format), 1)
        put(UInt64(reports.count), 4)
        for report in reports {
            let (word2, word3) = Slot.encode(report.metadata)
            put(report.digest.lo, 8)
            put(report.digest.hi, 8)
            put(word2, 8)
            put(word3, 8)
        }
        return bytes.withUnsafeBytes { BLAKE2b.hash($0, outputBytes: 32) }
    }

    /// The checkpoint records (80 bytes each, by upload number): id 16, number 4, source 2,
    /// format 1, flags 1 (bit 0 withdrawn), accepted 4, duplicates 4, refused 4, zero 4,
    /// time 8, content hash 32.
    func encode() -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(records.count * 80)
        func put(_ value: UInt64, _ width: Int) {
            for index in 0..<width { out.append(UInt8(truncatingIfNeeded: value >> (8 * index))) }
        }
        for record in records.values.sorted(by: { $0.receipt.uploadNumber < $1.receipt.uploadNumber }) {
            put(record.id.low, 8)
            put(record.id.high, 8)
            put(UInt64(record.receipt.uploadNumber), 4)
            put(UInt64(record.source), 2)
            put(UInt64(record.format), 1)
            put(record.withdrawn ? 1 : 0, 1)
            put(UInt64(record.receipt.accepted), 4)
            put(UInt64(record.receipt.duplicates), 4)
            put(UInt64(record.receipt.refused), 4)
            put(0, 4)
            put(record.receipt.time, 8)
            out.append(contentsOf: record.contentHash)
        }
        return out
    }

    static func decode(_ bytes: [UInt8], path: String) throws(LiveStoreError) -> UploadIndex {
        var index = UploadIndex()
        for start in stride(from: 0, to: bytes.count, by: 80) {
            func u(_ offset: Int, _ width: Int) -> UInt64 {
                bytes[(start + offset)..<(start + offset + width)].reversed().reduce(0) { $0 << 8 | UInt64($1) }
            }
            let number = UInt32(u(16, 4))
            guard number > 0, number < 1 << 24, u(20, 2) > 0, bytes[start + 23] & ~1 == 0, u(36, 4) == 0 else {
                throw .tableCorrupt(path: path, reason: "upload record \(start / 80) is malformed")
            }
            let id = UploadID(low: u(0, 8), high: u(8, 8))
            guard index[id] == nil else { throw .tableCorrupt(path: path, reason: "upload record \(start / 80) repeats an id") }
            index.insert(UploadIndexRecord(
                id: id, source: UInt16(u(20, 2)), format: bytes[start + 22], withdrawn: bytes[start + 23] & 1 != 0,
                receipt: UploadReceipt(
                    uploadNumber: number, accepted: UInt32(u(24, 4)), duplicates: UInt32(u(28, 4)),
                    refused: UInt32(u(32, 4)), time: u(40, 8)),
                contentHash: Array(bytes[(start + 48)..<(start + 80)])))
        }
        return index
    }
}
