public import IndicatorKit

/// One record a feed reader found: the raw value (bytes valid only during the callback),
/// where it came from, and whatever the feed said about it.
public struct FeedRecord {
    /// 1-based line number in the file.
    public var line: Int
    /// The raw value, exactly as the feed wrote it (minus surrounding whitespace / quotes).
    public var value: UnsafeBufferPointer<UInt8>
    /// The type the feed declared (a `type` column, or a value column whose name implies it).
    public var type: IndicatorType?
    /// Metadata the feed gave for this record; `nil` fields fall back to the upload's defaults.
    public var fields: RecordFields

    public init(line: Int, value: UnsafeBufferPointer<UInt8>, type: IndicatorType? = nil,
                fields: RecordFields = RecordFields()) {
        self.line = line
        self.value = value
        self.type = type
        self.fields = fields
    }
}

/// Per-record metadata a feed may carry. Every field is optional.
public struct RecordFields: Equatable, Sendable {
    public var category: ThreatCategory?
    public var confidence: UInt8?
    public var tlp: TLP?
    public var action: ActionHint?
    /// Days since 1970-01-01 UTC.
    public var firstSeenDay: UInt16?
    public var lastSeenDay: UInt16?
    /// Unix seconds.
    public var expires: UInt32?

    public init() {}

    /// `defaults` with every field this record sets replaced.
    public func applied(to defaults: EntryMetadata) -> EntryMetadata {
        var result = defaults
        if let category { result.category = category }
        if let confidence { result.confidence = confidence }
        if let tlp { result.tlp = tlp }
        if let action { result.action = action }
        if let firstSeenDay { result.firstSeenDay = firstSeenDay }
        if let lastSeenDay { result.lastSeenDay = lastSeenDay }
        if let expires { result.expires = expires }
        return result
    }
}

/// A record the reader refused, with where and why. Nothing about it is kept.
public struct FeedProblem: Equatable, Sendable, CustomStringConvertible {
    public var file: String
    public var line: Int
    public var reason: String

    public init(file: String, line: Int, reason: String) {
        self.file = file
        self.line = line
        self.reason = reason
    }

    public var description: String { "\(file):\(line): \(reason)" }
}

/// A whole file the reader cannot read at all (as opposed to a bad record in it).
public enum FeedError: Error, Equatable, Sendable, CustomStringConvertible {
    /// CSV without a header row that names a value column.
    case noValueColumn(file: String, line: Int, header: [String])
    /// `--format auto` could not tell what the file is.
    case unknownFormat(file: String)
    /// The file is not text (NUL bytes in the first block).
    case binary(file: String)

    public var description: String {
        switch self {
        case .noValueColumn(let file, let line, let header):
            "\(file):\(line): CSV header \(header) names no value column "
                + "(expected one of: \(CSVHeader.valueColumnNames.joined(separator: ", ")))"
        case .unknownFormat(let file):
            "\(file): cannot tell the feed format; give --format list or --format csv"
        case .binary(let file):
            "\(file): not a text feed (contains NUL bytes)"
        }
    }
}

/// The feed formats a reader exists for.
public enum FeedFormat: String, CaseIterable, Sendable {
    case list
    case csv

    /// Guesses the format from the first non-comment line: a line with a comma and a header
    /// cell naming a value column, or several quoted cells, is CSV; anything else is a list.
    public static func detect(_ bytes: UnsafeBufferPointer<UInt8>) -> FeedFormat {
        var result = FeedFormat.list
        var lastComment: UnsafeBufferPointer<UInt8>?
        LineScanner.forEachLine(bytes) { _, line in
            let text = LineScanner.trim(line)
            if text.isEmpty { return true }
            if ListReader.isCommentLine(text) {
                lastComment = text
                return true
            }
            if CSVHeader.looksLikeHeader(text) || CSVHeader.looksLikeQuotedRow(text)
                || (lastComment.map { CSVHeader.looksLikeHeader(CSVHeader.stripCommentMarker($0)) } ?? false)
            {
                result = .csv
            }
            return false
        }
        return result
    }
}
