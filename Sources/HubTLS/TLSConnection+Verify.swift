internal import COpenSSL

/// Per-connection state the certificate verify callback writes: the first failure, as a
/// `TLSError` that says what happened, and (server side) the verified partner's identity.
/// The connection holds it and hands OpenSSL an unretained pointer (`SSL_set_ex_data` slot 0),
/// valid for as long as the `SSL` lives because the connection owns both.
final class Verification {
    enum Side {
        case server(RevocationList)
        case client(expectedName: String)
    }

    let side: Side
    var failure: TLSError?
    var peer: PeerIdentity?

    init(side: Side) { self.side = side }

    /// OpenSSL's verify callback (`SSL_verify_cb`): finds the connection's state through the
    /// `SSL` the store context belongs to. Never throws, never traps.
    static func callback(_ preverified: Int32, _ store: OpaquePointer?) -> Int32 {
        guard let store,
              let ssl = X509_STORE_CTX_get_ex_data(store, SSL_get_ex_data_X509_STORE_CTX_idx()),
              let state = SSL_get_ex_data(OpaquePointer(ssl), 0) else { return 0 }
        let verification = Unmanaged<Verification>.fromOpaque(state).takeUnretainedValue()
        return verification.verify(preverified: preverified == 1, store: store) ? 1 : 0
    }

    private func verify(preverified: Bool, store: OpaquePointer) -> Bool {
        guard let current = X509_STORE_CTX_get_current_cert(store) else {
            record(.certificateRejected(subject: "(none)", reason: "no certificate to verify"))
            return false
        }
        let certificate = Certificate(borrowing: current)
        guard preverified else {
            record(Self.mapVerifyError(X509_STORE_CTX_get_error(store), certificate: certificate, side: side))
            return false
        }
        guard X509_STORE_CTX_get_error_depth(store) == 0, case .server(let revocations) = side else { return true }
        // The leaf verified against the hub CA: now the hub's own checks.
        let fingerprint = certificate.fingerprint
        if let revoked = revocations.revocation(serial: certificate.serial, fingerprintHex: Hex.encode(fingerprint)) {
            record(.revoked(serial: revoked.serial, partner: revoked.partner, revokedAt: revoked.revokedAtText))
            X509_STORE_CTX_set_error(store, X509_V_ERR_CERT_REVOKED)
            return false
        }
        do {
            peer = try PeerIdentity.read(certificate)
            return true
        } catch {
            record(error)
            X509_STORE_CTX_set_error(store, X509_V_ERR_APPLICATION_VERIFICATION)
            return false
        }
    }

    private func record(_ error: TLSError) {
        if failure == nil { failure = error }
    }

    /// OpenSSL's verification error as the hub's error, naming the certificate.
    static func mapVerifyError(_ code: Int32, certificate: Certificate, side: Side) -> TLSError {
        switch code {
        case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT, X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY,
             X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE, X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT,
             X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN, X509_V_ERR_CERT_SIGNATURE_FAILURE:
            return .untrustedCertificate(subject: certificate.subject, issuer: certificate.issuer)
        case X509_V_ERR_CERT_HAS_EXPIRED:
            return .expired(subject: certificate.subject, notAfter: certificate.notAfter)
        case X509_V_ERR_CERT_NOT_YET_VALID:
            return .notYetValid(subject: certificate.subject, notBefore: certificate.notBefore)
        case X509_V_ERR_HOSTNAME_MISMATCH, X509_V_ERR_IP_ADDRESS_MISMATCH:
            if case .client(let expected) = side { return .serverNameMismatch(expected: expected) }
            fallthrough
        default:
            let reason = X509_verify_cert_error_string(Int(code)).map { String(cString: $0) } ?? "verification error \(code)"
            return .certificateRejected(subject: certificate.subject, reason: reason)
        }
    }
}
