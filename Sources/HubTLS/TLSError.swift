/// Why a TLS connection failed (server or client side). Hostile or broken peers produce these;
/// none of them is a reason for the server to stop serving anyone else.
public enum TLSError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The client sent no certificate although the hub requires one.
    case noPeerCertificate
    /// The certificate does not chain to the trusted CA (another CA, self-signed, bad signature).
    case untrustedCertificate(subject: String, issuer: String)
    /// The certificate's serial is on the hub's revocation list (`tls/revoked`).
    case revoked(serial: UInt64, partner: String, revokedAt: String)
    case expired(subject: String, notAfter: String)
    case notYetValid(subject: String, notBefore: String)
    /// The chain verified but the certificate is not usable as a partner identity
    /// (no CN, unknown role in the OU, not a client certificate).
    case badPartnerCertificate(subject: String, reason: String)
    /// Any other verification failure, with OpenSSL's reason (`X509_verify_cert_error_string`).
    case certificateRejected(subject: String, reason: String)
    /// Client side: the hub's certificate does not name the host we dialled.
    case serverNameMismatch(expected: String)
    /// Client side: the host name to dial is neither a DNS name nor an IP address.
    case invalidServerName(String)
    /// The peer cannot speak TLS 1.3; `offered` is the highest version it offered.
    case protocolVersion(offered: String)
    /// The bytes received are not a TLS handshake (an HTTP request, garbage).
    case notTLS(reason: String)
    /// The peer aborted with a TLS alert (e.g. the hub refused our certificate).
    case peerAlert(String)
    /// The peer closed the connection without a close_notify.
    case unexpectedEOF(duringHandshake: Bool)
    /// A socket call failed (`ECONNRESET`, `EPIPE`, …).
    case system(operation: String, errno: Int32)
    /// Any other OpenSSL failure; `reasons` is its drained error queue.
    case openSSL(operation: String, reasons: [String])
    /// The connection is not in a state that allows the call (programmer-visible, not a crash).
    case invalidState(operation: String, state: String)

    public var description: String {
        switch self {
        case .noPeerCertificate: "peer presented no certificate"
        case .untrustedCertificate(let subject, let issuer):
            "certificate not issued by this hub's CA (subject \(subject), issuer \(issuer))"
        case .revoked(let serial, let partner, let at):
            "certificate revoked (serial \(serial), partner \(partner), revoked \(at))"
        case .expired(let subject, let notAfter): "certificate expired (\(subject), not after \(notAfter))"
        case .notYetValid(let subject, let notBefore):
            "certificate not yet valid (\(subject), not before \(notBefore))"
        case .badPartnerCertificate(let subject, let reason): "certificate \(subject) is not a partner identity: \(reason)"
        case .certificateRejected(let subject, let reason): "certificate \(subject) rejected: \(reason)"
        case .serverNameMismatch(let expected): "hub certificate does not match host name '\(expected)'"
        case .invalidServerName(let name): "host name '\(name)' is neither a DNS name nor an IP address"
        case .protocolVersion(let offered): "peer offered only \(offered) (the hub requires TLS 1.3)"
        case .notTLS(let reason): "not a TLS handshake: \(reason)"
        case .peerAlert(let alert): "peer aborted the connection: \(alert)"
        case .unexpectedEOF(let handshake):
            handshake ? "peer closed the connection during the handshake" : "peer closed the connection without close_notify"
        case .system(let operation, let code): "\(operation): \(Files.message(code))"
        case .openSSL(let operation, let reasons):
            "\(operation) failed" + (reasons.isEmpty ? "" : ": " + reasons.joined(separator: "; "))
        case .invalidState(let operation, let state): "\(operation) called on a connection that is \(state)"
        }
    }
}
