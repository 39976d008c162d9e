/// One revoked partner certificate.
public struct Revocation: Sendable, Equatable {
    public let serial: UInt64
    /// SHA-256 of the DER certificate, 64 lower-case hex digits.
    public let fingerprintHex: String
    /// When it was revoked, Unix seconds.
    public let revokedAt: Int64
    public let partner: String

    /// `revokedAt` as `YYYY-MM-DDTHH:MM:SSZ`.
    public var revokedAtText: String { Files.timestamp(revokedAt) }
}

/// The hub's revocation list, `tls/revoked` (docs/PKI.md, "Revocation"): a text file with a
/// version line and one TAB-separated line per revoked certificate,
/// `serial<TAB>sha256-hex<TAB>YYYY-MM-DDTHH:MM:SSZ<TAB>partner`.
/// A server context captures one list when it is made; a reload makes a new context.
public struct RevocationList: Sendable, Equatable {
    /// The first line of the file.
    static let header = "# IndicatorHub revocation list v1: serial, sha256 fingerprint, revoked at, partner"

    public private(set) var entries: [Revocation] = []
    private var bySerial: [UInt64: Int] = [:]
    private var byFingerprint: [String: Int] = [:]

    public init() {}

    /// The revocation of a certificate, matched by serial or by fingerprint.
    public func revocation(serial: UInt64, fingerprintHex: String) -> Revocation? {
        if let index = bySerial[serial] ?? byFingerprint[fingerprintHex] { return entries[index] }
        return nil
    }

    /// The entry that revokes `certificate` (by serial or fingerprint), or nil.
    func revocation(of certificate: Certificate) -> Revocation? {
        revocation(serial: certificate.serial, fingerprintHex: Hex.encode(certificate.fingerprint))
    }

    mutating func append(_ revocation: Revocation) {
        bySerial[revocation.serial] = entries.count
        byFingerprint[revocation.fingerprintHex] = entries.count
        entries.append(revocation)
    }

    /// Parses the file's bytes; `path` names the file in errors, with the line number.
    static func parse(_ bytes: [UInt8], path: String) throws(PKIError) -> RevocationList {
        var list = RevocationList()
        let lines = bytes.split(separator: 0x0A, omittingEmptySubsequences: false)
        guard let first = lines.first, String(decoding: first, as: UTF8.self) == header else {
            throw .corrupt(path: path, line: 1, reason: "expected the header line '\(header)'")
        }
        guard bytes.last == 0x0A else { throw .corrupt(path: path, line: lines.count, reason: "last line is not terminated (truncated write?)") }
        for (index, raw) in lines.enumerated().dropFirst() where !raw.isEmpty {
            let line = index + 1
            let fields = String(decoding: raw, as: UTF8.self).split(separator: "\t", omittingEmptySubsequences: false)
            guard fields.count == 4 else {
                throw .corrupt(path: path, line: line, reason: "expected 4 TAB-separated fields, found \(fields.count)")
            }
            guard let serial = UInt64(fields[0]), serial > 0 else {
                throw .corrupt(path: path, line: line, reason: "serial '\(fields[0])' is not a positive integer")
            }
            guard Hex.isLowerHex(fields[1], count: 64) else {
                throw .corrupt(path: path, line: line, reason: "fingerprint is not 64 lower-case hex digits")
            }
            guard let time = Files.parseTimestamp(String(fields[2])) else {
                throw .corrupt(path: path, line: line, reason: "time '\(fields[2])' is not YYYY-MM-DDTHH:MM:SSZ")
            }
            guard PartnerName.isValid(String(fields[3])) else {
                throw .corrupt(path: path, line: line, reason: "partner name '\(fields[3])' is not valid")
            }
            list.append(Revocation(serial: serial, fingerprintHex: String(fields[1]), revokedAt: time, partner: String(fields[3])))
        }
        return list
    }

    func encoded() -> [UInt8] {
        var text = Self.header + "\n"
        for entry in entries {
            text += "\(entry.serial)\t\(entry.fingerprintHex)\t\(Files.timestamp(entry.revokedAt))\t\(entry.partner)\n"
        }
        return Array(text.utf8)
    }
}
