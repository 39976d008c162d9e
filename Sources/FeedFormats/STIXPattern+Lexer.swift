/// The tokens of the STIX 2.1 patterning language (STIX 2.1 §9, the `STIXPattern.g4` lexer
/// rules), read from a pattern's UTF-8 bytes. Keywords are upper case and case-sensitive;
/// `true`/`false` are lower case. Comments (`/* … */`, `// …`) are skipped.
extension STIXPattern {
    enum Token: Equatable {
        case leftBracket, rightBracket, leftParen, rightParen, colon, dot, comma, star
        case op(Operator)
        case keyword(Keyword)
        case bool(Bool)
        /// An identifier; `hyphen` when it contains `-` (allowed in object types only).
        case identifier(String, hyphen: Bool)
        /// A string literal, escapes (`\'`, `\\`) resolved.
        case string([UInt8])
        /// An integer; `signed` when written with `+` or `-`.
        case integer(Int, signed: Bool)
        case float(Double)
        case binary, hex, timestamp
        case end
    }

    enum Keyword: String, CaseIterable {
        case and = "AND", or = "OR", not = "NOT", followedBy = "FOLLOWEDBY", like = "LIKE"
        case matches = "MATCHES", isSuperset = "ISSUPERSET", isSubset = "ISSUBSET", exists = "EXISTS"
        case last = "LAST", `in` = "IN", start = "START", stop = "STOP", seconds = "SECONDS"
        case within = "WITHIN", repeats = "REPEATS", times = "TIMES"
    }

    /// A token and the offset (in bytes) where it starts.
    struct Lexeme {
        var token: Token
        var offset: Int
    }

    /// Splits `bytes` into tokens; the last is `.end`.
    static func tokenize(_ bytes: [UInt8]) throws(PatternError) -> [Lexeme] {
        var lexemes: [Lexeme] = []
        var index = 0
        let count = bytes.count
        func at(_ offset: Int) -> UInt8 { offset < count ? bytes[offset] : 0 }
        while true {
            // Whitespace and comments.
            while index < count {
                let byte = bytes[index]
                if byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D || byte == 0x0C {
                    index += 1
                } else if byte == UInt8(ascii: "/"), at(index + 1) == UInt8(ascii: "*") {
                    var end = index + 2
                    while end + 1 < count, !(bytes[end] == UInt8(ascii: "*") && bytes[end + 1] == UInt8(ascii: "/")) { end += 1 }
                    guard end + 1 < count else { throw .syntax(at: index, "comment '/*' is not closed") }
                    index = end + 2
                } else if byte == UInt8(ascii: "/"), at(index + 1) == UInt8(ascii: "/") {
                    while index < count, bytes[index] != 0x0A { index += 1 }
                } else {
                    break
                }
            }
            let start = index
            guard index < count else {
                lexemes.append(Lexeme(token: .end, offset: index))
                return lexemes
            }
            let byte = bytes[index]
            let token: Token
            switch byte {
            case UInt8(ascii: "["): token = .leftBracket; index += 1
            case UInt8(ascii: "]"): token = .rightBracket; index += 1
            case UInt8(ascii: "("): token = .leftParen; index += 1
            case UInt8(ascii: ")"): token = .rightParen; index += 1
            case UInt8(ascii: ":"): token = .colon; index += 1
            case UInt8(ascii: ","): token = .comma; index += 1
            case UInt8(ascii: "*"): token = .star; index += 1
            case UInt8(ascii: "="):
                index += at(index + 1) == UInt8(ascii: "=") ? 2 : 1
                token = .op(.equal)
            case UInt8(ascii: "!"):
                guard at(index + 1) == UInt8(ascii: "=") else { throw .syntax(at: index, "'!' must be followed by '='") }
                index += 2
                token = .op(.notEqual)
            case UInt8(ascii: "<"):
                switch at(index + 1) {
                case UInt8(ascii: "="): index += 2; token = .op(.lessOrEqual)
                case UInt8(ascii: ">"): index += 2; token = .op(.notEqual)
                default: index += 1; token = .op(.less)
                }
            case UInt8(ascii: ">"):
                if at(index + 1) == UInt8(ascii: "=") {
                    index += 2
                    token = .op(.greaterOrEqual)
                } else {
                    index += 1
                    token = .op(.greater)
                }
            case UInt8(ascii: "'"):
                token = .string(try lexString(bytes, &index))
            case UInt8(ascii: "."):
                if isDigit(at(index + 1)) {
                    token = try lexNumber(bytes, &index)
                } else {
                    index += 1
                    token = .dot
                }
            case UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
                token = try lexNumber(bytes, &index)
            default:
                guard isIdentifierStart(byte) else {
                    throw .syntax(at: index, "unexpected \(describe(bytes, index))")
                }
                if at(index + 1) == UInt8(ascii: "'"), byte == UInt8(ascii: "t") || byte == UInt8(ascii: "b") || byte == UInt8(ascii: "h") {
                    token = try lexTypedLiteral(bytes, &index)
                    break
                }
                var end = index + 1
                var hyphen = false
                while end < count, isIdentifierStart(bytes[end]) || isDigit(bytes[end]) || bytes[end] == UInt8(ascii: "-") {
                    if bytes[end] == UInt8(ascii: "-") { hyphen = true }
                    end += 1
                }
                let text = String(decoding: bytes[index..<end], as: UTF8.self)
                // Keywords are upper-case letters only: most identifiers are told apart by their first byte.
                let mayBeKeyword = byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") && !hyphen
                index = end
                if mayBeKeyword, let keyword = Keyword(rawValue: text) {
                    token = .keyword(keyword)
                } else if text == "true" || text == "false" {
                    token = .bool(text == "true")
                } else {
                    token = .identifier(text, hyphen: hyphen)
                }
            }
            lexemes.append(Lexeme(token: token, offset: start))
        }
    }

    /// `'…'` with `\'` and `\\` as the only escapes.
    private static func lexString(_ bytes: [UInt8], _ index: inout Int) throws(PatternError) -> [UInt8] {
        let start = index
        index += 1
        var value: [UInt8] = []
        while true {
            guard index < bytes.count else { throw .syntax(at: start, "string is not closed") }
            let byte = bytes[index]
            if byte == UInt8(ascii: "'") {
                index += 1
                return value
            }
            if byte == UInt8(ascii: "\\") {
                let next = index + 1 < bytes.count ? bytes[index + 1] : 0
                guard next == UInt8(ascii: "'") || next == UInt8(ascii: "\\") else {
                    throw .syntax(at: index, "a backslash in a string must be followed by ' or \\")
                }
                value.append(next)
                index += 2
                continue
            }
            value.append(byte)
            index += 1
        }
    }

    /// `[+-]? ('0' | [1-9][0-9]*)` or `[+-]? [0-9]* '.' [0-9]+`.
    private static func lexNumber(_ bytes: [UInt8], _ index: inout Int) throws(PatternError) -> Token {
        let start = index
        var signed = false
        if bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") {
            signed = true
            index += 1
        }
        let digitsStart = index
        while index < bytes.count, isDigit(bytes[index]) { index += 1 }
        let text = String(decoding: bytes[start..<index], as: UTF8.self)
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
            index += 1
            let fraction = index
            while index < bytes.count, isDigit(bytes[index]) { index += 1 }
            guard index > fraction else { throw .syntax(at: start, "a number needs digits after '.'") }
            return .float(Double(String(decoding: bytes[start..<index], as: UTF8.self)) ?? 0)
        }
        guard index > digitsStart else { throw .syntax(at: start, "'\(text)' is not a number") }
        if bytes[digitsStart] == UInt8(ascii: "0"), index - digitsStart > 1 {
            throw .syntax(at: start, "numbers must not have leading zeros ('\(text)')")
        }
        return .integer(Int(text) ?? Int.max, signed: signed)
    }

    /// `t'…'` (timestamp), `b'…'` (base64), `h'…'` (hex), checked against their lexer rules.
    private static func lexTypedLiteral(_ bytes: [UInt8], _ index: inout Int) throws(PatternError) -> Token {
        let start = index
        let kind = bytes[index]
        index += 1
        let body = try lexString(bytes, &index)
        switch kind {
        case UInt8(ascii: "t"):
            guard isTimestamp(body) else {
                throw .syntax(at: start, "timestamp literal is not YYYY-MM-DDTHH:MM:SS[.s]Z")
            }
            return .timestamp
        case UInt8(ascii: "h"):
            guard body.count % 2 == 0, body.allSatisfy(isHexDigit) else {
                throw .syntax(at: start, "hex literal needs pairs of hex digits")
            }
            return .hex
        default:
            guard isBase64(body) else { throw .syntax(at: start, "binary literal is not base64") }
            return .binary
        }
    }

    /// The `TimestampLiteral` rule: a shape check (the grammar accepts February 30th).
    static func isTimestamp(_ text: [UInt8]) -> Bool {
        func digits(_ range: Range<Int>) -> Bool { range.allSatisfy { $0 < text.count && isDigit(text[$0]) } }
        func value(_ at: Int) -> Int { Int(text[at] - 0x30) * 10 + Int(text[at + 1] - 0x30) }
        guard text.count >= 20, digits(0..<4), text[4] == UInt8(ascii: "-"), digits(5..<7), text[7] == UInt8(ascii: "-"),
              digits(8..<10), text[10] == UInt8(ascii: "T"), digits(11..<13), text[13] == UInt8(ascii: ":"),
              digits(14..<16), text[16] == UInt8(ascii: ":"), digits(17..<19)
        else { return false }
        let month = value(5), day = value(8), hour = value(11), minute = value(14), second = value(17)
        guard (1...12).contains(month), (1...31).contains(day), hour <= 23, minute <= 59, second <= 60 else { return false }
        var index = 19
        if text[index] == UInt8(ascii: ".") {
            index += 1
            let fraction = index
            while index < text.count, isDigit(text[index]) { index += 1 }
            guard index > fraction else { return false }
        }
        return index == text.count - 1 && text[index] == UInt8(ascii: "Z")
    }

    private static func isBase64(_ text: [UInt8]) -> Bool {
        guard !text.isEmpty, text.count % 4 == 0 else { return false }
        let padding = text.reversed().prefix { $0 == UInt8(ascii: "=") }.count
        guard padding <= 2 else { return false }
        return text.dropLast(padding).allSatisfy { isIdentifierStart($0) && $0 != UInt8(ascii: "_") || isDigit($0)
            || $0 == UInt8(ascii: "+") || $0 == UInt8(ascii: "/") }
    }

    static func isDigit(_ byte: UInt8) -> Bool { byte >= 0x30 && byte <= 0x39 }

    static func isHexDigit(_ byte: UInt8) -> Bool {
        isDigit(byte) || (byte | 0x20 >= UInt8(ascii: "a") && byte | 0x20 <= UInt8(ascii: "f"))
    }

    static func isIdentifierStart(_ byte: UInt8) -> Bool {
        (byte | 0x20 >= UInt8(ascii: "a") && byte | 0x20 <= UInt8(ascii: "z")) || byte == UInt8(ascii: "_")
    }

    static func describe(_ bytes: [UInt8], _ index: Int) -> String {
        guard index < bytes.count else { return "end of pattern" }
        let byte = bytes[index]
        if byte > 0x20 && byte < 0x7F { return "'\(Character(Unicode.Scalar(byte)))'" }
        return "byte 0x" + String(byte, radix: 16, uppercase: true)
    }
}
