import IndicatorKit
/// A strict RFC 8259 parser over a byte buffer, usable two ways:
///
/// - `JSONParser.parse(_:maxDepth:)` returns the whole document as a `JSONValue` (policies);
/// - a pull interface (`beginObject`/`nextKey`, `beginArray`/`nextItem`, `value()`,
///   `skipValue()`, `finish()`) lets a feed reader walk a large file and build a `JSONValue`
///   for one record at a time (a million-object STIX bundle never exists as one tree).
///
/// The whole buffer is checked to be UTF-8 before anything else, so strings only need their
/// escapes checked. Nesting deeper than `maxDepth` is refused before descending (a file of
/// 100,000 `[` is an error, not a stack overflow). Errors carry line and column.
public struct JSONParser {
    /// The deepest nesting of arrays and objects accepted (the document's own value is level 1).
    public let maxDepth: Int
    @usableFromInline let bytes: UnsafeBufferPointer<UInt8>
    /// Offset of the next unread byte.
    public private(set) var position = 0
    /// Line (1-based) of `position`; kept up to date as whitespace is skipped.
    public private(set) var line = 1
    /// Containers currently open; `first[depth - 1]` is true until the container's first
    /// member or item has been read.
    private var first: [Bool] = []
    /// Reused buffer for strings that contain escapes.
    private var scratch: [UInt8] = []

    /// Parses one JSON value (whitespace around it allowed; a leading UTF-8 byte order mark is
    /// skipped).
    public static func parse(_ bytes: [UInt8], maxDepth: Int) throws(JSONSyntaxError) -> JSONValue {
        let result = bytes.withUnsafeBufferPointer { buffer in
            Result { () throws(JSONSyntaxError) in try parse(buffer, maxDepth: maxDepth) }
        }
        return try result.get()
    }

    public static func parse(_ bytes: UnsafeBufferPointer<UInt8>, maxDepth: Int) throws(JSONSyntaxError) -> JSONValue {
        var parser = try JSONParser(bytes, maxDepth: maxDepth)
        let value = try parser.value()
        try parser.finish()
        return value
    }

    /// Checks the buffer is UTF-8 and holds something, and positions at the first value. The
    /// caller keeps `bytes` alive while the parser is used.
    public init(_ bytes: UnsafeBufferPointer<UInt8>, maxDepth: Int) throws(JSONSyntaxError) {
        self.bytes = bytes
        self.maxDepth = maxDepth
        if let bad = UTF8Check.firstInvalid(bytes) {
            throw error(at: bad, "not valid UTF-8 (byte 0x\(String(bytes[bad], radix: 16, uppercase: true)))")
        }
        if bytes.count >= 3, bytes[0] == 0xEF, bytes[1] == 0xBB, bytes[2] == 0xBF { position = 3 }
        skipWhitespace()
        guard position < bytes.count else { throw error("the file holds no JSON value") }
    }

    /// Current nesting depth of the pull interface.
    public var depth: Int { first.count }

    /// The first byte of the next value (`{`, `[`, `"`, `t`, …), or nil at the end.
    public var nextByte: UInt8? {
        position < bytes.count ? bytes[position] : nil
    }

    /// After the document's value: only whitespace may follow.
    public mutating func finish() throws(JSONSyntaxError) {
        skipWhitespace()
        guard position == bytes.count else { throw error("unexpected \(describe(position)) after the JSON value") }
    }

    // MARK: Pull interface

    /// Consumes `{`. Then call `nextKey()` until it returns nil.
    public mutating func beginObject() throws(JSONSyntaxError) {
        guard position < bytes.count, bytes[position] == UInt8(ascii: "{") else {
            throw error("expected an object, found \(describe(position))")
        }
        try open()
    }

    /// Consumes `[`. Then call `nextItem()` until it returns false.
    public mutating func beginArray() throws(JSONSyntaxError) {
        guard position < bytes.count, bytes[position] == UInt8(ascii: "[") else {
            throw error("expected an array, found \(describe(position))")
        }
        try open()
    }

    /// The next member's key (its `:` consumed, positioned at its value, which the caller must
    /// read or skip), or nil when the object closes.
    public mutating func nextKey() throws(JSONSyntaxError) -> String? {
        guard try advanceToMember() else { return nil }
        let key = try parseString()
        try afterKey(key)
        return key
    }

    /// True when another item follows (positioned at it; the caller must read or skip it);
    /// false when the array closes.
    public mutating func nextItem() throws(JSONSyntaxError) -> Bool {
        skipWhitespace()
        if first[first.count - 1], position == bytes.count {
            throw error("unexpected end of file, expected a value")
        }
        guard position < bytes.count else { throw error("unexpected end of file, expected ',' or ']'") }
        if first[first.count - 1] {
            first[first.count - 1] = false
            if bytes[position] == UInt8(ascii: "]") {
                close()
                return false
            }
            return true
        }
        if bytes[position] == UInt8(ascii: ",") {
            position += 1
            skipWhitespace()
            return true
        }
        guard bytes[position] == UInt8(ascii: "]") else {
            throw error("expected ']' or ',' after a list item, found \(describe(position))")
        }
        close()
        return false
    }

    /// Reads the next value as a tree.
    public mutating func value() throws(JSONSyntaxError) -> JSONValue {
        guard position < bytes.count else { throw error("unexpected end of file, expected a value") }
        switch bytes[position] {
        case UInt8(ascii: "{"):
            try beginObject()
            var members: [JSONValue.Member] = []
            while let key = try nextKey() {
                members.append(JSONValue.Member(key: key, value: try value()))
            }
            return .object(members)
        case UInt8(ascii: "["):
            try beginArray()
            var items: [JSONValue] = []
            while try nextItem() {
                items.append(try value())
            }
            return .array(items)
        case UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "t"): try literal("true"); return .bool(true)
        case UInt8(ascii: "f"): try literal("false"); return .bool(false)
        case UInt8(ascii: "n"): try literal("null"); return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            let start = try scanNumber()
            return .number(String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<position]), as: UTF8.self))
        default: throw error("unexpected \(describe(position)), expected a value")
        }
    }

    /// Checks and skips the next value without building it (no allocation for keys and strings).
    public mutating func skipValue() throws(JSONSyntaxError) {
        guard position < bytes.count else { throw error("unexpected end of file, expected a value") }
        switch bytes[position] {
        case UInt8(ascii: "{"):
            try beginObject()
            while try advanceToMember() {
                try skipString()
                try afterKey(nil)
                try skipValue()
            }
        case UInt8(ascii: "["):
            try beginArray()
            while try nextItem() { try skipValue() }
        case UInt8(ascii: "\""): try skipString()
        case UInt8(ascii: "t"): try literal("true")
        case UInt8(ascii: "f"): try literal("false")
        case UInt8(ascii: "n"): try literal("null")
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): _ = try scanNumber()
        default: throw error("unexpected \(describe(position)), expected a value")
        }
    }

    // MARK: Containers

    private mutating func open() throws(JSONSyntaxError) {
        guard first.count < maxDepth else { throw error("nested deeper than \(maxDepth) levels") }
        position += 1
        first.append(true)
        skipWhitespace()
    }

    private mutating func close() {
        position += 1
        first.removeLast()
    }

    /// Handles `,` / `}` before a member; true when positioned at a key's opening quote.
    private mutating func advanceToMember() throws(JSONSyntaxError) -> Bool {
        skipWhitespace()
        if first[first.count - 1], position == bytes.count {
            throw error("expected a quoted field name, found end of file")
        }
        guard position < bytes.count else { throw error("unexpected end of file, expected ',' or '}'") }
        if first[first.count - 1] {
            first[first.count - 1] = false
            if bytes[position] == UInt8(ascii: "}") {
                close()
                return false
            }
        } else if bytes[position] == UInt8(ascii: ",") {
            position += 1
            skipWhitespace()
        } else if bytes[position] == UInt8(ascii: "}") {
            close()
            return false
        } else {
            throw error("expected '}' or ',' after a field, found \(describe(position))")
        }
        guard position < bytes.count, bytes[position] == UInt8(ascii: "\"") else {
            throw error("expected a quoted field name, found \(describe(position))")
        }
        return true
    }

    private mutating func afterKey(_ key: String?) throws(JSONSyntaxError) {
        skipWhitespace()
        guard position < bytes.count, bytes[position] == UInt8(ascii: ":") else {
            let name = key.map { " " + JSONText.quoted($0) } ?? ""
            throw error("expected ':' after field name\(name), found \(describe(position))")
        }
        position += 1
        skipWhitespace()
    }

    @inline(__always)
    private mutating func skipWhitespace() {
        while position < bytes.count {
            switch bytes[position] {
            case 0x20, 0x09, 0x0D: position += 1
            case 0x0A:
                position += 1
                line += 1
            default: return
            }
        }
    }

    private mutating func literal(_ word: StaticString) throws(JSONSyntaxError) {
        let text = UnsafeBufferPointer(start: word.utf8Start, count: word.utf8CodeUnitCount)
        guard bytes.count - position >= text.count,
              bytes[position..<position + text.count].elementsEqual(text)
        else {
            throw error("unexpected \(describe(position)), expected a value")
        }
        position += text.count
    }
}

extension JSONParser {
    // MARK: Strings

    /// A string at `position` (its opening quote). Runs without escapes are decoded straight
    /// from the buffer (which is known to be UTF-8).
    mutating func parseString() throws(JSONSyntaxError) -> String {
        let start = position
        position += 1
        let runStart = position
        while position < bytes.count {
            let byte = bytes[position]
            if byte == UInt8(ascii: "\"") {
                let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[runStart..<position]), as: UTF8.self)
                position += 1
                return text
            }
            if byte == UInt8(ascii: "\\") || byte < 0x20 { break }
            position += 1
        }
        // Slow path: escapes (or an error).
        scratch.removeAll(keepingCapacity: true)
        scratch.append(contentsOf: bytes[runStart..<position])
        try scanEscapedString(start: start, into: true)
        return String(decoding: scratch, as: UTF8.self)
    }

    /// Checks and skips a string at `position`.
    mutating func skipString() throws(JSONSyntaxError) {
        let start = position
        position += 1
        try scanEscapedString(start: start, into: false)
    }

    /// Scans from `position` to the closing quote, checking escapes; appends the decoded bytes
    /// to `scratch` when `collect`.
    private mutating func scanEscapedString(start: Int, into collect: Bool) throws(JSONSyntaxError) {
        while true {
            guard position < bytes.count else {
                throw error(at: start, "string is not closed before the end of the file")
            }
            let byte = bytes[position]
            if byte == UInt8(ascii: "\"") {
                position += 1
                return
            }
            if byte < 0x20 {
                throw error("control character 0x\(String(byte, radix: 16, uppercase: true)) in a string (write it as an escape)")
            }
            if byte != UInt8(ascii: "\\") {
                if collect { scratch.append(byte) }
                position += 1
                continue
            }
            let escape = position
            position += 1
            guard position < bytes.count else { throw error(at: escape, "unfinished escape at the end of the file") }
            let letter = bytes[position]
            position += 1
            let decoded: UInt8
            switch letter {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): decoded = letter
            case UInt8(ascii: "b"): decoded = 0x08
            case UInt8(ascii: "f"): decoded = 0x0C
            case UInt8(ascii: "n"): decoded = 0x0A
            case UInt8(ascii: "r"): decoded = 0x0D
            case UInt8(ascii: "t"): decoded = 0x09
            case UInt8(ascii: "u"):
                let scalar = try parseUnicodeEscape(escapeStart: escape)
                if collect { scratch.append(contentsOf: String(Character(scalar)).utf8) }
                continue
            default:
                throw error(at: escape, "invalid escape in a string: backslash followed by \(describeByte(letter))")
            }
            if collect { scratch.append(decoded) }
        }
    }

    /// `\uXXXX`, combining a UTF-16 surrogate pair; a lone surrogate is refused.
    private mutating func parseUnicodeEscape(escapeStart: Int) throws(JSONSyntaxError) -> Unicode.Scalar {
        let high = try hex4(escapeStart: escapeStart)
        if high >= 0xDC00 && high <= 0xDFFF {
            throw error(at: escapeStart, "lone UTF-16 low surrogate \\u\(hexText(high)) in a string")
        }
        guard high >= 0xD800 && high <= 0xDBFF else { return Unicode.Scalar(high)! }
        guard position + 1 < bytes.count, bytes[position] == UInt8(ascii: "\\"), bytes[position + 1] == UInt8(ascii: "u") else {
            throw error(at: escapeStart, "lone UTF-16 high surrogate \\u\(hexText(high)) in a string")
        }
        let secondStart = position
        position += 2
        let low = try hex4(escapeStart: secondStart)
        guard low >= 0xDC00 && low <= 0xDFFF else {
            throw error(at: escapeStart, "UTF-16 high surrogate \\u\(hexText(high)) not followed by a low surrogate")
        }
        return Unicode.Scalar(0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00))!
    }

    private mutating func hex4(escapeStart: Int) throws(JSONSyntaxError) -> UInt32 {
        var value: UInt32 = 0
        for _ in 0..<4 {
            guard position < bytes.count, let digit = Self.hexValue(bytes[position]) else {
                throw error(at: escapeStart, "\\u must be followed by four hex digits")
            }
            value = value << 4 | digit
            position += 1
        }
        return value
    }

    // MARK: Numbers

    /// RFC 8259 §6: `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`. Returns its start.
    mutating func scanNumber() throws(JSONSyntaxError) -> Int {
        let start = position
        if bytes[position] == UInt8(ascii: "-") { position += 1 }
        guard position < bytes.count, Self.isDigit(bytes[position]) else {
            throw error(at: start, "a number needs a digit after '-'")
        }
        if bytes[position] == UInt8(ascii: "0") {
            position += 1
            if position < bytes.count, Self.isDigit(bytes[position]) {
                throw error(at: start, "numbers must not have leading zeros")
            }
        } else {
            skipDigits()
        }
        if position < bytes.count, bytes[position] == UInt8(ascii: ".") {
            position += 1
            guard position < bytes.count, Self.isDigit(bytes[position]) else {
                throw error(at: start, "a number needs digits after '.'")
            }
            skipDigits()
        }
        if position < bytes.count, bytes[position] == UInt8(ascii: "e") || bytes[position] == UInt8(ascii: "E") {
            position += 1
            if position < bytes.count, bytes[position] == UInt8(ascii: "+") || bytes[position] == UInt8(ascii: "-") {
                position += 1
            }
            guard position < bytes.count, Self.isDigit(bytes[position]) else {
                throw error(at: start, "a number needs digits in its exponent")
            }
            skipDigits()
        }
        return start
    }

    private mutating func skipDigits() {
        while position < bytes.count, Self.isDigit(bytes[position]) { position += 1 }
    }

    private static func isDigit(_ byte: UInt8) -> Bool { byte >= 0x30 && byte <= 0x39 }

    private static func hexValue(_ byte: UInt8) -> UInt32? {
        switch byte {
        case 0x30...0x39: UInt32(byte - 0x30)
        case 0x41...0x46: UInt32(byte - 0x41 + 10)
        case 0x61...0x66: UInt32(byte - 0x61 + 10)
        default: nil
        }
    }

    private func hexText(_ value: UInt32) -> String {
        let digits = String(value, radix: 16, uppercase: true)
        return String(repeating: "0", count: max(0, 4 - digits.count)) + digits
    }

    // MARK: Errors

    /// `'x'`, `end of file`, or `byte 0xNN` for what sits at `offset`.
    func describe(_ offset: Int) -> String {
        guard offset < bytes.count else { return "end of file" }
        guard bytes[offset] >= 0x80 else { return describeByte(bytes[offset]) }
        // A multi-byte character starts here (the buffer is valid UTF-8): show it whole.
        var end = offset + 1
        while end < bytes.count, bytes[end] & 0xC0 == 0x80 { end += 1 }
        return "'" + String(decoding: UnsafeBufferPointer(rebasing: bytes[offset..<end]), as: UTF8.self) + "'"
    }

    private func describeByte(_ byte: UInt8) -> String {
        if byte > 0x20 && byte < 0x7F { return "'\(Character(Unicode.Scalar(byte)))'" }
        return "byte 0x" + String(byte, radix: 16, uppercase: true)
    }

    func error(_ reason: String) -> JSONSyntaxError {
        error(at: position, reason)
    }

    /// An error at `offset`; line and column are counted from the start (errors are rare).
    func error(at offset: Int, _ reason: String) -> JSONSyntaxError {
        let (line, column) = Self.location(of: offset, in: bytes)
        return JSONSyntaxError(line: line, column: column, reason: reason)
    }

    /// 1-based line and column (in Unicode scalars) of `offset`.
    public static func location(of offset: Int, in bytes: UnsafeBufferPointer<UInt8>) -> (line: Int, column: Int) {
        var line = 1
        var column = 1
        for byte in bytes[0..<min(offset, bytes.count)] {
            if byte == 0x0A {
                line += 1
                column = 1
            } else if byte & 0xC0 != 0x80 {
                column += 1
            }
        }
        return (line, column)
    }
}
