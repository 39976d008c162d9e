import Glibc

/// A certificate issued to a partner, as listed by `HubPKI.partners()`.
public struct PartnerCertificate: Sendable, Equatable {
    public let identity: PeerIdentity
    /// Validity start, `YYYY-MM-DDTHH:MM:SSZ`.
    public let notBefore: String
    /// Set when the certificate is on the revocation list.
    public let revocation: Revocation?
}

extension HubPKI {
    /// Issues a partner identity: a fresh P-256 key (generated in memory) and a client
    /// certificate (`O=IndicatorHub, OU=<role>, CN=<name>`, extendedKeyUsage clientAuth) valid
    /// for `days`. The certificate is recorded as `tls/partners/NAME.crt` first, then the
    /// identity directory gets `partner.key` (0600), `partner.crt` and `ca.crt`, so a crash can
    /// leave a recorded (revocable) certificate without a key, never a key the hub cannot revoke.
    ///
    /// Refuses when `name` is invalid, when a partner of that name holds a certificate that is
    /// not revoked, or when `identityDirectory` already holds a `partner.key`.
    public func issuePartner(name: String, role: PartnerRole, days: Int = HubPKI.defaultPartnerValidityDays,
                             identityDirectory: String, now: Int64? = nil) throws(PKIError) -> PartnerCertificate {
        guard PartnerName.isValid(name) else { throw .badPartnerName(name) }
        guard (1...36500).contains(days) else { throw .badValidity(days: days) }
        let keyPath = identityDirectory + "/partner.key"
        guard !Files.exists(keyPath) else { throw .identityExists(path: keyPath) }
        try Files.makeDirectory(identityDirectory, mode: 0o700, allowExisting: true)
        let now = now ?? Files.now()

        let (certificate, key) = try Files.withLock(lockPath) { () throws(PKIError) -> (Certificate, PrivateKey) in
            let revoked = try revocations()
            let recorded = partnerCertificatePath(name)
            if Files.exists(recorded) {
                let current = try Certificate.load(recorded)
                if revoked.revocation(serial: current.serial, fingerprintHex: Hex.encode(current.fingerprint)) == nil {
                    throw .partnerExists(name: name, serial: current.serial)
                }
            }
            let caKey = try PrivateKey(pem: try Files.readKey(caKeyPath), path: caKeyPath)
            let ca = try Certificate.load(caCertificatePath)
            let serial = try takeSerial()
            let key = try PrivateKey.generate()
            let certificate = try CertificateIssuer.issue(.init(
                subject: [("O", "IndicatorHub"), ("OU", role.rawValue), ("CN", name)],
                extensions: [
                    (CertificateIssuer.basicConstraints, "critical,CA:FALSE"),
                    (CertificateIssuer.keyUsage, "critical,digitalSignature"),
                    (CertificateIssuer.extendedKeyUsage, "clientAuth"),
                    (CertificateIssuer.subjectKeyIdentifier, "hash"),
                    (CertificateIssuer.authorityKeyIdentifier, "keyid:always"),
                ],
                serial: serial, notBefore: now - Self.clockSkewAllowance, notAfter: now + Int64(days) * 86400),
                subjectKey: key, issuer: ca, issuerKey: caKey)
            try Files.writeAtomically(recorded, try certificate.pem(), mode: 0o644)
            return (certificate, key)
        }

        try Self.writeKey(key, to: keyPath)
        try Files.writeAtomically(identityDirectory + "/partner.crt", try certificate.pem(), mode: 0o644)
        try Files.writeAtomically(identityDirectory + "/ca.crt", try Files.read(caCertificatePath), mode: 0o644)
        return try Self.describe(certificate, path: partnerCertificatePath(name), revocation: nil)
    }

    /// Adds the partner's current certificate to the revocation list. Idempotent: revoking a
    /// revoked partner returns the existing entry with `added == false`. Servers see it in the
    /// next context they make (`serverContext()`), so it applies from the next handshake.
    public func revokePartner(name: String, now: Int64? = nil) throws(PKIError) -> (revocation: Revocation, added: Bool) {
        guard PartnerName.isValid(name) else { throw .badPartnerName(name) }
        return try Files.withLock(lockPath) { () throws(PKIError) -> (Revocation, Bool) in
            let recorded = partnerCertificatePath(name)
            guard Files.exists(recorded) else { throw .unknownPartner(name: name) }
            let certificate = try Certificate.load(recorded)
            let fingerprint = Hex.encode(certificate.fingerprint)
            var list = try revocations()
            if let existing = list.revocation(serial: certificate.serial, fingerprintHex: fingerprint) {
                return (existing, false)
            }
            let entry = Revocation(serial: certificate.serial, fingerprintHex: fingerprint,
                                   revokedAt: now ?? Files.now(), partner: name)
            list.append(entry)
            try Files.writeAtomically(revokedPath, list.encoded(), mode: 0o644)
            return (entry, true)
        }
    }

    /// Every partner's current certificate, by name, with its revocation if any.
    public func partners() throws(PKIError) -> [PartnerCertificate] {
        let revoked = try revocations()
        var result: [PartnerCertificate] = []
        for file in try Files.list(partnersDirectory) where file.hasSuffix(".crt") {
            let name = String(file.dropLast(4))
            guard PartnerName.isValid(name) else { continue }
            let path = partnerCertificatePath(name)
            let certificate = try Certificate.load(path)
            let revocation = revoked.revocation(serial: certificate.serial, fingerprintHex: Hex.encode(certificate.fingerprint))
            result.append(try Self.describe(certificate, path: path, revocation: revocation))
        }
        return result
    }

    /// Reads and increments the serial counter (`tls/serial`). The new value is durable before
    /// the serial is used, so a serial is never issued twice. Call under the PKI lock.
    private func takeSerial() throws(PKIError) -> UInt64 {
        let text = String(decoding: try Files.read(serialPath, limit: 64), as: UTF8.self)
        guard text.hasSuffix("\n"), let serial = UInt64(text.dropLast()), serial >= 3, serial < UInt64(Int64.max) else {
            throw .corrupt(path: serialPath, line: 1, reason: "expected the next serial number (decimal, at least 3)")
        }
        try Files.writeAtomically(serialPath, Array("\(serial + 1)\n".utf8), mode: 0o644)
        return serial
    }

    private static func describe(_ certificate: Certificate, path: String, revocation: Revocation?) throws(PKIError) -> PartnerCertificate {
        do {
            return PartnerCertificate(identity: try PeerIdentity.read(certificate), notBefore: certificate.notBefore,
                                      revocation: revocation)
        } catch {
            throw .corrupt(path: path, line: nil, reason: error.description)
        }
    }
}
