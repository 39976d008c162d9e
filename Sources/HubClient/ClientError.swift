public import HubTLS
public import HubWire
import Glibc

/// Why a `HubClient` call failed. Every case says what to tell the user; `exitStatus` maps it
/// to the statuses of PRODUCT.md, so every command reports the same failure the same way.
public enum ClientError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The identity directory lacks files (`partner.key`, `partner.crt`, `ca.crt`), or one of
    /// them cannot be used (key readable by others, not PEM, key and certificate disagree).
    case identity(directory: String, reason: String)
    /// The TCP connection could not be made (`connect(2)`'s reason, or the name did not resolve).
    case cannotConnect(host: String, port: UInt16, reason: String)
    /// TLS failed: the hub's certificate is not from our CA or does not name the host, or the
    /// hub refused our certificate (revoked, another CA) — in TLS 1.3 that arrives as an alert
    /// on the first read.
    case tls(TLSError)
    /// The hub sent a connection-level ERROR (`revoked`, `not_authorised`, `shutting_down`,
    /// `unsupported_version`, …) and closed the connection.
    case refusedByHub(code: ErrorCode, reason: String)
    /// The hub broke the protocol (a malformed frame, a RESULT for no request); the client
    /// closed the connection.
    case protocolViolation(WireError)
    /// The hub closed the connection (`duringRequest`: with requests still unanswered).
    case connectionClosed(duringRequest: Bool)
    /// Nothing arrived or could be sent for `seconds` while waiting for `operation`.
    case timeout(operation: String, seconds: Double)
    /// The call is not possible: the client is closed, or an argument is out of range.
    case invalidUse(String)
    /// The hub does not offer the operation: it negotiated a protocol version without it
    /// (uploads and withdrawals need version 2).
    case notSupported(String)

    /// 2 for a local configuration problem, 3 when the hub could not be reached or refused the
    /// connection (PRODUCT.md, "Exit status").
    public var exitStatus: Int32 {
        switch self {
        case .identity, .invalidUse: 2
        case .cannotConnect, .tls, .refusedByHub, .protocolViolation, .connectionClosed, .timeout, .notSupported: 3
        }
    }

    public var description: String {
        switch self {
        case .identity(let directory, let reason): "identity \(directory): \(reason)"
        case .cannotConnect(let host, let port, let reason): "cannot connect to \(host):\(port): \(reason)"
        case .tls(let error): "TLS: \(error.description)"
        case .refusedByHub(let code, let reason):
            "the hub refused the connection: \(code.name)" + (reason.isEmpty ? "" : ": \(reason)")
        case .protocolViolation(let error): "protocol error from the hub: \(error.description)"
        case .connectionClosed(let duringRequest):
            duringRequest ? "the hub closed the connection with requests unanswered" : "the hub closed the connection"
        case .timeout(let operation, let seconds): "timed out after \(seconds) s waiting for \(operation)"
        case .invalidUse(let reason): reason
        case .notSupported(let reason): reason
        }
    }

    /// Whether the request's outcome is unknown because the connection failed (closed, timed
    /// out, could not be made): a retry of an upload with the same upload id is safe and needed.
    public var isTransient: Bool {
        switch self {
        case .cannotConnect, .connectionClosed, .timeout: true
        default: false
        }
    }

    /// `strerror` in lower case, as the other modules print system errors.
    static func systemReason(_ code: Int32) -> String {
        guard let text = strerror(code) else { return "errno \(code)" }
        let message = String(cString: text)
        guard let first = message.first else { return "errno \(code)" }
        return first.lowercased() + message.dropFirst()
    }
}
