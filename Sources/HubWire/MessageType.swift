/// The message type byte of a frame header (docs/PROTOCOL.md, "Message types"). Every type of
/// every version this implementation speaks is a case (`sinceVersion` says which version added
/// it; a frame decoder refuses types newer than its connection's version); reserved ranges are
/// described by `reservation(of:)`.
public enum MessageType: UInt8, CaseIterable, Sendable, Hashable, CustomStringConvertible {
    case hello = 0x01
    case welcome = 0x02
    case ping = 0x03
    case pong = 0x04
    case error = 0x05
    case query = 0x10
    case result = 0x11
    // Version 2: feed uploads and withdrawals.
    case uploadBegin = 0x20
    case uploadRecords = 0x21
    case uploadCommit = 0x22
    case uploadResult = 0x23
    case withdraw = 0x24
    case withdrawResult = 0x25

    /// The document's spelling: `HELLO`, `WELCOME`, ….
    public var description: String {
        switch self {
        case .hello: "HELLO"
        case .welcome: "WELCOME"
        case .ping: "PING"
        case .pong: "PONG"
        case .error: "ERROR"
        case .query: "QUERY"
        case .result: "RESULT"
        case .uploadBegin: "UPLOAD_BEGIN"
        case .uploadRecords: "UPLOAD_RECORDS"
        case .uploadCommit: "UPLOAD_COMMIT"
        case .uploadResult: "UPLOAD_RESULT"
        case .withdraw: "WITHDRAW"
        case .withdrawResult: "WITHDRAW_RESULT"
        }
    }

    /// The protocol version that defined this type: 1, or 2 for the feed messages.
    public var sinceVersion: UInt16 {
        rawValue >= 0x20 ? WireFormat.feedVersion : 1
    }

    /// Whether a malformed payload of this type refuses only its request (`malformed_request`)
    /// rather than closing the connection (`malformed_payload`). UPLOAD_COMMIT is not among
    /// them: a hub that cannot read a COMMIT cannot know where the upload ends.
    public var malformedPayloadIsRequestLevel: Bool {
        switch self {
        case .query, .uploadBegin, .uploadRecords, .withdraw: true
        default: false
        }
    }

    /// Whether frames of this type carry a request id (QUERY, RESULT) or must carry 0 (HELLO,
    /// WELCOME, PING, PONG). ERROR carries either, decided by its code.
    enum RequestIDRule { case zero, nonZero, byErrorCode }

    var requestIDRule: RequestIDRule {
        switch self {
        case .hello, .welcome, .ping, .pong: .zero
        case .query, .result, .uploadBegin, .uploadRecords, .uploadCommit, .uploadResult, .withdraw,
             .withdrawResult: .nonZero
        case .error: .byErrorCode
        }
    }

    /// What a reserved type byte is kept for, or nil for an unassigned one.
    public static func reservation(of byte: UInt8) -> String? {
        switch byte {
        case 0x26...0x2F: "feed messages of a later version"
        case 0x30...0x3F: "private mode (OPRF)"
        case 0x40...0x4F: "the local pre-filter"
        default: nil
        }
    }
}
