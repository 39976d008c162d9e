package import HubJSON

/// A JSON value as written in a policy file (RFC 8259), parsed by the shared strict parser
/// (`HubJSON`) rather than `JSONSerialization` so that the validator sees exactly what the
/// operator wrote: object members keep their order and their duplicates (a key given twice is
/// refused by `PolicyFieldReader`, never silently "last one wins"), numbers keep their literal
/// text (so `5.0` is not mistaken for the integer `5` and `true` is never a number), and
/// nesting is bounded (a file of 100,000 `[` is refused, not a stack overflow).
package typealias PolicyJSON = JSONValue

/// A syntax error in a policy file, with a 1-based line and column.
package typealias PolicyJSONSyntaxError = JSONSyntaxError

extension JSONValue {
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

/// The policy loader's use of the shared parser: policies nest three levels deep, so anything
/// deeper than 32 is refused.
package enum PolicyJSONParser {
    package static let maxDepth = 32

    /// Parses one JSON value (whitespace around it allowed; a leading UTF-8 byte order mark is skipped).
    package static func parse(_ bytes: [UInt8]) throws(PolicyJSONSyntaxError) -> PolicyJSON {
        try JSONParser.parse(bytes, maxDepth: maxDepth)
    }
}
