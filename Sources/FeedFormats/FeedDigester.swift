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

    public init(key: DigestKey, defaults: EntryMetadata, now: UInt32) {
        self.key = key
        self.defaults = defaults
        self.now = now
        scratch = .allocate(capacity: Canonicalizer.scratchBytes)
    }

    /// Frees the scratch buffer (wiping it: it held canonical values).
    public func release() {
        scratch.update(repeating: 0)
        scratch.deallocate()
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
        switch format ?? FeedFormat.detect(bytes) {
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
        do {
            let form = try Canonicalizer.canonicalize(record.value, as: record.type, into: &writer)
            var metadata = record.fields.applied(to: defaults)
            metadata.coversSubdomains = form.coversSubdomains
            if metadata.isExpired(at: now) {
                report.problems.append(FeedProblem(
                    file: file, line: record.line,
                    reason: "already expired (expires \(metadata.expires) is not after now, \(now))"))
                return
            }
            sink(Entry(digest: key.digest(form, canonical: writer.written), metadata: metadata, form: form))
            report.accepted += 1
        } catch {
            report.problems.append(FeedProblem(file: file, line: record.line, reason: error.description))
        }
    }

    /// The report so far: every valid record counted as accepted until the caller applies
    /// the store's merge count with `Report.countDuplicates`.
    public var currentReport: Report { report }
}
