import HubJSON

/// The feed formats a reader exists for.
public enum FeedFormat: String, CaseIterable, Sendable {
    case list
    case csv
    case stix
    case misp

    public var displayName: String {
        switch self {
        case .list: "plain list"
        case .csv: "CSV"
        case .stix: "STIX 2.1"
        case .misp: "MISP"
        }
    }

    /// Guesses the format. A file whose first non-blank byte is `{` is JSON: a top-level
    /// `"type": "bundle"` (or `"indicator"`) is STIX, an `"Event"` member is MISP, anything else
    /// is unknown (nil). Otherwise the first non-comment line decides: a line with a comma and
    /// a header cell naming a value column, or several quoted cells, is CSV; anything else is a
    /// list.
    public static func detect(_ bytes: UnsafeBufferPointer<UInt8>) -> FeedFormat? {
        var start = bytes.count >= 3 && bytes[0] == 0xEF && bytes[1] == 0xBB && bytes[2] == 0xBF ? 3 : 0
        while start < bytes.count, LineScanner.isBlank(bytes[start]) || bytes[start] == 0x0A { start += 1 }
        if start < bytes.count, bytes[start] == UInt8(ascii: "{") {
            return detectJSON(bytes)
        }
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

    /// Reads the top-level object's members until one decides (skipping the others' values).
    private static func detectJSON(_ bytes: UnsafeBufferPointer<UInt8>) -> FeedFormat? {
        do throws(JSONSyntaxError) {
            var parser = try JSONParser(bytes, maxDepth: JSONFeed.maxDepth)
            try parser.beginObject()
            while let key = try parser.nextKey() {
                switch key {
                case "Event": return .misp
                case "type":
                    let value = try parser.value()
                    if value == .string("bundle") || value == .string("indicator") { return .stix }
                    return nil
                default: try parser.skipValue()
                }
            }
            return nil
        } catch {
            return nil
        }
    }
}

/// What the JSON readers share.
enum JSONFeed {
    /// STIX bundles and MISP events nest a few levels (bundle → object → extension → hashes);
    /// 64 leaves room for odd producers and refuses hostile nesting.
    static let maxDepth = 64

    /// Maps a parser error to a file-level feed error.
    static func fileError(_ error: JSONSyntaxError, file: String) -> FeedError {
        .json(file: file, line: error.line, column: error.column, reason: error.reason)
    }

    /// Runs a reader's pass over `file`: its own `FeedError`s pass through, a JSON syntax error
    /// becomes `.json` with line and column, anything else means the file is not this format.
    static func reading<R>(_ file: String, _ pass: () throws -> R) throws(FeedError) -> R {
        do {
            return try pass()
        } catch let error as FeedError {
            throw error
        } catch let error as JSONSyntaxError {
            throw fileError(error, file: file)
        } catch {
            throw FeedError.unknownFormat(file: file)
        }
    }

    /// `members` named `key`: the first, or a reason when it is given twice.
    static func field(_ members: [JSONValue.Member], _ key: String) -> Result<JSONValue?, FieldTwice> {
        var found: JSONValue?
        for member in members where member.key == key {
            if found != nil { return .failure(FieldTwice(key: key)) }
            found = member.value
        }
        return .success(found)
    }

    struct FieldTwice: Error {
        var key: String
    }

    /// `"2016-01-20T12:31:12.123Z"` / Unix seconds (string or number) → Unix seconds.
    static func timestamp(_ value: JSONValue) throws(FieldParsers.FieldError) -> UInt32? {
        switch value {
        case .null: return nil
        case .string(let text): return try FieldParsers.timestamp(text)
        case .number(let text): return try FieldParsers.timestamp(text)
        default: throw FieldParsers.FieldError(reason: "must be a timestamp string, got \(value.kindName)")
        }
    }

    static func day(_ value: JSONValue) throws(FieldParsers.FieldError) -> UInt16? {
        guard let seconds = try timestamp(value) else { return nil }
        return UInt16(clamping: seconds / 86_400)
    }
}
