/// The fixed-record files compaction writes beside a snapshot: the reports table
/// (`reports.NNNNNNNNNNNNNNNN`) and the upload index checkpoint (`uploads.NNNNNNNNNNNNNNNN`),
/// both named by the sequence number of the snapshot they belong to (docs/LIVE-UPDATES.md,
/// "Files"). Layout, all integers little-endian:
///
///     0    8  magic (IHUBRPTS or IHUBUPLD)
///     8    4  version, 1
///     12   4  record size
///     16   8  digest key id
///     24   8  sequence (= the snapshot's, = the file name's)
///     32   8  record count n
///     40  32  BLAKE2b-256 of the records
///     72  24  zero
///     96  32  BLAKE2b-256 of bytes 0..<96
///     128     n records
enum TableFile {
    static let headerSize = 128
    static let version: UInt32 = 1

    struct Kind {
        let magic: [UInt8]
        let recordSize: Int
        let prefix: String

        static let reports = Kind(magic: Array("IHUBRPTS".utf8), recordSize: 32, prefix: "reports.")
        static let uploads = Kind(magic: Array("IHUBUPLD".utf8), recordSize: 80, prefix: "uploads.")

        func fileName(sequence: UInt64) -> String {
            let digits = String(sequence, radix: 16)
            return prefix + String(repeating: "0", count: 16 - digits.count) + digits
        }

        func sequence(ofFile name: String) -> UInt64? {
            guard name.hasPrefix(prefix) else { return nil }
            let digits = name.dropFirst(prefix.count)
            guard digits.count == 16, digits.allSatisfy({ $0.isHexDigit && !$0.isUppercase }) else { return nil }
            return UInt64(digits, radix: 16)
        }
    }

    /// Writes `records` (a multiple of the record size) crash-safely: temporary file, `fsync`,
    /// `rename`, `fsync` of the directory.
    static func write(_ path: String, kind: Kind, keyID: UInt64, sequence: UInt64, records: [UInt8]) throws(LiveStoreError) {
        precondition(records.count % kind.recordSize == 0)
        var bytes = [UInt8](repeating: 0, count: headerSize)
        bytes.replaceSubrange(0..<8, with: kind.magic)
        store(UInt64(version) | UInt64(kind.recordSize) << 32, at: 8, in: &bytes)
        store(keyID, at: 16, in: &bytes)
        store(sequence, at: 24, in: &bytes)
        store(UInt64(records.count / kind.recordSize), at: 32, in: &bytes)
        bytes.replaceSubrange(40..<72, with: records.withUnsafeBytes { Checksum.of($0) })
        bytes.replaceSubrange(96..<128, with: bytes.withUnsafeBytes { Checksum.of(UnsafeRawBufferPointer(rebasing: $0[0..<96])) })
        bytes.append(contentsOf: records)
        try Journal.storeCall { () throws(StoreError) in try Syscalls.writeFileAtomically(path, bytes, mode: 0o600) }
    }

    /// Reads and checks the file at `path`; returns its records' bytes.
    static func read(_ path: String, kind: Kind, keyID: UInt64, sequence: UInt64) throws(LiveStoreError) -> [UInt8] {
        let bytes = try Journal.storeCall { () throws(StoreError) in try Syscalls.readFile(path, limit: Int.max) }
        func fail(_ reason: String) -> LiveStoreError { .tableCorrupt(path: path, reason: reason) }
        guard bytes.count >= headerSize else { throw fail("\(bytes.count) bytes, shorter than the \(headerSize)-byte header") }
        guard Array(bytes[0..<8]) == kind.magic else { throw fail("bad magic") }
        let headerSum = bytes.withUnsafeBytes { Checksum.of(UnsafeRawBufferPointer(rebasing: $0[0..<96])) }
        guard Array(bytes[96..<128]) == headerSum else { throw fail("header checksum mismatch") }
        guard load(bytes, 8) == UInt64(version) | UInt64(kind.recordSize) << 32 else { throw fail("unknown version or record size") }
        guard load(bytes, 16) == keyID else { throw fail("made with another digest key") }
        guard load(bytes, 24) == sequence else { throw fail("sequence \(load(bytes, 24)), the snapshot's is \(sequence)") }
        guard bytes[72..<96].allSatisfy({ $0 == 0 }) else { throw fail("reserved header bytes are not zero") }
        let count = load(bytes, 32)
        let body = bytes.count - headerSize
        guard count <= UInt64(body / kind.recordSize), Int(count) * kind.recordSize == body else {
            throw fail("\(body) bytes of records, the header says \(count) of \(kind.recordSize)")
        }
        let records = Array(bytes[headerSize...])
        guard Array(bytes[40..<72]) == records.withUnsafeBytes({ Checksum.of($0) }) else { throw fail("body checksum mismatch") }
        return records
    }

    static func store(_ value: UInt64, at offset: Int, in bytes: inout [UInt8]) {
        for index in 0..<8 { bytes[offset + index] = UInt8(truncatingIfNeeded: value >> (8 * index)) }
    }

    static func load(_ bytes: [UInt8], _ offset: Int) -> UInt64 {
        bytes[offset..<(offset + 8)].reversed().reduce(0) { $0 << 8 | UInt64($1) }
    }
}

extension ReportsTable {
    /// The records of the reports table: per report, digest (16), then the two metadata words
    /// with the report's upload number in word 3's top 24 bits; sorted by digest, then source.
    func encode() -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(reports.values.reduce(0) { $0 + $1.count } * 32)
        for digest in reports.keys.sorted() {
            for report in reports[digest]!.sorted(by: { $0.source < $1.source }) {
                let (word2, word3) = Slot.encode(report.metadata)
                for word in [digest.lo, digest.hi, word2, Slot.withReport(word3, upload: report.upload, multi: false)] {
                    for index in 0..<8 { out.append(UInt8(truncatingIfNeeded: word >> (8 * index))) }
                }
            }
        }
        return out
    }

    /// Decodes the records (`encode`'s layout), refusing what a writer never writes.
    static func decode(_ records: [UInt8], path: String) throws(LiveStoreError) -> ReportsTable {
        var table: [IndicatorDigest: [Report]] = [:]
        var previous: (IndicatorDigest, UInt16)? = nil
        for start in stride(from: 0, to: records.count, by: 32) {
            let digest = IndicatorDigest(lo: TableFile.load(records, start), hi: TableFile.load(records, start + 8))
            let word2 = TableFile.load(records, start + 16)
            let word3 = TableFile.load(records, start + 24)
            guard Slot.isWellFormed(word2, word3), !Slot.isMulti(word3) else {
                throw .tableCorrupt(path: path, reason: "report \(start / 32) has invalid metadata")
            }
            let report = Report(source: UInt16(truncatingIfNeeded: word3), upload: Slot.uploadNumber(word3), metadata: Slot.decode(word2, word3))
            if let (lastDigest, lastSource) = previous, (lastDigest, lastSource) >= (digest, report.source) {
                throw .tableCorrupt(path: path, reason: "report \(start / 32) is out of order (digest, then source, ascending)")
            }
            previous = (digest, report.source)
            table[digest, default: []].append(report)
        }
        return ReportsTable(table)
    }
}

import IndicatorKit
