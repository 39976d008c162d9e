internal import COpenSSL

/// What a certificate file says, for tests and diagnostics (`package`: not partner API).
package struct CertificateSummary: Sendable {
    package let subject: String
    package let issuer: String
    package let serial: UInt64
    package let notBefore: String
    package let notAfter: String
    package let isCA: Bool
    /// `keyCertSign`, `cRLSign`, `digitalSignature`, as present.
    package let keyUsage: [String]
    /// `serverAuth`, `clientAuth`, as present.
    package let extendedKeyUsage: [String]
    /// `EC P-256`, or the key's type name.
    package let keyType: String

    /// Whether the certificate's subjectAltName covers `host` (a DNS name or an IP address),
    /// by OpenSSL's own matching (`X509_check_host`, `X509_check_ip_asc`).
    package let hostMatches: @Sendable (String) -> Bool

    package static func read(_ path: String) throws(PKIError) -> CertificateSummary {
        let certificate = try Certificate.load(path)
        let usage = X509_get_key_usage(certificate.pointer)
        let extended = X509_get_extended_key_usage(certificate.pointer)
        var keyUsage: [String] = []
        if usage & UInt32(KU_KEY_CERT_SIGN) != 0 { keyUsage.append("keyCertSign") }
        if usage & UInt32(KU_CRL_SIGN) != 0 { keyUsage.append("cRLSign") }
        if usage & UInt32(KU_DIGITAL_SIGNATURE) != 0 { keyUsage.append("digitalSignature") }
        var extendedKeyUsage: [String] = []
        if extended != UInt32.max {
            if extended & UInt32(XKU_SSL_SERVER) != 0 { extendedKeyUsage.append("serverAuth") }
            if extended & UInt32(XKU_SSL_CLIENT) != 0 { extendedKeyUsage.append("clientAuth") }
        }
        var keyType = "unknown"
        if let key = X509_get0_pubkey(certificate.pointer) {
            var group = [CChar](repeating: 0, count: 64)
            var length = 0
            if EVP_PKEY_get_group_name(key, &group, group.count, &length) == 1 {
                let name = String(decoding: group.prefix(length).map { UInt8(bitPattern: $0) }, as: UTF8.self)
                keyType = "EC " + (name == "prime256v1" ? "P-256" : name)
            } else if let type = EVP_PKEY_get0_type_name(key) {
                keyType = String(cString: type)
            }
        }
        let shared = SendableCertificate(certificate: certificate)
        return CertificateSummary(
            subject: certificate.subject, issuer: certificate.issuer, serial: certificate.serial,
            notBefore: certificate.notBefore, notAfter: certificate.notAfter,
            isCA: X509_check_ca(certificate.pointer) != 0, keyUsage: keyUsage, extendedKeyUsage: extendedKeyUsage,
            keyType: keyType,
            hostMatches: { host in
                if HubPKI.parseHostname(host)?.kind == .ip {
                    return X509_check_ip_asc(shared.certificate.pointer, host, 0) == 1
                }
                return X509_check_host(shared.certificate.pointer, host, host.utf8.count, 0, nil) == 1
            })
    }
}

/// A certificate that is only read after creation (OpenSSL's `X509` reads are thread-safe).
private final class SendableCertificate: @unchecked Sendable {
    let certificate: Certificate
    init(certificate: Certificate) { self.certificate = certificate }
}
