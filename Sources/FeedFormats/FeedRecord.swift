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
    /// Where in a JSON feed the value sits (`$.objects[3].pattern`); nil for line formats.
    public var path: String?
    /// Whether the feed adds the value or withdraws it (a STIX indicator with `revoked: true`).
    public var action: Action

    public enum Action: Equatable, Sendable {
        case add
        case withdraw
    }

    public init(line: Int, value: UnsafeBufferPointer<UInt8>, type: IndicatorType? = nil,
                fields: RecordFields = RecordFields(), path: String? = nil, action: Action = .add) {
        self.line = line
        self.value = value
        self.type = type
        self.fields = fields
        self.path = path
        self.action = action
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
    /// 1-based line (in a JSON feed: the line where the object starts).
    public var line: Int
    /// The JSON path of the refused field (`$.Event.Attribute[12].value`); nil for line formats.
    public var path: String?
    public var reason: String

    public init(file: String, line: Int, path: String? = nil, reason: String) {
        self.file = file
        self.line = line
        self.path = path
        self.reason = reason
    }

    /// `file:line: reason`, or `file: $.path: reason` for a JSON feed.
    public var description: String {
        if let path { return "\(file): \(path): \(reason)" }
        return "\(file):\(line): \(reason)"
    }
}

/// A whole file the reader cannot read at all (as opposed to a bad record in it).
public enum FeedError: Error, Equatable, Sendable, CustomStringConvertible {
    /// CSV without a header row that names a value column.
    case noValueColumn(file: String, line: Int, header: [String])
    /// `--format auto` could not tell what the file is.
    case unknownFormat(file: String)
    /// The file is not text (NUL bytes in the first block).
    case binary(file: String)
    /// A JSON feed that is not well-formed JSON (nothing of it is taken).
    case json(file: String, line: Int, column: Int, reason: String)
    /// Well-formed JSON that is not what the format expects at the top (`reason` says what).
    case notFeed(file: String, format: FeedFormat, reason: String)

    public var description: String {
        switch self {
        case .noValueColumn(let file, let line, let header):
            "\(file):\(line): CSV header \(header) names no value column "
                + "(expected one of: \(CSVHeader.valueColumnNames.joined(separator: ", ")))"
        case .unknownFormat(let file):
            "\(file): cannot tell the feed format; give --format list, csv, stix or misp"
        case .binary(let file):
            "\(file): not a text feed (contains NUL bytes)"
        case .json(let file, let line, let column, let reason):
            "\(file):\(line):\(column): not valid JSON: \(reason)"
        case .notFeed(let file, let format, let reason):
            "\(file): not a \(format.displayName) feed: \(reason)"
        }
    }
}

