import Glibc

/// The hub's own PKI in `DATA_DIR/tls/` (docs/PKI.md): a self-signed CA, the hub's server
/// certificate, the certificates issued to partners, the revocation list and the serial counter.
///
/// ```
/// tls/               0700
///   ca.key           0600  CA private key (PKCS#8 PEM, ECDSA P-256)
///   ca.crt           0644  self-signed CA certificate, 10 years
///   server.key       0600  the hub's TLS server key
///   server.crt       0644  server certificate issued by the CA (SANs: localhost, 127.0.0.1, ::1, host)
///   serial           0644  next serial number, decimal
///   revoked          0644  revocation list (RevocationList)
///   partners/        0700
///     NAME.crt       0644  the partner's current certificate
///     NAME.previous.crt    the certificate a renewal replaced, valid until revoked
///     NAME.pending.crt     a crashed renewal's certificate (HubPKI+Renewal.swift)
///   .lock                  flock(2) target serialising issue/renew/revoke
/// ```
public struct HubPKI: Sendable {
    public let dataDirectory: String

    public var directory: String { dataDirectory + "/tls" }
    public var caKeyPath: String { directory + "/ca.key" }
    public var caCertificatePath: String { directory + "/ca.crt" }
    public var serverKeyPath: String { directory + "/server.key" }
    public var serverCertificatePath: String { directory + "/server.crt" }
    public var serialPath: String { directory + "/serial" }
    public var revokedPath: String { directory + "/revoked" }
    public var partnersDirectory: String { directory + "/partners" }
    var lockPath: String { directory + "/.lock" }

    func partnerCertificatePath(_ name: String) -> String { partnersDirectory + "/" + name + ".crt" }

    /// Validity of the CA (and of the hub's server certificate): 10 years.
    public static let caValidityDays = 3652
    /// Default validity of a partner certificate: 2 years.
    public static let defaultPartnerValidityDays = 730
    /// `notBefore` is back-dated by this much so a partner with a slow clock can connect at once.
    static let clockSkewAllowance: Int64 = 3600

    private init(dataDirectory: String) { self.dataDirectory = dataDirectory }

    /// Opens the PKI of an initialised data directory (`tls/ca.crt` must exist).
    public static func open(dataDirectory: String) throws(PKIError) -> HubPKI {
        let pki = HubPKI(dataDirectory: dataDirectory)
        guard Files.exists(pki.caCertificatePath) else { throw .notInitialised(dataDirectory: dataDirectory) }
        return pki
    }

    /// Creates the PKI in an existing data directory: CA key and certificate, the hub's server
    /// key and certificate for `localhost`, `127.0.0.1`, `::1` and `hostnames`, an empty
    /// revocation list and the serial counter. Everything is written to `tls.tmp-<pid>/` and
    /// renamed to `tls/` at the end, so a crash never leaves a half-made PKI behind.
    @discardableResult
    public static func create(dataDirectory: String, hostnames: [String], now: Int64? = nil) throws(PKIError) -> HubPKI {
        let pki = HubPKI(dataDirectory: dataDirectory)
        let names = try serverNames(hostnames)
        guard !Files.exists(pki.directory) else { throw .alreadyInitialised(path: pki.directory) }
        let now = now ?? Files.now()
        let staging = dataDirectory + "/tls.tmp-\(getpid())"
        try? removeStaging(staging)
        try Files.makeDirectory(staging, mode: 0o700, allowExisting: false)
        try Files.makeDirectory(staging + "/partners", mode: 0o700, allowExisting: false)

        let caKey = try PrivateKey.generate()
        let notBefore = now - clockSkewAllowance
        let notAfter = now + Int64(caValidityDays) * 86400
        let caName = "IndicatorHub CA " + (names.first(where: { $0.kind == .dns && $0.value != "localhost" })?.value ?? "hub")
            + " " + String(Files.timestamp(now).prefix(10))
        let ca = try CertificateIssuer.issue(.init(
            subject: [("O", "IndicatorHub"), ("CN", caName)],
            extensions: [
                (CertificateIssuer.basicConstraints, "critical,CA:TRUE,pathlen:0"),
                (CertificateIssuer.keyUsage, "critical,keyCertSign,cRLSign"),
                (CertificateIssuer.subjectKeyIdentifier, "hash"),
            ],
            serial: 1, notBefore: notBefore, notAfter: notAfter), subjectKey: caKey, issuer: nil, issuerKey: caKey)

        let serverKey = try PrivateKey.generate()
        let altNames = names.map { ($0.kind == .dns ? "DNS:" : "IP:") + $0.value }.joined(separator: ",")
        let server = try CertificateIssuer.issue(.init(
            subject: [("O", "IndicatorHub"), ("CN", names.first(where: { $0.kind == .dns && $0.value != "localhost" })?.value ?? "localhost")],
            extensions: [
                (CertificateIssuer.basicConstraints, "critical,CA:FALSE"),
                (CertificateIssuer.keyUsage, "critical,digitalSignature"),
                (CertificateIssuer.extendedKeyUsage, "serverAuth"),
                (CertificateIssuer.subjectKeyIdentifier, "hash"),
                (CertificateIssuer.authorityKeyIdentifier, "keyid:always"),
                (CertificateIssuer.subjectAltName, altNames),
            ],
            serial: 2, notBefore: notBefore, notAfter: notAfter), subjectKey: serverKey, issuer: ca, issuerKey: caKey)

        try writeKey(caKey, to: staging + "/ca.key")
        try Files.writeAtomically(staging + "/ca.crt", try ca.pem(), mode: 0o644)
        try writeKey(serverKey, to: staging + "/server.key")
        try Files.writeAtomically(staging + "/server.crt", try server.pem(), mode: 0o644)
        try Files.writeAtomically(staging + "/serial", Array("3\n".utf8), mode: 0o644)
        try Files.writeAtomically(staging + "/revoked", RevocationList().encoded(), mode: 0o644)
        try Files.syncDirectory(staging)
        guard rename(staging, pki.directory) == 0 else {
            throw .system(operation: "rename", path: pki.directory, errno: errno)
        }
        try Files.syncDirectory(dataDirectory)
        return pki
    }

    /// Writes a private key as PEM with mode 0600 from the moment the file exists.
    static func writeKey(_ key: PrivateKey, to path: String) throws(PKIError) {
        let pem = try key.pem()
        var failure: PKIError?
        pem.withUnsafeBytes { raw in
            do throws(PKIError) { try Files.writeAtomically(path, raw, mode: 0o600) } catch { failure = error }
        }
        if let failure { throw failure }
    }

    private static func removeStaging(_ path: String) throws(PKIError) {
        for name in try Files.list(path + "/partners") { unlink(path + "/partners/" + name) }
        rmdir(path + "/partners")
        for name in try Files.list(path) { unlink(path + "/" + name) }
        rmdir(path)
    }

    /// The CA certificate's SHA-256 fingerprint (hex): what an operator reads out to a partner.
    public func caFingerprintHex() throws(PKIError) -> String {
        Hex.encode(try Certificate.load(caCertificatePath).fingerprint)
    }

    /// The current revocation list.
    public func revocations() throws(PKIError) -> RevocationList {
        try RevocationList.parse(try Files.read(revokedPath, limit: 64 << 20), path: revokedPath)
    }

    /// A TLS server context built from the files as they are now: the server certificate and
    /// key, the CA as the only trust anchor, and the current revocation list. Call again (on
    /// SIGHUP) to pick up revocations; connections made from the old context keep it.
    public func serverContext() throws(PKIError) -> TLSServerContext {
        let key = try PrivateKey(pem: try Files.readKey(serverKeyPath), path: serverKeyPath)
        return try TLSServerContext(certificate: try Certificate.load(serverCertificatePath), key: key,
                                    trustedCA: try Certificate.load(caCertificatePath), revocations: try revocations())
    }

    // MARK: Host names

    struct ServerName: Equatable {
        enum Kind { case dns, ip }
        var kind: Kind
        var value: String
    }

    /// `localhost`, `127.0.0.1`, `::1` and the validated extra names, without duplicates.
    static func serverNames(_ extra: [String]) throws(PKIError) -> [ServerName] {
        var names = [ServerName(kind: .dns, value: "localhost"), ServerName(kind: .ip, value: "127.0.0.1"),
                     ServerName(kind: .ip, value: "::1")]
        for name in extra {
            guard let parsed = parseHostname(name) else { throw .badHostname(name) }
            if !names.contains(parsed) { names.append(parsed) }
        }
        return names
    }

    /// Whether `name` can go into the server certificate (a DNS name or an IP address).
    public static func isValidHostname(_ name: String) -> Bool { parseHostname(name) != nil }

    /// The machine's host name (`gethostname(2)`) when it is a valid DNS name.
    public static var machineHostname: String? {
        guard let name = Files.hostName(), let parsed = parseHostname(name), parsed.kind == .dns else { return nil }
        return parsed.value
    }

    static func parseHostname(_ name: String) -> ServerName? {
        var address = in6_addr()
        if name.contains(":") {
            return inet_pton(AF_INET6, name, &address) == 1 ? ServerName(kind: .ip, value: name) : nil
        }
        var address4 = in_addr()
        if name.utf8.allSatisfy({ ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x2E }) {
            return inet_pton(AF_INET, name, &address4) == 1 ? ServerName(kind: .ip, value: name) : nil
        }
        let lower = name.lowercased()
        guard !lower.isEmpty, lower.utf8.count <= 253 else { return nil }
        let labels = lower.split(separator: ".", omittingEmptySubsequences: false)
        for label in labels {
            guard !label.isEmpty, label.utf8.count <= 63, label.first != "-", label.last != "-",
                  label.utf8.allSatisfy({ ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x2D }) else { return nil }
        }
        return ServerName(kind: .dns, value: lower)
    }
}
