internal import COpenSSL

/// Building and signing X.509 v3 certificates with the OpenSSL API (no `openssl` command).
/// The profiles (subject, extensions) are in docs/PKI.md, "Certificates".
enum CertificateIssuer {
    /// What to issue: subject entries in order (`O`, `OU`, `CN`), extensions as OpenSSL's
    /// v3 configuration strings keyed by NID, and the validity window in Unix seconds.
    struct Profile {
        var subject: [(field: String, value: String)]
        var extensions: [(nid: Int32, value: String)]
        var serial: UInt64
        var notBefore: Int64
        var notAfter: Int64
    }

    /// Issues a certificate for `subjectKey` signed by `issuerKey`; `issuer` nil means
    /// self-signed (the CA).
    static func issue(_ profile: Profile, subjectKey: PrivateKey, issuer: Certificate?,
                      issuerKey: PrivateKey) throws(PKIError) -> Certificate {
        OpenSSLErrors.clear()
        guard let x509 = X509_new() else { throw .openSSL(operation: "X509_new", reasons: OpenSSLErrors.reasons()) }
        let certificate = Certificate(owning: x509)
        try OpenSSLErrors.check(X509_set_version(x509, 2) == 1, "X509_set_version")
        try OpenSSLErrors.check(ASN1_INTEGER_set_uint64(X509_get_serialNumber(x509), profile.serial) == 1, "ASN1_INTEGER_set_uint64")
        try OpenSSLErrors.check(ASN1_TIME_set(X509_getm_notBefore(x509), time_t(profile.notBefore)) != nil, "ASN1_TIME_set(notBefore)")
        try OpenSSLErrors.check(ASN1_TIME_set(X509_getm_notAfter(x509), time_t(profile.notAfter)) != nil, "ASN1_TIME_set(notAfter)")
        try OpenSSLErrors.check(X509_set_pubkey(x509, subjectKey.pointer) == 1, "X509_set_pubkey")

        guard let name = X509_NAME_new() else { throw .openSSL(operation: "X509_NAME_new", reasons: OpenSSLErrors.reasons()) }
        defer { X509_NAME_free(name) }
        for (field, value) in profile.subject {
            let added = X509_NAME_add_entry_by_txt(name, field, MBSTRING_UTF8, value, -1, -1, 0)
            try OpenSSLErrors.check(added == 1, "X509_NAME_add_entry_by_txt(\(field))")
        }
        try OpenSSLErrors.check(X509_set_subject_name(x509, name) == 1, "X509_set_subject_name")
        let issuerName = issuer.map { X509_get_subject_name($0.pointer) } ?? name
        try OpenSSLErrors.check(X509_set_issuer_name(x509, issuerName) == 1, "X509_set_issuer_name")

        var context = X509V3_CTX()
        X509V3_set_ctx(&context, issuer?.pointer ?? x509, x509, nil, nil, 0)
        for (nid, value) in profile.extensions {
            guard let extensionPointer = X509V3_EXT_conf_nid(nil, &context, nid, value) else {
                throw .openSSL(operation: "X509V3_EXT_conf_nid(\(String(cString: OBJ_nid2sn(nid))), \(value))",
                               reasons: OpenSSLErrors.reasons())
            }
            defer { X509_EXTENSION_free(extensionPointer) }
            try OpenSSLErrors.check(X509_add_ext(x509, extensionPointer, -1) == 1, "X509_add_ext")
        }
        try OpenSSLErrors.check(X509_sign(x509, issuerKey.pointer, EVP_sha256()) > 0, "X509_sign")
        return certificate
    }

    // Extension NIDs, re-exported so callers need not import COpenSSL.
    static let basicConstraints = NID_basic_constraints
    static let keyUsage = NID_key_usage
    static let extendedKeyUsage = NID_ext_key_usage
    static let subjectKeyIdentifier = NID_subject_key_identifier
    static let authorityKeyIdentifier = NID_authority_key_identifier
    static let subjectAltName = NID_subject_alt_name
}
