/// Why a value was refused. The `description` is the precise, user-facing reason that
/// `ihub canonical`, ingest reports and query answers print.
public enum IndicatorError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The value is empty (or only whitespace).
    case empty
    /// The raw value is longer than `limit` bytes.
    case tooLong(limit: Int)
    /// No `--type` was given and the value does not look like any supported type.
    case unrecognised
    /// The value was parsed as `type` and is not valid for it; `reason` says exactly why.
    case invalid(IndicatorType, reason: String)

    /// A stable machine-readable code (JSON `error.code`): `empty`, `too_long`, `unrecognised`,
    /// `invalid_value`.
    public var code: String {
        switch self {
        case .empty: "empty"
        case .tooLong: "too_long"
        case .unrecognised: "unrecognised"
        case .invalid: "invalid_value"
        }
    }

    public var description: String {
        switch self {
        case .empty: "empty value"
        case .tooLong(let limit): "value longer than \(limit) bytes"
        case .unrecognised: "not a recognised indicator (give --type to say what it is)"
        case .invalid(let type, let reason): "invalid \(type.name): \(reason)"
        }
    }
}
