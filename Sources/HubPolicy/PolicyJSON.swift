/// A JSON value as written in a policy file (RFC 8259).
///
/// Policies are parsed by this small strict parser rather than `JSONSerialization` so that the
/// validator sees exactly what the operator wrote: object members keep their order and their
/// duplicates (a key given twice is refused, never silently "last one wins"), numbers keep their
/// literal text (so `5.0` is not mistaken for the integer `5` and `true` is never a number), and
/// nesting is bounded (a file of 100,000 `[` is refused, not a stack overflow).
package enum PolicyJSON: Sendable, Equatable {
    case null
    case bool(Bool)
    /// The number exactly as written; the grammar of RFC 8259 §6 has been checked.
    case number(String)
    case string(String)
    case array([PolicyJSON])
    case object([Member])

    package struct Member: Sendable, Equatable {
        package var key: String
        package var value: PolicyJSON
    }

    /// How the value is described in an error message: `a string ("5")`, `-5`, `true`, `an array`.
    package var shortDescription: String {
        switch self {
        case .null: "null"
        case .bool(let flag): flag ? "true" : "false"
        case .number(let text): text
        case .string(let text): "a string (\(PolicyText.quoted(text)))"
        case .array: "a list"
        case .object: "an object"
        }
    }
}

/// A syntax error in a policy file, with a 1-based line and column (columns count Unicode
/// scalars, as editors do).
package struct PolicyJSONSyntaxError: Error, Sendable, Equatable {
    package var line: Int
    package var column: Int
    package var reason: String
}

/// A strict RFC 8259 parser for policy files (which are small: see `PolicySet.maxFileBytes`).
package struct PolicyJSONParser {
    /// Policies nest three levels deep; anything deeper than this is refused before recursing.
    package static let maxDepth = 32

    private let bytes: [UInt8]
    private var position = 0

    /// Parses one JSON value (whitespace around it allowed; a leading UTF-8 byte order mark is skipped).
    package static func parse(_ bytes: [UInt8]) throws(PolicyJSONSyntaxError) -> PolicyJSON {
        var parser = PolicyJSONParser(bytes: bytes)
        return try parser.parseDocument()
    }

    private init(bytes: [UInt8]) {
        self.bytes = bytes
    }

    private mutating func parseDocument() throws(PolicyJSONSyntaxError) -> PolicyJSON {
        if let bad = PolicyText.firstInvalidUTF8(bytes) {
            throw error(at: bad, "not valid UTF-8 (byte 0x\(String(bytes[bad], radix: 16, uppercase: true)))")
        }
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { position = 3 }
        skipWhitespace()
        guard position < bytes.count else { throw error("the file holds no JSON value") }
        let value = try parseValue(depth: 0)
        skipWhitespace()
        guard position == bytes.count else { throw error("unexpected \(describe(position)) after the JSON value") }
        return value
    }

    private mutating func parseValue(depth: Int) throws(PolicyJSONSyntaxError) -> PolicyJSON {
        guard position < bytes.count else { throw error("unexpected end of file, expected a value") }
        switch bytes[position] {
        case UInt8(ascii: "{"): return try parseObject(depth: depth + 1)
        case UInt8(ascii: "["): return try parseArray(depth: depth + 1)
        case UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "t"): try literal("true"); return .bool(true)
        case UInt8(ascii: "f"): try literal("false"); return .bool(false)
        case UInt8(ascii: "n"): try literal("null"); return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .number(try parseNumber())
        default: throw error("unexpected \(describe(position)), expected a value")
        }
    }

    private mutating func parseObject(depth: Int) throws(PolicyJSONSyntaxError) -> PolicyJSON {
        guard depth <= Self.maxDepth else { throw error("nested deeper than \(Self.maxDepth) levels") }
        position += 1
        var members: [PolicyJSON.Member] = []
        skipWhitespace()
        if position < bytes.count, bytes[position] == UInt8(ascii: "}") {
            position += 1
            return .object(members)
        }
        while true {
            skipWhitespace()
            guard position < bytes.count, bytes[position] == UInt8(ascii: "\"") else {
                throw error("expected a quoted field name, found \(describe(position))")
            }
            let key = try parseString()
            skipWhitespace()
            try expect(":", "after field name \(PolicyText.quoted(key))")
            skipWhitespace()
            members.append(.init(key: key, value: try parseValue(depth: depth)))
            skipWhitespace()
            guard position < bytes.count else { throw error("unexpected end of file, expected ',' or '}'") }
            if bytes[position] == UInt8(ascii: ",") {
                position += 1
                continue
            }
            try expect("}", "or ',' after a field")
            return .object(members)
        }
    }

    private mutating func parseArray(depth: Int) throws(PolicyJSONSyntaxError) -> PolicyJSON {
        guard depth <= Self.maxDepth else { throw error("nested deeper than \(Self.maxDepth) levels") }
        position += 1
        var items: [PolicyJSON] = []
        skipWhitespace()
        if position < bytes.count, bytes[position] == UInt8(ascii: "]") {
            position += 1
            return .array(items)
        }
        while true {
            skipWhitespace()
            items.append(try parseValue(depth: depth))
            skipWhitespace()
            guard position < bytes.count else { throw error("unexpected end of file, expected ',' or ']'") }
            if bytes[position] == UInt8(ascii: ",") {
                position += 1
                continue
            }
            try expect("]", "or ',' after a list item")
            return .array(items)
        }
    }

    /// A string; the file is already known to be valid UTF-8, so only escapes need checking.
    private mutating func parseString() throws(PolicyJSONSyntaxError) -> String {
        let start = position
        position += 1
        var scalars = String.UnicodeScalarView()
        var runStart = position
        func flushRun(_ end: Int, into scalars: inout String.UnicodeScalarView) {
            if end > runStart {
                scalars.append(contentsOf: String(decoding: bytes[runStart..<end], as: UTF8.self).unicodeScalars)
            }
        }
        while true {
            guard position < bytes.count else {
                throw error(at: start, "string is not closed before the end of the file")
            }
            let byte = bytes[position]
            if byte == UInt8(ascii: "\"") {
                flushRun(position, into: &scalars)
                position += 1
                return String(scalars)
            }
            if byte < 0x20 {
                throw error("control character 0x\(String(byte, radix: 16, uppercase: true)) in a string (write it as an escape)")
            }
            if byte != UInt8(ascii: "\\") {
                position += 1
                continue
            }
            flushRun(position, into: &scalars)
            let escape = position
            position += 1
            guard position < bytes.count else { throw error(at: escape, "unfinished escape at the end of the file") }
            let letter = bytes[position]
            position += 1
            switch letter {
            case UInt8(ascii: "\""): scalars.append("\"")
            case UInt8(ascii: "\\"): scalars.append("\\")
            case UInt8(ascii: "/"): scalars.append("/")
            case UInt8(ascii: "b"): scalars.append("\u{08}")
            case UInt8(ascii: "f"): scalars.append("\u{0C}")
            case UInt8(ascii: "n"): scalars.append("\n")
            case UInt8(ascii: "r"): scalars.append("\r")
            case UInt8(ascii: "t"): scalars.append("\t")
            case UInt8(ascii: "u"): scalars.append(try parseUnicodeEscape(escapeStart: escape))
            default: throw error(at: escape, "invalid escape in a string: backslash followed by \(describeByte(letter))")
            }
            runStart = position
        }
    }

    /// `\uXXXX`, combining a UTF-16 surrogate pair; a lone surrogate is refused.
    private mutating func parseUnicodeEscape(escapeStart: Int) throws(PolicyJSONSyntaxError) -> Unicode.Scalar {
        let first = try hex4(escapeStart: escapeStart)
        if first >= 0xDC00 && first <= 0xDFFF {
            throw error(at: escapeStart, "lone UTF-16 low surrogate \\u\(hexText(first)) in a string")
        }
        guard first >= 0xD800 && first <= 0xDBFF else { return Unicode.Scalar(first)! }
        guard position + 1 < bytes.count, bytes[position] == UInt8(ascii: "\\"), bytes[position + 1] == UInt8(ascii: "u") else {
            throw error(at: escapeStart, "lone UTF-16 high surrogate \\u\(hexText(first)) in a string")
        }
        let secondStart = position
        position += 2
        let second = try hex4(escapeStart: secondStart)
        guard second >= 0xDC00 && second <= 0xDFFF else {
            throw error(at: escapeStart, "UTF-16 high surrogate \\u\(hexText(first)) not followed by a low surrogate")
        }
        return Unicode.Scalar(0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00))!
    }

    private mutating func hex4(escapeStart: Int) throws(PolicyJSONSyntaxError) -> UInt32 {
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

    /// RFC 8259 §6: `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`.
    private mutating func parseNumber() throws(PolicyJSONSyntaxError) -> String {
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
        return String(decoding: bytes[start..<position], as: UTF8.self)
    }

    private mutating func skipDigits() {
        while position < bytes.count, Self.isDigit(bytes[position]) { position += 1 }
    }

    private mutating func literal(_ word: StaticString) throws(PolicyJSONSyntaxError) {
        let text = UnsafeBufferPointer(start: word.utf8Start, count: word.utf8CodeUnitCount)
        guard bytes.count - position >= text.count, bytes[position..<position + text.count].elementsEqual(text) else {
            throw error("unexpected \(describe(position)), expected a value")
        }
        position += text.count
    }

    private mutating func expect(_ character: Character, _ context: String) throws(PolicyJSONSyntaxError) {
        guard position < bytes.count, bytes[position] == character.asciiValue! else {
            throw error("expected '\(character)' \(context), found \(describe(position))")
        }
        position += 1
    }

    private mutating func skipWhitespace() {
        while position < bytes.count {
            switch bytes[position] {
            case 0x20, 0x09, 0x0A, 0x0D: position += 1
            default: return
            }
        }
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

    /// `'x'`, `end of file`, or `byte 0xNN` for what sits at `offset`.
    private func describe(_ offset: Int) -> String {
        guard offset < bytes.count else { return "end of file" }
        guard bytes[offset] >= 0x80 else { return describeByte(bytes[offset]) }
        // A multi-byte character starts here (the file is valid UTF-8): show it whole.
        var end = offset + 1
        while end < bytes.count, bytes[end] & 0xC0 == 0x80 { end += 1 }
        return "'" + String(decoding: bytes[offset..<end], as: UTF8.self) + "'"
    }

    private func describeByte(_ byte: UInt8) -> String {
        if byte > 0x20 && byte < 0x7F { return "'\(Character(Unicode.Scalar(byte)))'" }
        return "byte 0x" + String(byte, radix: 16, uppercase: true)
    }

    private func error(_ reason: String) -> PolicyJSONSyntaxError {
        error(at: position, reason)
    }

    private func error(at offset: Int, _ reason: String) -> PolicyJSONSyntaxError {
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
        return PolicyJSONSyntaxError(line: line, column: column, reason: reason)
    }
}
