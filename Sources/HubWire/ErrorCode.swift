public import IndicatorKit

/// The u16 code of an ERROR message (docs/PROTOCOL.md, "Error codes"). Codes 1–99 close the
/// connection and travel with request id 0; codes 100 and above refuse one request and leave the
/// connection open. The set is open: a receiver keeps codes it does not know and applies the
/// rule by number, so a newer hub can add codes without breaking older clients.
public struct ErrorCode: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: UInt16

    public init(rawValue: UInt16) { self.rawValue = rawValue }

    /// Connection-level (closes the connection, request id 0) or request-level.
    public var closesConnection: Bool { rawValue < 100 }

    // Connection-level.
    public static let malformedFrame = ErrorCode(rawValue: 1)
    public static let frameTooLarge = ErrorCode(rawValue: 2)
    public static let truncatedFrame = ErrorCode(rawValue: 3)
    public static let unknownMessageType = ErrorCode(rawValue: 4)
    public static let malformedPayload = ErrorCode(rawValue: 5)
    public static let badMagic = ErrorCode(rawValue: 6)
    public static let helloRequired = ErrorCode(rawValue: 7)
    public static let unsupportedVersion = ErrorCode(rawValue: 8)
    public static let unexpectedMessage = ErrorCode(rawValue: 9)
    public static let duplicateRequestID = ErrorCode(rawValue: 10)
    public static let handshakeTimeout = ErrorCode(rawValue: 20)
    public static let helloTimeout = ErrorCode(rawValue: 21)
    public static let idleTimeout = ErrorCode(rawValue: 22)
    public static let frameTimeout = ErrorCode(rawValue: 23)
    public static let notAuthorised = ErrorCode(rawValue: 30)
    public static let revoked = ErrorCode(rawValue: 31)
    public static let shuttingDown = ErrorCode(rawValue: 40)

    // Request-level: the QUERY itself.
    public static let malformedRequest = ErrorCode(rawValue: 100)
    public static let batchTooLarge = ErrorCode(rawValue: 101)
    public static let missingField = ErrorCode(rawValue: 102)
    public static let invalidField = ErrorCode(rawValue: 103)
    public static let unknownIndicatorType = ErrorCode(rawValue: 104)

    // Request-level: uploads and withdrawals (version 2).
    public static let uploadTooLarge = ErrorCode(rawValue: 120)
    public static let uploadIDReused = ErrorCode(rawValue: 121)
    public static let uploadInProgress = ErrorCode(rawValue: 122)
    public static let uploadState = ErrorCode(rawValue: 123)
    public static let unknownUpload = ErrorCode(rawValue: 124)

    // Request-level: policy, rate and quota.
    public static let operationNotAllowed = ErrorCode(rawValue: 200)
    public static let purposeNotAllowed = ErrorCode(rawValue: 201)
    public static let legalBasisNotAllowed = ErrorCode(rawValue: 202)
    public static let priorityNotAllowed = ErrorCode(rawValue: 203)
    public static let typeNotAllowed = ErrorCode(rawValue: 204)
    public static let rateLimited = ErrorCode(rawValue: 210)
    public static let quotaExceeded = ErrorCode(rawValue: 211)

    // Request-level: the hub.
    public static let serverBusy = ErrorCode(rawValue: 300)
    public static let internalError = ErrorCode(rawValue: 301)

    /// Every code of protocol versions 1 and 2, in table order.
    public static let known: [ErrorCode] = [
        .malformedFrame, .frameTooLarge, .truncatedFrame, .unknownMessageType, .malformedPayload, .badMagic,
        .helloRequired, .unsupportedVersion, .unexpectedMessage, .duplicateRequestID, .handshakeTimeout,
        .helloTimeout, .idleTimeout, .frameTimeout, .notAuthorised, .revoked, .shuttingDown,
        .malformedRequest, .batchTooLarge, .missingField, .invalidField, .unknownIndicatorType,
        .uploadTooLarge, .uploadIDReused, .uploadInProgress, .uploadState, .unknownUpload,
        .operationNotAllowed, .purposeNotAllowed, .legalBasisNotAllowed, .priorityNotAllowed, .typeNotAllowed,
        .rateLimited, .quotaExceeded, .serverBusy, .internalError,
    ]

    /// The stable snake_case name (logs, metrics, JSON `error.code`); `error_<n>` for a code this
    /// version does not know.
    public var name: String {
        switch rawValue {
        case 1: "malformed_frame"
        case 2: "frame_too_large"
        case 3: "truncated_frame"
        case 4: "unknown_message_type"
        case 5: "malformed_payload"
        case 6: "bad_magic"
        case 7: "hello_required"
        case 8: "unsupported_version"
        case 9: "unexpected_message"
        case 10: "duplicate_request_id"
        case 20: "handshake_timeout"
        case 21: "hello_timeout"
        case 22: "idle_timeout"
        case 23: "frame_timeout"
        case 30: "not_authorised"
        case 31: "revoked"
        case 40: "shutting_down"
        case 100: "malformed_request"
        case 101: "batch_too_large"
        case 102: "missing_field"
        case 103: "invalid_field"
        case 104: "unknown_indicator_type"
        case 120: "upload_too_large"
        case 121: "upload_id_reused"
        case 122: "upload_in_progress"
        case 123: "upload_state"
        case 124: "unknown_upload"
        case 200: "operation_not_allowed"
        case 201: "purpose_not_allowed"
        case 202: "legal_basis_not_allowed"
        case 203: "priority_not_allowed"
        case 204: "type_not_allowed"
        case 210: "rate_limited"
        case 211: "quota_exceeded"
        case 300: "server_busy"
        case 301: "internal_error"
        default: "error_\(rawValue)"
        }
    }

    public var description: String { "\(name) (\(rawValue))" }
}

/// Why one value of a batch was not answered (a RESULT entry with status `refused`). The names
/// are `IndicatorError.code`'s, plus the policy's `type_not_allowed`. A closed set per protocol
/// version: a RESULT with another byte is malformed.
public enum ValueRefusal: UInt8, CaseIterable, Sendable, Hashable, CustomStringConvertible {
    /// Empty, or only whitespace.
    case empty = 1
    /// Longer than `WireFormat.maxValueBytes`.
    case tooLong = 2
    /// Type 0 (detect) and the value looks like no indicator type.
    case unrecognised = 3
    /// Not valid for its type.
    case invalidValue = 4
    /// The partner's policy does not allow this indicator type.
    case typeNotAllowed = 5

    public var name: String {
        switch self {
        case .empty: "empty"
        case .tooLong: "too_long"
        case .unrecognised: "unrecognised"
        case .invalidValue: "invalid_value"
        case .typeNotAllowed: "type_not_allowed"
        }
    }

    public var description: String { name }
}

extension ValueRefusal {
    /// The refusal that answers a value the canonicaliser refused.
    public init(_ error: IndicatorError) {
        switch error {
        case .empty: self = .empty
        case .tooLong: self = .tooLong
        case .unrecognised: self = .unrecognised
        case .invalid: self = .invalidValue
        }
    }
}
