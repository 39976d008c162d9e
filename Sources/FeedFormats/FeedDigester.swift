public import IndicatorKit

/// Turns feed files into keyed digests with metadata, ready for the store: reads each record,
/// canonicalises and digests it, and keeps a report. Raw values never outlive the call that
/// read them. Pure: the caller reads files and writes the store.
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
        /// Records that were valid and new.
        public var accepted = 0
        /// Valid records whose value was already in this upload (or, once merged, in the store).
        public var duplicates = 0
        /// Records refused; each has a problem below.
        public var rejected: Int { problems.count }
        /// Every refused record with file, line and reason, in file order.
        public var problems: [FeedProblem] = []

        public init() {}
    }

    public let key: DigestKey
    /// Metadata every record gets unless the feed says otherwise (source id included).
    public let defaults: EntryMetadata
    /// Unix seconds; records already expired at this time are refused.
    public let now: UInt32

    private var entries: [Entry] = []
    private var problems: [FeedProblem] = []
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
    public var recordCount: Int { entries.count }

    /// Reads one file's bytes in `format` (`nil` = detect). `type` forces every value's type.
    public mutating func add(
        _ bytes: UnsafeBufferPointer<UInt8>, file: String, format: FeedFormat?, type: IndicatorType?,
        valueColumn: String? = nil
    ) throws(FeedError) {
        if LineScanner.looksBinary(bytes) { throw .binary(file: file) }
        let chosen = format ?? FeedFormat.detect(bytes)
        switch chosen {
        case .list:
            ListReader.read(bytes, type: type) { record in take(record, file: file) }
        case .csv:
            var found: [FeedProblem] = []
            try CSVReader.read(
                bytes, file: file, type: type, valueColumn: valueColumn,
                { record in take(record, file: file) }, problem: { found.append($0) })
            // CSV problems and record problems interleave by line.
            problems.append(contentsOf: found)
            problems.sort { ($0.file, $0.line) < ($1.file, $1.line) }
        }
    }

    private mutating func take(_ record: FeedRecord, file: String) {
        var writer = ByteWriter(scratch)
        do {
            let form = try Canonicalizer.canonicalize(record.value, as: record.type, into: &writer)
            var metadata = record.fields.applied(to: defaults)
            metadata.coversSubdomains = form.coversSubdomains
            if metadata.isExpired(at: now) {
                problems.append(FeedProblem(
                    file: file, line: record.line,
                    reason: "already expired (expires \(metadata.expires) is not after now, \(now))"))
                return
            }
            let digest = key.digest(form, canonical: writer.written)
            entries.append(Entry(digest: digest, metadata: metadata, form: form))
        } catch {
            problems.append(FeedProblem(file: file, line: record.line, reason: error.description))
        }
        writer.truncate(to: 0)
    }

    /// The unique entries (sorted by digest, duplicates merged) and the report.
    public mutating func finish() -> (entries: [Entry], report: Report) {
        var report = Report()
        report.problems = problems
        entries.sort { $0.digest < $1.digest }
        var unique: [Entry] = []
        unique.reserveCapacity(entries.count)
        for entry in entries {
            if let last = unique.last, last.digest == entry.digest {
                unique[unique.count - 1].metadata = last.metadata.merged(with: entry.metadata)
                report.duplicates += 1
            } else {
                unique.append(entry)
            }
        }
        report.accepted = unique.count
        entries = []
        problems = []
        return (unique, report)
    }
}
