internal import COpenSSL
import Glibc

/// One TLS connection over a connected, non-blocking socket, driven by an event loop.
///
/// Every call does as much as the socket allows and returns what it waits for: `wantRead`
/// (wait until the socket is readable, then call again) or `wantWrite` (writable). Nothing
/// blocks and nothing raises `SIGPIPE`. The descriptor is borrowed: the connection never
/// closes it, and the caller must keep it open for the connection's lifetime.
///
/// States: `handshaking` → `established` → `closed` (close_notify sent or received), or
/// `failed` after any error (then only `deinit` remains; close the socket). A connection is
/// not thread-safe: one event loop owns it.
public final class TLSConnection {
    public enum State: String, Sendable {
        case handshaking, established, closed, failed
    }

    /// What a handshake or shutdown step achieved.
    public enum Progress: Sendable, Equatable {
        case complete, wantRead, wantWrite
    }

    /// What a read or write achieved. `bytes(n)` may be fewer than asked for.
    public enum Transfer: Sendable, Equatable {
        case bytes(Int), wantRead, wantWrite, closed
    }

    private let ssl: OpaquePointer
    private let verification: Verification
    private let isServer: Bool
    public private(set) var state: State = .handshaking

    /// The verified partner (server side), once the handshake is complete.
    public var peer: PeerIdentity? { state == .established || state == .closed ? verification.peer : nil }

    /// Decrypted bytes OpenSSL holds that the socket will not signal (`SSL_pending`): an event
    /// loop must read them before waiting for readability again.
    public var bufferedBytes: Int { Int(SSL_pending(ssl)) }

    /// The negotiated protocol, e.g. `TLSv1.3`.
    public var protocolVersion: String { String(cString: SSL_get_version(ssl)) }

    /// A server-side connection on an accepted socket.
    public init(server context: TLSServerContext, socket: Int32) throws(TLSError) {
        verification = Verification(side: .server(context.revocations))
        isServer = true
        ssl = try Self.makeSSL(context.context, socket: socket)
        SSL_set_ex_data(ssl, 0, Unmanaged.passUnretained(verification).toOpaque())
        SSL_set_accept_state(ssl)
    }

    /// A client-side connection to the hub at `serverName` (a DNS name or an IP address),
    /// which the hub's certificate must name.
    public init(client context: TLSClientContext, socket: Int32, serverName: String) throws(TLSError) {
        guard let parsed = HubPKI.parseHostname(serverName) else { throw .invalidServerName(serverName) }
        verification = Verification(side: .client(expectedName: serverName))
        isServer = false
        ssl = try Self.makeSSL(context.context, socket: socket)
        SSL_set_ex_data(ssl, 0, Unmanaged.passUnretained(verification).toOpaque())
        SSL_set_connect_state(ssl)
        let named = parsed.kind == .ip
            ? X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), serverName) == 1
            : SSL_set1_host(ssl, serverName) == 1 && COpenSSL_SSL_set_tlsext_host_name(ssl, serverName) == 1
        guard named else {
            // All stored properties are set, so deinit frees `ssl`.
            throw .openSSL(operation: "setting the expected host name '\(serverName)'", reasons: OpenSSLErrors.reasons())
        }
    }

    private static func makeSSL(_ context: OpaquePointer, socket: Int32) throws(TLSError) -> OpaquePointer {
        OpenSSLErrors.clear()
        guard let ssl = SSL_new(context) else { throw .openSSL(operation: "SSL_new", reasons: OpenSSLErrors.reasons()) }
        guard let bio = SocketBIO.make(socket: socket) else {
            SSL_free(ssl)
            throw .openSSL(operation: "BIO_new", reasons: OpenSSLErrors.reasons())
        }
        SSL_set_bio(ssl, bio, bio)
        return ssl
    }

    deinit { SSL_free(ssl) }

    /// Advances the handshake. `complete` once both sides are verified; after that the
    /// server's `peer` is set. Throws the reason the handshake failed.
    public func handshake() throws(TLSError) -> Progress {
        switch state {
        case .handshaking: break
        case .established: return .complete
        case .closed, .failed: throw .invalidState(operation: "handshake", state: state.rawValue)
        }
        OpenSSLErrors.clear()
        let result = SSL_do_handshake(ssl)
        if result == 1 {
            if isServer && verification.peer == nil {
                state = .failed
                throw verification.failure ?? .noPeerCertificate
            }
            state = .established
            return .complete
        }
        switch try interpret(result, operation: "handshake") {
        case .wantRead: return .wantRead
        case .wantWrite: return .wantWrite
        case .closed:
            state = .failed
            throw .unexpectedEOF(duringHandshake: true)
        }
    }

    /// Reads decrypted bytes into `buffer`. `closed` when the peer sent close_notify.
    public func read(into buffer: UnsafeMutableRawBufferPointer) throws(TLSError) -> Transfer {
        switch state {
        case .established: break
        case .closed: return .closed
        case .handshaking, .failed: throw .invalidState(operation: "read", state: state.rawValue)
        }
        guard let base = buffer.baseAddress, buffer.count > 0 else { return .bytes(0) }
        OpenSSLErrors.clear()
        var count = 0
        if SSL_read_ex(ssl, base, buffer.count, &count) == 1 { return .bytes(count) }
        switch try interpret(0, operation: "read") {
        case .wantRead: return .wantRead
        case .wantWrite: return .wantWrite
        case .closed: return .closed
        }
    }

    /// Writes bytes. A `bytes(n)` result may be short: write the rest later. After `wantRead`
    /// or `wantWrite`, call again with the same bytes (they may have moved in memory).
    public func write(_ bytes: UnsafeRawBufferPointer) throws(TLSError) -> Transfer {
        guard state == .established else { throw .invalidState(operation: "write", state: state.rawValue) }
        guard let base = bytes.baseAddress, bytes.count > 0 else { return .bytes(0) }
        OpenSSLErrors.clear()
        var count = 0
        if SSL_write_ex(ssl, base, bytes.count, &count) == 1 { return .bytes(count) }
        switch try interpret(0, operation: "write") {
        case .wantRead: return .wantRead
        case .wantWrite: return .wantWrite
        case .closed: return .closed
        }
    }

    /// Sends close_notify (once). `complete` when it is sent; the caller may then close the
    /// socket without waiting for the peer's close_notify.
    public func shutdown() throws(TLSError) -> Progress {
        switch state {
        case .established, .closed: break
        case .handshaking, .failed: throw .invalidState(operation: "shutdown", state: state.rawValue)
        }
        OpenSSLErrors.clear()
        let result = SSL_shutdown(ssl)
        if result >= 0 {
            state = .closed
            return .complete
        }
        switch try interpret(result, operation: "shutdown") {
        case .wantRead: return .wantRead
        case .wantWrite: return .wantWrite
        case .closed:
            state = .closed
            return .complete
        }
    }

    // MARK: Errors

    private enum Outcome { case wantRead, wantWrite, closed }

    /// `SSL_get_error` for a failed call, as an outcome the loop acts on or a thrown `TLSError`
    /// built from the verify callback's note and OpenSSL's drained error queue.
    private func interpret(_ result: Int32, operation: String) throws(TLSError) -> Outcome {
        let savedErrno = errno
        let code = SSL_get_error(ssl, result)
        switch code {
        case SSL_ERROR_WANT_READ: return .wantRead
        case SSL_ERROR_WANT_WRITE: return .wantWrite
        case SSL_ERROR_ZERO_RETURN:
            if state == .established { state = .closed }
            return .closed
        case SSL_ERROR_SYSCALL:
            let entries = OpenSSLErrors.drain()
            let handshaking = state == .handshaking
            state = .failed
            if let failure = verification.failure { throw failure }
            if !entries.isEmpty { throw classify(entries, operation: operation, handshaking: handshaking) }
            if savedErrno == 0 { throw .unexpectedEOF(duringHandshake: handshaking) }
            throw .system(operation: operation, errno: savedErrno)
        default:
            let entries = OpenSSLErrors.drain()
            let handshaking = state == .handshaking
            state = .failed
            throw classify(entries, operation: operation, handshaking: handshaking)
        }
    }

    private func classify(_ entries: [OpenSSLErrors.Entry], operation: String, handshaking: Bool) -> TLSError {
        if let failure = verification.failure { return failure }
        for entry in entries where entry.library == ERR_LIB_SSL {
            switch entry.reason {
            case SSL_R_PEER_DID_NOT_RETURN_A_CERTIFICATE:
                return .noPeerCertificate
            case SSL_R_UNSUPPORTED_PROTOCOL, SSL_R_NO_PROTOCOLS_AVAILABLE, SSL_R_VERSION_TOO_LOW:
                return .protocolVersion(offered: Self.versionName(SSL_client_version(ssl)))
            case SSL_R_HTTP_REQUEST:
                return .notTLS(reason: "peer sent an HTTP request")
            case SSL_R_HTTPS_PROXY_REQUEST:
                return .notTLS(reason: "peer sent an HTTP proxy (CONNECT) request")
            case SSL_R_WRONG_VERSION_NUMBER, SSL_R_UNKNOWN_PROTOCOL, SSL_R_PACKET_LENGTH_TOO_LONG,
                 SSL_R_RECORD_LENGTH_MISMATCH, SSL_R_UNEXPECTED_MESSAGE, SSL_R_UNEXPECTED_RECORD,
                 SSL_R_LENGTH_MISMATCH, SSL_R_BAD_PACKET, SSL_R_BAD_PACKET_LENGTH, SSL_R_LENGTH_TOO_SHORT,
                 SSL_R_ENCRYPTED_LENGTH_TOO_LONG, SSL_R_BAD_RECORD_TYPE, SSL_R_UNKNOWN_ALERT_TYPE:
                if handshaking { return .notTLS(reason: entry.text) }
            case SSL_R_UNEXPECTED_EOF_WHILE_READING:
                return .unexpectedEOF(duringHandshake: handshaking)
            case SSL_R_CERTIFICATE_VERIFY_FAILED:
                let code = Int32(truncatingIfNeeded: SSL_get_verify_result(ssl))
                let reason = X509_verify_cert_error_string(Int(code)).map { String(cString: $0) } ?? "error \(code)"
                return .certificateRejected(subject: "(peer)", reason: reason)
            case SSL_AD_REASON_OFFSET..<(SSL_AD_REASON_OFFSET + 256):
                return .peerAlert(Self.alertName(entry.text))
            default:
                continue
            }
        }
        return .openSSL(operation: operation, reasons: entries.map(\.text))
    }

    /// `sslv3 alert certificate revoked` → `alert certificate revoked`.
    private static func alertName(_ text: String) -> String {
        guard let range = text.firstRange(of: "alert ") else { return text }
        return "alert " + text[range.upperBound...]
    }

    static func versionName(_ version: Int32) -> String {
        switch version {
        case TLS1_3_VERSION: "TLS 1.3"
        case TLS1_2_VERSION: "TLS 1.2"
        case TLS1_1_VERSION: "TLS 1.1"
        case TLS1_VERSION: "TLS 1.0"
        case SSL3_VERSION: "SSL 3.0"
        default: "an unknown version (0x\(String(version, radix: 16)))"
        }
    }
}
