public import IndicatorKit

/// Turns feed files into keyed digests with metadata, ready for the store: reads each record,
/// canonicalises and digests it, hands the entry to the caller's sink and keeps a report. Raw
/// values never outlive the call that read them. Pure: the caller reads files and writes the
/// store. Entries are not deduplicated here: the store's writer merges equal digests (it sorts
/// anyway), and the caller turns its merge count into `duplicates`.
public struct FeedDigester {
    /// One entry for the store.
    public struct Entry: Equatable, Sendable {
        public var digest: IndicatorDigest
        public var metadata: EntryMetadata
        /// Type and prefix length (the store records which network lengths it holds).
        public var form: CanonicalForm
    }

    /// What happened to an upload's records.
    public struct Report: Equatable, Sendable {
        /// Records that were valid and new. `FeedDigester` counts every valid record here;
        /// `countDuplicates(_:)` moves the merged ones to `duplicates`.
        public var accepted = 0
        /// Valid records whose value was already in this upload or in the store.
        public var duplicates = 0
        /// Records refused; each has a problem below.
        public var rejected: Int { problems.count }
        /// Every refused record with file, line and reason, in file order.
        public var problems: [FeedProblem] = []
        /// Records left out on purpose (a MISP type the hub does not list, `to_ids` false, a
        /// deleted attribute, a benign STIX indicator), by reason.
        public var skippedByReason: [String: Int] = [:]
        /// Valid withdrawals (STIX `revoked: true`). They are also in `problems`: until the
        /// live store exists (issue 4), `ihub ingest` cannot remove entries.
        public var withdrawals = 0

        public var skipped: Int { skippedByReason.values.reduce(0, +) }

        public init() {}

        /// Moves `merged` records (valid ones whose digest was already present) from
        /// `accepted` to `duplicates`.
        public mutating func countDuplicates(_ merged: Int) {
            accepted -= merged
            duplicates += merged
        }
    }

    public let key: DigestKey
    /// Metadata every record gets unless the feed says otherwise (source id included).
    public let defaults: EntryMetadata
    /// Unix seconds; records already expired at this time are refused.
    public let now: UInt32

    private var report = Report()
    private let scratch: UnsafeMutableBufferPointer<UInt8>

    /// Whether the upload is defanged (`hxxp://`, `[.]`, …): values are refanged before they are
    /// read. When false, a value that looks defanged is refused with a hint.
    public var defanged = false

    public init(key: DigestKey, defaults: EntryMetadata, now: UInt32, defanged: Bool = false) {
        self.key = key
        self.defaults = defaults
        self.now = now
        self.defanged = defanged
        scratch = .allocate(capacity: Canonicalizer.scratchBytes)
        refanged = .allocate(capacity: Canonicalizer.maxInputBytes)
    }

    private let refanged: UnsafeMutableBufferPointer<UInt8>

    /// Frees the scratch buffer (wiping it: it held canonical values).
    public func release() {
        scratch.update(repeating: 0)
        scratch.deallocate()
        refanged.update(repeating: 0)
        refanged.deallocate()
    }

    /// Number of valid records so far (duplicates included).
    public var recordCount: Int { report.accepted }

    /// Reads one file's bytes in `format` (`nil` = detect), passing each valid record's entry
    /// to `sink`. `type` forces every value's type. A file-level error leaves the report as
    /// it was before the call (the entries already passed to `sink` are the caller's to drop).
    public mutating func add(
        _ bytes: UnsafeBufferPointer<UInt8>, file: String, format: FeedFormat?, type: IndicatorType?,
        valueColumn: String? = nil, into sink: (Entry) -> Void
    ) throws(FeedError) {
        if LineScanner.looksBinary(bytes) { throw .binary(file: file) }
        let firstProblem = report.problems.count
        guard let format = format ?? FeedFormat.detect(bytes) else { throw .unknownFormat(file: file) }
        let skip: (String) -> Void = { reason in report.skippedByReason[reason, default: 0] += 1 }
        switch format {
        case .stix:
            try STIXReader.read(bytes, file: file, { record in take(record, file: file, sink) },
                                problem: { report.problems.append($0) }, skipped: skip)
        case .misp:
            try MISPReader.read(bytes, file: file, { record in take(record, file: file, sink) },
                                problem: { report.problems.append($0) }, skipped: skip)
        case .list:
            ListReader.read(bytes, type: type) { record in take(record, file: file, sink) }
        case .csv:
            try CSVReader.read(
                bytes, file: file, type: type, valueColumn: valueColumn,
                { record in take(record, file: file, sink) }, problem: { report.problems.append($0) })
            // CSV-level and record-level problems interleave: keep this file's in line order.
            report.problems[firstProblem...].sort { $0.line < $1.line }
        }
    }

    private mutating func take(_ record: FeedRecord, file: String, _ sink: (Entry) -> Void) {
        var writer = ByteWriter(scratch)
        var value = record.value
        if let marker = Defang.firstMarker(in: value) {
            guard defanged else {
                report.problems.append(FeedProblem(
                    file: file, line: record.line, path: record.path,
                    reason: "looks defanged ('\(marker)'); if the upload is defanged, pass --defanged"))
                return
            }
            // A value longer than the canonicaliser's limit is left as it is: refused as too long.
            if value.count <= refanged.count { value = Defang.refang(value, into: refanged) }
        }
        do {
            let form = try Canonicalizer.canonicalize(value, as: record.type, into: &writer)
            if form.type == .url, let reason = Self.implausibleURLHost(writer.written) {
                report.problems.append(FeedProblem(file: file, line: record.line, path: record.path, reason: reason))
                return
            }
            var metadata = record.fields.applied(to: defaults)
            metadata.coversSubdomains = form.coversSubdomains
            if record.action == .withdraw {
                report.withdrawals += 1
                report.problems.append(FeedProblem(
                    file: file, line: record.line, path: record.path,
                    reason: "revoked: a withdrawal; withdrawals need the live store (issue 4) and are not applied by ingest"))
                return
            }
            if metadata.isExpired(at: now) {
                report.problems.append(FeedProblem(
                    file: file, line: record.line, path: record.path,
                    reason: "already expired (expires \(metadata.expires) is not after now, \(now))"))
                return
            }
            sink(Entry(digest: key.digest(form, canonical: writer.written), metadata: metadata, form: form))
            report.accepted += 1
        } catch {
            report.problems.append(FeedProblem(file: file, line: record.line, path: record.path, reason: error.description))
        }
    }

    /// Why a canonical URL cannot be one a feed lists, or nil. Safe Browsing canonicalisation
    /// (docs/INDICATORS.md) accepts any host and percent-escapes what a host name cannot hold,
    /// because a browser-side check must match whatever it is shown; but a feed's URL names a
    /// real host, and no resolvable host name contains an escaped byte. Real MISP events hold
    /// `url` attributes such as "not a url at all", which canonicalise to
    /// `http://not%20a%20url%20at%20all/`: refused here rather than stored.
    package static func implausibleURLHost(_ canonical: UnsafeBufferPointer<UInt8>) -> String? {
        guard let schemeEnd = canonical.firstIndex(of: UInt8(ascii: ":")),
              schemeEnd + 3 <= canonical.count else { return nil }
        let hostStart = schemeEnd + 3
        let hostEnd = canonical[hostStart...].firstIndex(of: UInt8(ascii: "/")) ?? canonical.count
        let host = canonical[hostStart..<hostEnd]
        guard host.contains(UInt8(ascii: "%")) else { return nil }
        return "URL host '\(String(decoding: host, as: UTF8.self))' is not a host name or address "
            + "(it holds bytes a host name cannot, shown %-escaped)"
    }

    /// The report so far: every valid record counted as accepted until the caller applies
    /// the store's merge count with `Report.countDuplicates`.
    public var currentReport: Report { report }
}
