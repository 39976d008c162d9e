/// The message type byte of a frame header (docs/PROTOCOL.md, "Message types"). Only the types
/// of protocol version 1 are cases; reserved ranges are described by `reservation(of:)`.
public enum MessageType: UInt8, CaseIterable, Sendable, Hashable, CustomStringConvertible {
    case hello = 0x01
    case welcome = 0x02
    case ping = 0x03
    case pong = 0x04
    case error = 0x05
    case query = 0x10
    case result = 0x11

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
        }
    }

    /// Whether frames of this type carry a request id (QUERY, RESULT) or must carry 0 (HELLO,
    /// WELCOME, PING, PONG). ERROR carries either, decided by its code.
    enum RequestIDRule { case zero, nonZero, byErrorCode }

    var requestIDRule: RequestIDRule {
        switch self {
        case .hello, .welcome, .ping, .pong: .zero
        case .query, .result: .nonZero
        case .error: .byErrorCode
        }
    }

    /// What a reserved type byte is kept for, or nil for an unassigned one.
    public static func reservation(of byte: UInt8) -> String? {
        switch byte {
        case 0x20...0x2F: "feed upload and withdrawal"
        case 0x30...0x3F: "private mode (OPRF)"
        case 0x40...0x4F: "the local pre-filter"
        default: nil
        }
    }
}
