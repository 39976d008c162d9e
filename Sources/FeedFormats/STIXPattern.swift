public import IndicatorKit

/// A STIX 2.1 pattern (STIX 2.1 §9): parsed in full by the grammar of the specification (the
/// `STIXPattern.g4` rules), so that a valid pattern the hub cannot use is refused as
/// *unsupported* with the reason, and only a pattern that breaks the grammar is a *syntax
/// error*. The hub takes the subset that names single values: one observation (or several
/// joined by `OR`) whose comparisons are `path = 'value'` joined by `OR`, on the paths of
/// `supportedPaths`. Everything else — `AND`, `FOLLOWEDBY`, qualifiers, other operators,
/// `NOT`, other object types — is unsupported.
public struct STIXPattern {
    enum Operator: Equatable {
        case equal, notEqual, less, lessOrEqual, greater, greaterOrEqual

        var text: String {
            switch self {
            case .equal: "="
            case .notEqual: "!="
            case .less: "<"
            case .lessOrEqual: "<="
            case .greater: ">"
            case .greaterOrEqual: ">="
            }
        }
    }

    /// Why a pattern was refused; `offset` is a byte offset into the pattern.
    public enum PatternError: Error, Equatable, CustomStringConvertible {
        case syntax(at: Int, String)
        case unsupported(String)

        public var description: String {
            switch self {
            case .syntax(let offset, let reason): "pattern syntax error at character \(offset + 1): \(reason)"
            case .unsupported(let reason): "unsupported pattern: \(reason)"
            }
        }

        public var isSyntaxError: Bool {
            if case .syntax = self { return true }
            return false
        }
    }

    /// One value the pattern names, with the type its object path implies.
    public struct Value: Equatable {
        public var type: IndicatorType
        public var bytes: [UInt8]
    }

    /// The values of a supported pattern, in pattern order.
    public private(set) var values: [Value] = []

    /// Parses `text` and extracts its values; throws `.syntax` for a pattern outside the
    /// grammar, `.unsupported` for a valid one the hub cannot use.
    public init(_ text: String) throws(PatternError) {
        let bytes = Array(text.utf8)
        var parser = Parser(bytes: bytes, lexemes: try Self.tokenize(bytes))
        try parser.observationExpressions(depth: 0)
        guard parser.current.token == .end else {
            throw .syntax(at: parser.current.offset, "unexpected \(parser.describeCurrent()) after the pattern")
        }
        if let unsupported = parser.unsupported { throw .unsupported(unsupported) }
        values = parser.values
    }

    /// `file:hashes.<key>` spellings real feeds use, by their letters and digits only
    /// (`'SHA-256'`, `SHA256`, `sha256` are one key).
    static func hashType(forKey key: String) -> IndicatorType? {
        let letters = key.uppercased().filter { $0 != "-" && $0 != "_" }
        switch letters {
        case "MD5": return .md5
        case "SHA1": return .sha1
        case "SHA256": return .sha256
        case "SHA512": return .sha512
        default: return nil
        }
    }

    /// The object paths the hub reads, for documentation and error messages.
    public static let supportedPaths = [
        "ipv4-addr:value", "ipv6-addr:value", "domain-name:value", "url:value", "email-addr:value",
        "file:hashes.MD5", "file:hashes.'SHA-1'", "file:hashes.'SHA-256'", "file:hashes.'SHA-512'",
    ]
}

extension STIXPattern {
    /// Recursive descent over the grammar. It records the first reason the pattern is outside
    /// the supported subset but keeps parsing, so that a syntax error later in the pattern
    /// still wins.
    struct Parser {
        let bytes: [UInt8]
        let lexemes: [Lexeme]
        var index = 0
        var values: [Value] = []
        var unsupported: String?

        /// Parentheses and brackets nest at most this deep (hostile patterns).
        static let maxDepth = 32

        init(bytes: [UInt8], lexemes: [Lexeme]) {
            self.bytes = bytes
            self.lexemes = lexemes
        }

        var current: Lexeme { lexemes[index] }

        mutating func advance() { if index < lexemes.count - 1 { index += 1 } }

        mutating func unsupported(_ reason: String) {
            if unsupported == nil { unsupported = reason }
        }

        func describeCurrent() -> String {
            switch current.token {
            case .end: "end of pattern"
            case .keyword(let keyword): keyword.rawValue
            case .identifier(let name, _): "'\(name)'"
            default: STIXPattern.describe(bytes, current.offset)
            }
        }

        func syntax(_ expected: String) -> PatternError {
            .syntax(at: current.offset, "expected \(expected), found \(describeCurrent())")
        }

        mutating func accept(_ keyword: Keyword) -> Bool {
            guard current.token == .keyword(keyword) else { return false }
            advance()
            return true
        }

        mutating func expect(_ token: Token, _ what: String) throws(PatternError) {
            guard current.token == token else { throw syntax(what) }
            advance()
        }

        // observationExpressions: FOLLOWEDBY < OR < AND < qualified observation.
        mutating func observationExpressions(depth: Int) throws(PatternError) {
            try observationOr(depth: depth)
            while accept(.followedBy) {
                unsupported("observations joined by FOLLOWEDBY (a sequence in time, not a single value)")
                try observationOr(depth: depth)
            }
        }

        mutating func observationOr(depth: Int) throws(PatternError) {
            try observationAnd(depth: depth)
            while accept(.or) { try observationAnd(depth: depth) }
        }

        mutating func observationAnd(depth: Int) throws(PatternError) {
            try observation(depth: depth)
            while accept(.and) {
                unsupported("observations joined by AND (all must be seen; the hub matches single values)")
                try observation(depth: depth)
            }
        }

        mutating func observation(depth: Int) throws(PatternError) {
            guard depth < Self.maxDepth else { throw .syntax(at: current.offset, "nested deeper than \(Self.maxDepth) levels") }
            switch current.token {
            case .leftBracket:
                advance()
                try comparisonOr(depth: depth + 1)
                try expect(.rightBracket, "']' or a comparison joined by AND / OR")
            case .leftParen:
                advance()
                try observationExpressions(depth: depth + 1)
                try expect(.rightParen, "')'")
            default:
                throw syntax("'[' (an observation expression)")
            }
            try qualifiers()
        }

        mutating func qualifiers() throws(PatternError) {
            while true {
                if accept(.start) {
                    try expect(.timestamp, "a timestamp t'…' after START")
                    guard accept(.stop) else { throw syntax("STOP") }
                    try expect(.timestamp, "a timestamp t'…' after STOP")
                    unsupported("qualifier START … STOP (a time window)")
                } else if accept(.within) {
                    switch current.token {
                    case .integer(let value, _) where value >= 0: advance()
                    case .float(let value) where value >= 0: advance()
                    default: throw syntax("a positive number of seconds after WITHIN")
                    }
                    guard accept(.seconds) else { throw syntax("SECONDS") }
                    unsupported("qualifier WITHIN (a time window)")
                } else if accept(.repeats) {
                    guard case .integer(let value, _) = current.token, value >= 0 else {
                        throw syntax("a positive integer after REPEATS")
                    }
                    advance()
                    guard accept(.times) else { throw syntax("TIMES") }
                    unsupported("qualifier REPEATS (a count of sightings)")
                } else {
                    return
                }
            }
        }

        // comparisonExpression: OR < AND < property test.
        mutating func comparisonOr(depth: Int) throws(PatternError) {
            try comparisonAnd(depth: depth)
            while accept(.or) { try comparisonAnd(depth: depth) }
        }

        mutating func comparisonAnd(depth: Int) throws(PatternError) {
            try propertyTest(depth: depth)
            while accept(.and) {
                unsupported("comparisons joined by AND (all must hold; the hub matches single values)")
                try propertyTest(depth: depth)
            }
        }

        mutating func propertyTest(depth: Int) throws(PatternError) {
            if current.token == .leftParen {
                guard depth < Self.maxDepth else { throw .syntax(at: current.offset, "nested deeper than \(Self.maxDepth) levels") }
                advance()
                try comparisonOr(depth: depth + 1)
                try expect(.rightParen, "')'")
                return
            }
            if accept(.exists) {
                _ = try objectPath()
                unsupported("EXISTS (a test for a property, not a value)")
                return
            }
            let path = try objectPath()
            let negated = accept(.not)
            switch current.token {
            case .op(let op):
                advance()
                let literal = try primitiveLiteral(orderable: op != .equal && op != .notEqual)
                if negated || op != .equal {
                    unsupported("operator \(negated ? "NOT " : "")\(op.text) (only '=' names a value)")
                } else if let bytes = literal {
                    take(path: path, value: bytes)
                } else {
                    unsupported("\(path.text) compared with a non-string literal")
                }
            case .keyword(.in):
                advance()
                try setLiteral()
                unsupported("operator IN (write the values joined by OR)")
            case .keyword(let keyword) where [.like, .matches, .isSubset, .isSuperset].contains(keyword):
                advance()
                guard case .string = current.token else { throw syntax("a string literal after \(keyword.rawValue)") }
                advance()
                unsupported("operator \(keyword.rawValue) (only '=' names a value)")
            default:
                throw syntax("a comparison operator after \(path.text)")
            }
        }

        /// A literal; returns its bytes when it is a string.
        mutating func primitiveLiteral(orderable: Bool) throws(PatternError) -> [UInt8]? {
            switch current.token {
            case .string(let bytes): advance(); return bytes
            case .integer, .float, .binary, .hex, .timestamp: advance(); return nil
            case .bool where !orderable: advance(); return nil
            default: throw syntax("a literal value")
            }
        }

        mutating func setLiteral() throws(PatternError) {
            try expect(.leftParen, "'(' to open a set")
            if current.token == .rightParen {
                advance()
                return
            }
            while true {
                _ = try primitiveLiteral(orderable: false)
                if current.token == .comma {
                    advance()
                    continue
                }
                try expect(.rightParen, "',' or ')' in a set")
                return
            }
        }

        struct ObjectPath {
            var objectType: String
            var steps: [Step]
            /// Where the path is written in the pattern (for messages only).
            var range: Range<Int>
            let pattern: [UInt8]

            var text: String {
                String(decoding: pattern[range], as: UTF8.self).trimmingASCIISpaces()
            }

            enum Step: Equatable {
                case key(String)
                case index
            }
        }

        mutating func objectPath() throws(PatternError) -> ObjectPath {
            guard case .identifier(let objectType, _) = current.token else {
                throw syntax("an object path such as ipv4-addr:value")
            }
            let start = current.offset
            advance()
            try expect(.colon, "':' after the object type '\(objectType)'")
            var steps: [ObjectPath.Step] = []
            switch current.token {
            case .identifier(let name, hyphen: false): steps.append(.key(name))
            case .string(let name): steps.append(.key(String(decoding: name, as: UTF8.self)))
            case .identifier(let name, hyphen: true):
                throw .syntax(at: current.offset, "property name '\(name)' contains '-': quote it ('\(name)')")
            default: throw syntax("a property name after ':'")
            }
            advance()
            while true {
                if current.token == .dot {
                    advance()
                    switch current.token {
                    case .identifier(let name, hyphen: false): steps.append(.key(name))
                    case .string(let name): steps.append(.key(String(decoding: name, as: UTF8.self)))
                    case .identifier(let name, hyphen: true):
                        throw .syntax(at: current.offset, "property name '\(name)' contains '-': quote it ('\(name)')")
                    default: throw syntax("a property name after '.'")
                    }
                    advance()
                } else if current.token == .leftBracket {
                    advance()
                    switch current.token {
                    case .integer(_, _), .star: advance()
                    default: throw syntax("an index or '*' inside '[ ]'")
                    }
                    try expect(.rightBracket, "']'")
                    steps.append(.index)
                } else {
                    break
                }
            }
            return ObjectPath(objectType: objectType, steps: steps, range: start..<current.offset, pattern: bytes)
        }

        /// Records `path = value` when the path is one the hub reads.
        mutating func take(path: ObjectPath, value: [UInt8]) {
            var type: IndicatorType?
            if path.steps == [.key("value")] {
                switch path.objectType {
                case "ipv4-addr": type = .ipv4
                case "ipv6-addr": type = .ipv6
                case "domain-name": type = .domain
                case "url": type = .url
                case "email-addr": type = .email
                default: break
                }
            } else if path.objectType == "file", path.steps.count == 2, path.steps[0] == .key("hashes"),
                      case .key(let name) = path.steps[1]
            {
                type = STIXPattern.hashType(forKey: name)
                if type == nil {
                    unsupported("hash algorithm '\(name)' (supported: MD5, SHA-1, SHA-256, SHA-512)")
                    return
                }
            }
            guard let type else {
                unsupported("object path \(path.text) (supported: \(STIXPattern.supportedPaths.joined(separator: ", ")))")
                return
            }
            values.append(Value(type: type, bytes: value))
        }
    }
}
