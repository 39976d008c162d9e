import Glibc

/// A certificate issued to a partner, as listed by `HubPKI.partners()`.
public struct PartnerCertificate: Sendable, Equatable {
    /// Which of the partner's recorded certificates this is (docs/PKI.md, "Renewal").
    public enum Kind: String, Sendable {
        /// `partners/NAME.crt`: the one issued last.
        case current
        /// `partners/NAME.previous.crt`: the one a renewal replaced, valid until revoked.
        case previous
        /// `partners/NAME.pending.crt`: issued by a renewal that did not finish (a crash);
        /// the next renew or revoke of the partner revokes it.
        case pending
    }

    public let identity: PeerIdentity
    /// Validity start, `YYYY-MM-DDTHH:MM:SSZ`.
    public let notBefore: String
    /// Set when the certificate is on the revocation list.
    public let revocation: Revocation?
    public let kind: Kind
    /// Validity end, Unix seconds (`identity.notAfter` is the same as text).
    public let notAfterTime: Int64

    /// Whole days left until `notAfterTime` (see `HubPKI.daysLeft`).
    public func daysLeft(now: Int64) -> Int { HubPKI.daysLeft(until: notAfterTime, now: now) }
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
        guard !PartnerName.isReserved(name) else { throw .reservedPartnerName(name) }
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
                if revoked.revocation(of: current) == nil {
                    throw .partnerExists(name: name, serial: current.serial)
                }
            }
            let (certificate, key) = try issueClientCertificate(name: name, role: role, days: days, now: now)
            try Files.writeAtomically(recorded, try certificate.pem(), mode: 0o644)
            return (certificate, key)
        }

        try writeIdentity(key: key, certificate: certificate, to: identityDirectory)
        return try Self.describe(certificate, path: partnerCertificatePath(name), revocation: nil)
    }

    /// Takes the next serial (durably, before it is used) and issues a fresh P-256 key and a
    /// partner client certificate valid for `days` from `now`. Call under the PKI lock.
    func issueClientCertificate(name: String, role: PartnerRole, days: Int, now: Int64) throws(PKIError) -> (Certificate, PrivateKey) {
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
        return (certificate, key)
    }

    /// Writes an identity directory: `partner.key` (0600), `partner.crt`, `ca.crt`.
    func writeIdentity(key: PrivateKey, certificate: Certificate, to identityDirectory: String) throws(PKIError) {
        try Self.writeKey(key, to: identityDirectory + "/partner.key")
        try Files.writeAtomically(identityDirectory + "/partner.crt", try certificate.pem(), mode: 0o644)
        try Files.writeAtomically(identityDirectory + "/ca.crt", try Files.read(caCertificatePath), mode: 0o644)
    }

    /// Every partner's recorded certificates with their revocations: for each name (sorted) the
    /// current one, then the previous one and a pending one when there are (docs/PKI.md, "Renewal").
    public func partners() throws(PKIError) -> [PartnerCertificate] {
        let revoked = try revocations()
        var result: [PartnerCertificate] = []
        for file in try Files.list(partnersDirectory) where file.hasSuffix(".crt") {
            let name = String(file.dropLast(4))
            guard PartnerName.isValid(name), !PartnerName.isReserved(name) else { continue }
            let records = try records(name)
            for (kind, certificate) in records.all {
                let path = recordPath(name, kind)
                let revocation = revoked.revocation(of: certificate)
                result.append(try Self.describe(certificate, path: path, revocation: revocation, kind: kind))
            }
        }
        return result
    }

    /// Reads and increments the serial counter (`tls/serial`). The new value is durable before
    /// the serial is used, so a serial is never issued twice. Call under the PKI lock.
    func takeSerial() throws(PKIError) -> UInt64 {
        let text = String(decoding: try Files.read(serialPath, limit: 64), as: UTF8.self)
        guard text.hasSuffix("\n"), let serial = UInt64(text.dropLast()), serial >= 3, serial < UInt64(Int64.max) else {
            throw .corrupt(path: serialPath, line: 1, reason: "expected the next serial number (decimal, at least 3)")
        }
        try Files.writeAtomically(serialPath, Array("\(serial + 1)\n".utf8), mode: 0o644)
        return serial
    }

    static func describe(_ certificate: Certificate, path: String, revocation: Revocation?,
                         kind: PartnerCertificate.Kind = .current) throws(PKIError) -> PartnerCertificate {
        let identity: PeerIdentity
        do {
            identity = try PeerIdentity.read(certificate)
        } catch {
            throw .corrupt(path: path, line: nil, reason: error.description)
        }
        guard let notAfter = Files.parseTimestamp(identity.notAfter) else {
            throw .corrupt(path: path, line: nil, reason: "notAfter '\(identity.notAfter)' is not a valid time")
        }
        return PartnerCertificate(identity: identity, notBefore: certificate.notBefore, revocation: revocation,
                                  kind: kind, notAfterTime: notAfter)
    }
}
