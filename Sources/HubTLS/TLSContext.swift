internal import COpenSSL

/// The hub's TLS server configuration: TLS 1.3 only, a client certificate issued by the hub CA
/// is required and checked against the revocation list captured when the context was made.
///
/// Immutable once made, and safe to share between threads (OpenSSL's `SSL_CTX` is, for
/// `SSL_new`). On reload the server makes a new context and swaps its reference atomically;
/// every `TLSConnection` retains the context it was made from, so established connections are
/// untouched and the next handshake sees the new revocations.
public final class TLSServerContext: @unchecked Sendable {
    let context: OpaquePointer
    let revocations: RevocationList

    /// Revoked certificates this context refuses.
    public var revokedCount: Int { revocations.entries.count }

    /// The revocation of `peer`'s certificate in this context's list (by serial or
    /// fingerprint), or nil: lets a server close sessions opened before a revocation.
    public func revocation(of peer: PeerIdentity) -> Revocation? {
        revocations.revocation(serial: peer.serial, fingerprintHex: peer.fingerprintHex)
    }

    init(certificate: Certificate, key: PrivateKey, trustedCA: Certificate, revocations: RevocationList) throws(PKIError) {
        OpenSSLErrors.clear()
        guard let context = SSL_CTX_new(TLS_server_method()) else {
            throw .openSSL(operation: "SSL_CTX_new", reasons: OpenSSLErrors.reasons())
        }
        self.context = context
        self.revocations = revocations
        try TLSContextSetup.common(context, certificate: certificate, key: key, trustedCA: trustedCA,
                                   minimum: TLS1_3_VERSION, maximum: TLS1_3_VERSION)
        // No session resumption: every connection is a full handshake, so a revocation takes
        // effect on the next connection (a resumed session would skip the certificate check).
        SSL_CTX_set_num_tickets(context, 0)
        _ = COpenSSL_SSL_CTX_set_session_cache_mode(context, Int(SSL_SESS_CACHE_OFF))
        _ = SSL_CTX_set_options(context, COpenSSL_SSL_OP_NO_TICKET() | COpenSSL_SSL_OP_CIPHER_SERVER_PREFERENCE())
        let sessionContext = Array("IndicatorHub".utf8)
        _ = SSL_CTX_set_session_id_context(context, sessionContext, UInt32(sessionContext.count))
        // The CertificateRequest names the hub CA, so a client with several identities picks ours.
        try OpenSSLErrors.check(SSL_CTX_add_client_CA(context, trustedCA.pointer) == 1, "SSL_CTX_add_client_CA")
        SSL_CTX_set_verify(context, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT) { ok, store in
            Verification.callback(ok, store)
        }
    }

    deinit { SSL_CTX_free(context) }
}

/// A partner's TLS client configuration: TLS 1.3 only, the hub's certificate must chain to the
/// identity's `ca.crt` and match the host name dialled; the partner certificate is presented.
public final class TLSClientContext: @unchecked Sendable {
    let context: OpaquePointer

    /// Loads an identity directory written by `ihub partner add`: `partner.key` (refused when
    /// others may read it), `partner.crt` and `ca.crt`.
    public convenience init(identityDirectory: String) throws(PKIError) {
        let keyPath = identityDirectory + "/partner.key"
        let key = try PrivateKey(pem: try Files.readKey(keyPath), path: keyPath)
        try self.init(trustedCA: try Certificate.load(identityDirectory + "/ca.crt"),
                      certificate: try Certificate.load(identityDirectory + "/partner.crt"), key: key)
    }

    /// For tests of the server's refusals: a client that presents no certificate
    /// (`identityDirectory` nil, trusting `caCertificatePath`) or is limited to TLS 1.2.
    package convenience init(testingCA caCertificatePath: String, identityDirectory: String?, maximumTLS12: Bool) throws(PKIError) {
        var certificate: Certificate?
        var key: PrivateKey?
        if let identityDirectory {
            let keyPath = identityDirectory + "/partner.key"
            key = try PrivateKey(pem: try Files.readKey(keyPath), path: keyPath)
            certificate = try Certificate.load(identityDirectory + "/partner.crt")
        }
        try self.init(trustedCA: try Certificate.load(caCertificatePath), certificate: certificate, key: key,
                      version: maximumTLS12 ? TLS1_2_VERSION : TLS1_3_VERSION)
    }

    init(trustedCA: Certificate, certificate: Certificate?, key: PrivateKey?, version: Int32 = TLS1_3_VERSION) throws(PKIError) {
        OpenSSLErrors.clear()
        guard let context = SSL_CTX_new(TLS_client_method()) else {
            throw .openSSL(operation: "SSL_CTX_new", reasons: OpenSSLErrors.reasons())
        }
        self.context = context
        try TLSContextSetup.common(context, certificate: certificate, key: key, trustedCA: trustedCA,
                                   minimum: version, maximum: version)
        _ = COpenSSL_SSL_CTX_set_session_cache_mode(context, Int(SSL_SESS_CACHE_OFF))
        SSL_CTX_set_verify(context, SSL_VERIFY_PEER) { ok, store in Verification.callback(ok, store) }
    }

    deinit { SSL_CTX_free(context) }
}

/// Settings both sides share.
enum TLSContextSetup {
    static func common(_ context: OpaquePointer, certificate: Certificate?, key: PrivateKey?, trustedCA: Certificate,
                       minimum: Int32, maximum: Int32) throws(PKIError) {
        try OpenSSLErrors.check(COpenSSL_SSL_CTX_set_min_proto_version(context, minimum) == 1, "SSL_CTX_set_min_proto_version")
        try OpenSSLErrors.check(COpenSSL_SSL_CTX_set_max_proto_version(context, maximum) == 1, "SSL_CTX_set_max_proto_version")
        _ = SSL_CTX_set_options(context, COpenSSL_SSL_OP_NO_RENEGOTIATION() | COpenSSL_SSL_OP_NO_COMPRESSION())
        // Non-blocking writes: a write may complete partially (the caller keeps the rest) and
        // may be retried from a different address after want-write (Swift buffers move).
        _ = COpenSSL_SSL_CTX_set_mode(context, Int(SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER))
        // The hub CA is the only trust anchor; the system's CAs are never loaded.
        guard let store = SSL_CTX_get_cert_store(context) else {
            throw .openSSL(operation: "SSL_CTX_get_cert_store", reasons: OpenSSLErrors.reasons())
        }
        try OpenSSLErrors.check(X509_STORE_add_cert(store, trustedCA.pointer) == 1, "X509_STORE_add_cert")
        SSL_CTX_set_verify_depth(context, 2)
        if let certificate, let key {
            try OpenSSLErrors.check(SSL_CTX_use_certificate(context, certificate.pointer) == 1, "SSL_CTX_use_certificate")
            try OpenSSLErrors.check(SSL_CTX_use_PrivateKey(context, key.pointer) == 1, "SSL_CTX_use_PrivateKey")
            try OpenSSLErrors.check(SSL_CTX_check_private_key(context) == 1, "SSL_CTX_check_private_key (key does not match certificate)")
        }
    }
}
