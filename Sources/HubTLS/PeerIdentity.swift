/// What a partner does; carried in its certificate's subject as `OU=<role>` (docs/PKI.md).
public enum PartnerRole: String, CaseIterable, Sendable {
    case bank, isp, cert, analyst
}

/// A verified partner, read from its client certificate after a successful handshake.
/// `fingerprint` (SHA-256 of the DER certificate) is what the audit trail records.
public struct PeerIdentity: Sendable, Equatable {
    /// The partner name: the certificate's subject CN.
    public let name: String
    /// The partner role: the certificate's subject OU.
    public let role: PartnerRole
    public let serial: UInt64
    /// SHA-256 of the DER certificate, 32 bytes.
    public let fingerprint: [UInt8]
    /// Validity end, `YYYY-MM-DDTHH:MM:SSZ`.
    public let notAfter: String

    /// An identity as the server's later stages see it; made by HubTLS from a verified
    /// certificate, and by tests of those stages directly.
    public init(name: String, role: PartnerRole, serial: UInt64, fingerprint: [UInt8], notAfter: String) {
        self.name = name
        self.role = role
        self.serial = serial
        self.fingerprint = fingerprint
        self.notAfter = notAfter
    }

    /// The fingerprint as 64 lower-case hex digits.
    public var fingerprintHex: String { Hex.encode(fingerprint) }

    /// Reads the identity from a certificate that already verified against the hub CA.
    static func read(_ certificate: Certificate) throws(TLSError) -> PeerIdentity {
        let subject = certificate.subject
        guard let name = certificate.commonName else {
            throw .badPartnerCertificate(subject: subject, reason: "no CN (partner name) in the subject")
        }
        guard PartnerName.isValid(name) else {
            throw .badPartnerCertificate(subject: subject, reason: "CN is not a valid partner name")
        }
        guard let unit = certificate.organizationalUnit, let role = PartnerRole(rawValue: unit) else {
            let roles = PartnerRole.allCases.map(\.rawValue).joined(separator: "|")
            throw .badPartnerCertificate(subject: subject, reason: "OU must be the partner role (\(roles))")
        }
        return PeerIdentity(name: name, role: role, serial: certificate.serial,
                            fingerprint: certificate.fingerprint, notAfter: certificate.notAfter)
    }
}

/// Partner names: 1–64 characters of `a–z 0–9 . _ -` (they are file names under `tls/partners/`).
enum PartnerName {
    static func isValid(_ name: String) -> Bool {
        let bytes = name.utf8
        return !bytes.isEmpty && bytes.count <= 64 && name != "." && name != ".." && bytes.allSatisfy { byte in
            (byte >= 0x61 && byte <= 0x7A) || (byte >= 0x30 && byte <= 0x39) || byte == 0x2E || byte == 0x5F || byte == 0x2D
        }
    }

    /// Names no new partner may take: `NAME.previous.crt` and `NAME.pending.crt` are the
    /// other certificate files of partner NAME (docs/PKI.md, "Renewal").
    static func isReserved(_ name: String) -> Bool {
        name.hasSuffix(".previous") || name.hasSuffix(".pending")
    }
}

enum Hex {
    static func encode(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count * 2)
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    static func isLowerHex(_ text: Substring, count: Int) -> Bool {
        text.utf8.count == count && text.utf8.allSatisfy { ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x66) }
    }
}
