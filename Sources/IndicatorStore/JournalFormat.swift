public import IndicatorKit

/// One report of an upload as the journal carries it: the digest and its metadata.
public struct DigestReport: Equatable, Hashable, Sendable {
    public var digest: IndicatorDigest
    public var metadata: EntryMetadata

    public init(_ digest: IndicatorDigest, _ metadata: EntryMetadata) {
        self.digest = digest
        self.metadata = metadata
    }
}

/// The body of an upload record: everything needed to replay it and to answer a retry.
package struct UploadBody: Equatable, Sendable {
    package var id: UploadID
    package var number: UInt32
    package var source: UInt16
    package var format: UInt8
    /// Unix seconds when the hub accepted the upload (also the time its merge is done at).
    package var time: UInt64
    package var duplicates: UInt32
    package var refused: UInt32
    /// Network prefix lengths among the reports (for the matcher's probes and the next
    /// snapshot's header bitmaps).
    package var prefixes: NetworkPrefixes
    /// Unique stored digests, ascending; metadata's `sourceID` is `source`.
    package var reports: [DigestReport]
}

/// One journal record's content (docs/LIVE-UPDATES.md, "The journal").
package enum JournalRecord: Equatable, Sendable {
    case upload(UploadBody)
    case withdrawValues(source: UInt16, digests: [IndicatorDigest])
    case withdrawUpload(source: UInt16, id: UploadID)

    package var kind: UInt8 {
        switch self {
        case .upload: JournalFormat.Kind.upload
        case .withdrawValues: JournalFormat.Kind.withdrawValues
        case .withdrawUpload: JournalFormat.Kind.withdrawUpload
        }
    }
}

/// The journal's framing and payload layouts, in one place; docs/LIVE-UPDATES.md "The
/// journal" is the specification. All integers little-endian.
///
///     0      4  payload length L
///     4      1  kind
///     5      8  sequence number
///     13     L  payload
///     13+L  16  BLAKE2b-128 of bytes 0 ..< 13+L
package enum JournalFormat {
    package static let headerSize = 13
    package static let checksumSize = 16
    /// Framing bytes around a payload.
    package static let overhead = headerSize + checksumSize
    /// Bytes of one report in an upload payload: digest 16 + the two metadata words 16.
    package static let reportSize = 32
    /// Fixed part of an upload payload before its reports.
    package static let uploadFixedSize = 16 + 3 + 2 + 1 + 8 + 4 + 4 + 24 + 4
    /// Largest upload one record holds (128 MiB of reports).
    package static let maxReports = 1 << 22
    /// Largest withdrawal of values one record holds.
    package static let maxDigests = 1 << 22
    /// Largest payload a reader accepts (anything longer is damage).
    package static let maxPayload = uploadFixedSize + maxReports * reportSize
    /// File name prefix; the suffix is the first sequence number, 16 lower-case hex digits.
    package static let filePrefix = "journal."

    package enum Kind {
        package static let upload: UInt8 = 1
        package static let withdrawValues: UInt8 = 2
        package static let withdrawUpload: UInt8 = 3
    }

    /// `journal.` + 16 lower-case hex digits of `firstSequence`.
    package static func fileName(firstSequence: UInt64) -> String {
        let digits = String(firstSequence, radix: 16)
        return filePrefix + String(repeating: "0", count: 16 - digits.count) + digits
    }

    /// The first sequence number of a journal file name, nil for other names.
    package static func firstSequence(ofFile name: String) -> UInt64? {
        guard name.hasPrefix(filePrefix) else { return nil }
        let digits = name.dropFirst(filePrefix.count)
        guard digits.count == 16, digits.allSatisfy({ ("0"..."9").contains($0) || ("a"..."f").contains($0) }) else { return nil }
        return UInt64(digits, radix: 16)
    }

    /// Appends the framed record (`sequence`, `record`) to `out`.
    package static func append(_ record: JournalRecord, sequence: UInt64, to out: inout [UInt8]) {
        let start = out.count
        out.append(contentsOf: [0, 0, 0, 0, record.kind])
        put64(sequence, &out)
        switch record {
        case .upload(let body):
            put128(body.id.low, body.id.high, &out)
            put(UInt64(body.number), bytes: 3, &out)
            put(UInt64(body.source), bytes: 2, &out)
            out.append(body.format)
            put64(body.time, &out)
            put(UInt64(body.duplicates), bytes: 4, &out)
            put(UInt64(body.refused), bytes: 4, &out)
            put64(body.prefixes.ipv4, &out)
            put128(body.prefixes.ipv6Low, body.prefixes.ipv6High, &out)
            put(UInt64(body.reports.count), bytes: 4, &out)
            for report in body.reports {
                put128(report.digest.lo, report.digest.hi, &out)
                let (word2, word3) = Slot.encode(report.metadata)
                put128(word2, word3, &out)
            }
        case .withdrawValues(let source, let digests):
            put(UInt64(source), bytes: 2, &out)
            put(UInt64(digests.count), bytes: 4, &out)
            for digest in digests { put128(digest.lo, digest.hi, &out) }
        case .withdrawUpload(let source, let id):
            put(UInt64(source), bytes: 2, &out)
            put128(id.low, id.high, &out)
        }
        let length = out.count - start - headerSize
        precondition(length <= maxPayload, "journal record too large")
        for index in 0..<4 { out[start + index] = UInt8(truncatingIfNeeded: length >> (8 * index)) }
        let sum = out.withUnsafeBytes { BLAKE2b.hash(UnsafeRawBufferPointer(rebasing: $0[start...]), outputBytes: checksumSize) }
        out.append(contentsOf: sum)
    }

    /// What `frame` found at an offset of a journal file.
    package enum Frame {
        /// A record with a good checksum: kind, sequence, payload range, and its total size.
        case record(kind: UInt8, sequence: UInt64, payload: Range<Int>, size: Int)
        /// The bytes end inside the record's framing (a write cut short, if at the end).
        case runsPastEnd(String)
        /// The framing fits but the checksum does not match.
        case badChecksum
    }

    /// Frames the record at `offset` of `file` (bounds checks cannot overflow).
    package static func frame(_ file: UnsafeRawBufferPointer, at offset: Int) -> Frame {
        let remaining = file.count - offset
        guard remaining >= overhead else { return .runsPastEnd("\(remaining) bytes left, a record takes at least \(overhead)") }
        let length = Int(UInt32(littleEndian: file.loadUnaligned(fromByteOffset: offset, as: UInt32.self)))
        guard length <= maxPayload else { return .runsPastEnd("payload length \(length) exceeds \(maxPayload)") }
        guard remaining - overhead >= length else {
            return .runsPastEnd("payload length \(length) runs past the end of the file")
        }
        let end = offset + headerSize + length
        let sum = BLAKE2b.hash(UnsafeRawBufferPointer(rebasing: file[offset..<end]), outputBytes: checksumSize)
        guard zip(sum, file[end..<(end + checksumSize)]).allSatisfy({ $0 == $1 }) else { return .badChecksum }
        let sequence = UInt64(littleEndian: file.loadUnaligned(fromByteOffset: offset + 5, as: UInt64.self))
        return .record(kind: file[offset + 4], sequence: sequence, payload: (offset + headerSize)..<end, size: length + overhead)
    }

    /// Decodes a checksummed payload; nil with a reason when it is not what a writer writes.
    package static func decode(kind: UInt8, payload: UnsafeRawBufferPointer) -> Result<JournalRecord, DecodeFailure> {
        var reader = Reader(bytes: payload)
        switch kind {
        case Kind.upload:
            guard payload.count >= uploadFixedSize else { return .failure(DecodeFailure("upload payload of \(payload.count) bytes is too short")) }
            let id = UploadID(low: reader.u64(), high: reader.u64())
            let number = UInt32(reader.uint(3))
            let source = UInt16(reader.uint(2))
            let format = UInt8(reader.uint(1))
            let time = reader.u64()
            let duplicates = UInt32(reader.uint(4))
            let refused = UInt32(reader.uint(4))
            let prefixes = NetworkPrefixes(ipv4: reader.u64(), ipv6Low: reader.u64(), ipv6High: reader.u64())
            let count = Int(reader.uint(4))
            guard count <= maxReports, payload.count == uploadFixedSize + count * reportSize else {
                return .failure(DecodeFailure("upload payload of \(payload.count) bytes does not hold \(count) reports"))
            }
            guard number > 0, source > 0 else { return .failure(DecodeFailure("upload number or source id is zero")) }
            var reports: [DigestReport] = []
            reports.reserveCapacity(count)
            for index in 0..<count {
                let digest = IndicatorDigest(lo: reader.u64(), hi: reader.u64())
                let word2 = reader.u64()
                let word3 = reader.u64()
                guard Slot.isWellFormed(word2, word3, formatVersion: 2), UInt16(truncatingIfNeeded: word3) == source else {
                    return .failure(DecodeFailure("report \(index) has invalid metadata"))
                }
                reports.append(DigestReport(digest, Slot.decode(word2, word3)))
            }
            return .success(.upload(UploadBody(
                id: id, number: number, source: source, format: format, time: time, duplicates: duplicates,
                refused: refused, prefixes: prefixes, reports: reports)))
        case Kind.withdrawValues:
            guard payload.count >= 6 else { return .failure(DecodeFailure("withdrawal payload of \(payload.count) bytes is too short")) }
            let source = UInt16(reader.uint(2))
            let count = Int(reader.uint(4))
            guard count <= maxDigests, payload.count == 6 + 16 * count else {
                return .failure(DecodeFailure("withdrawal payload of \(payload.count) bytes does not hold \(count) digests"))
            }
            return .success(.withdrawValues(source: source, digests: (0..<count).map { _ in IndicatorDigest(lo: reader.u64(), hi: reader.u64()) }))
        case Kind.withdrawUpload:
            guard payload.count == 18 else { return .failure(DecodeFailure("upload withdrawal payload of \(payload.count) bytes, expected 18")) }
            let source = UInt16(reader.uint(2))
            return .success(.withdrawUpload(source: source, id: UploadID(low: reader.u64(), high: reader.u64())))
        default:
            return .failure(DecodeFailure("unknown record kind \(kind)"))
        }
    }

    package struct DecodeFailure: Error {
        package var reason: String
        init(_ reason: String) { self.reason = reason }
    }

    /// Sequential little-endian reads; callers check the length first.
    private struct Reader {
        let bytes: UnsafeRawBufferPointer
        var position = 0

        mutating func uint(_ width: Int) -> UInt64 {
            var value: UInt64 = 0
            for index in 0..<width { value |= UInt64(bytes[position + index]) << (8 * index) }
            position += width
            return value
        }

        mutating func u64() -> UInt64 { uint(8) }
    }

    private static func put(_ value: UInt64, bytes: Int, _ out: inout [UInt8]) {
        for index in 0..<bytes { out.append(UInt8(truncatingIfNeeded: value >> (8 * index))) }
    }

    private static func put64(_ value: UInt64, _ out: inout [UInt8]) { put(value, bytes: 8, &out) }

    private static func put128(_ low: UInt64, _ high: UInt64, _ out: inout [UInt8]) {
        put(low, bytes: 8, &out)
        put(high, bytes: 8, &out)
    }
}
