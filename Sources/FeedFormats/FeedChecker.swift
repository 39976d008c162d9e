public import IndicatorKit

/// Reads feed files for `ihub push`: the same readers and the same per-record checks as
/// `FeedDigester` (refanging, canonicalisation, plausible URL hosts, expiry), but instead of
/// digests it hands out each good record as the feed wrote it, for the hub to canonicalise and
/// digest itself. Refused records go into the report with file, line (or JSON path) and reason,
/// exactly as `ihub ingest` reports them, and are never sent.
public struct FeedChecker {
    /// Unix seconds; records already expired at this time are refused.
    public let now: UInt32
    /// Whether the upload is defanged: values are checked refanged (and sent as written, with
    /// the upload's defanged flag).
    public let defanged: Bool
    /// Refused records, skips and withdrawals so far (`accepted` counts the good records).
    public private(set) var report = FeedDigester.Report()

    public init(now: UInt32, defanged: Bool) {
        self.now = now
        self.defanged = defanged
    }

    /// Reads one file's bytes in `format` (nil = detect) and calls `body` with each good
    /// record, the type the value was read as, and the value as checked (refanged when the
    /// upload is defanged); the bytes are valid only during the call.
    public mutating func check(
        _ bytes: UnsafeBufferPointer<UInt8>, file: String, format: FeedFormat?, type: IndicatorType?,
        valueColumn: String? = nil, _ body: (FeedRecord, IndicatorType, UnsafeBufferPointer<UInt8>) -> Void
    ) throws(FeedError) -> FeedFormat {
        if LineScanner.looksBinary(bytes) { throw .binary(file: file) }
        guard let format = format ?? FeedFormat.detect(bytes) else { throw .unknownFormat(file: file) }
        let firstProblem = report.problems.count
        let scratch = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: Canonicalizer.scratchBytes)
        let refanged = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: Canonicalizer.maxInputBytes)
        defer {
            scratch.update(repeating: 0)
            scratch.deallocate()
            refanged.update(repeating: 0)
            refanged.deallocate()
        }
        let take: (FeedRecord) -> Void = { record in
            checkRecord(record, file: file, scratch: scratch, refanged: refanged, body)
        }
        let skip: (String) -> Void = { reason in report.skippedByReason[reason, default: 0] += 1 }
        switch format {
        case .stix:
            try STIXReader.read(bytes, file: file, take, problem: { report.problems.append($0) }, skipped: skip)
        case .misp:
            try MISPReader.read(bytes, file: file, take, problem: { report.problems.append($0) }, skipped: skip)
        case .list:
            ListReader.read(bytes, type: type, take)
        case .csv:
            try CSVReader.read(bytes, file: file, type: type, valueColumn: valueColumn, take,
                               problem: { report.problems.append($0) })
            report.problems[firstProblem...].sort { $0.line < $1.line }
        }
        return format
    }

    private mutating func checkRecord(_ record: FeedRecord, file: String, scratch: UnsafeMutableBufferPointer<UInt8>,
                               refanged: UnsafeMutableBufferPointer<UInt8>, _ body: (FeedRecord, IndicatorType, UnsafeBufferPointer<UInt8>) -> Void) {
        func refuse(_ reason: String) {
            report.problems.append(FeedProblem(file: file, line: record.line, path: record.path, reason: reason))
        }
        var value = record.value
        if let marker = Defang.firstMarker(in: value) {
            guard defanged else {
                refuse("looks defanged ('\(marker)'); if the upload is defanged, pass --defanged")
                return
            }
            if value.count <= refanged.count { value = Defang.refang(value, into: refanged) }
        }
        var writer = ByteWriter(scratch)
        do {
            let form = try Canonicalizer.canonicalize(value, as: record.type, into: &writer)
            if form.type == .url, let reason = FeedDigester.implausibleURLHost(writer.written) {
                refuse(reason)
                return
            }
            if record.action == .add, let expires = record.fields.expires, expires != 0, now >= expires {
                refuse("already expired (expires \(expires) is not after now, \(now))")
                return
            }
            if record.action == .withdraw { report.withdrawals += 1 } else { report.accepted += 1 }
            body(record, form.type, value)
        } catch {
            refuse(error.description)
        }
    }
}
