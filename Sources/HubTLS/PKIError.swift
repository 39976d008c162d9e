import HubPOSIX

/// Why the hub's PKI (docs/PKI.md) could not be created, read or changed. Every message names
/// the file or the partner and says what to do.
public enum PKIError: Error, Equatable, Sendable, CustomStringConvertible {
    /// `tls/ca.crt` is missing: the data directory predates the PKI or was never initialised.
    case notInitialised(dataDirectory: String)
    /// `tls/` already exists; `ihub init` never overwrites a CA.
    case alreadyInitialised(path: String)
    case badPartnerName(String)
    case badHostname(String)
    case badValidity(days: Int)
    /// A partner of that name holds a certificate that is not revoked.
    case partnerExists(name: String, serial: UInt64)
    case unknownPartner(name: String)
    /// The name ends in `.previous` or `.pending`, which name a partner's other certificate files.
    case reservedPartnerName(String)
    /// Renewal needs a current certificate that is not revoked (`revokedSerial` when it is).
    case nothingToRenew(name: String, revokedSerial: UInt64?)
    /// A renewal would replace a previous certificate that is still valid.
    case previousStillValid(name: String, serial: UInt64)
    /// `revoke --previous` of a partner that has no previous certificate.
    case noPreviousCertificate(name: String)
    /// The identity directory already holds a `partner.key`; issuing would overwrite it.
    case identityExists(path: String)
    /// A key file grants permissions to group or others.
    case keyFileMode(path: String, mode: UInt32)
    /// A file of the PKI does not have the documented format.
    case corrupt(path: String, line: Int?, reason: String)
    /// A system call failed: `open(/var/hub/tls/ca.key): permission denied`.
    case system(operation: String, path: String, errno: Int32)
    /// OpenSSL refused an operation; `reasons` is its drained error queue.
    case openSSL(operation: String, reasons: [String])

    public var description: String {
        switch self {
        case .notInitialised(let directory):
            "\(directory): no hub CA (tls/ca.crt missing; run 'ihub init' on a new directory)"
        case .alreadyInitialised(let path):
            "\(path): already exists; refusing to replace an existing hub CA"
        case .badPartnerName(let name):
            "partner name '\(name)' must be 1–64 characters of a–z, 0–9, '.', '_', '-'"
        case .badHostname(let name):
            "host name '\(name)' is neither a DNS name (letters, digits, '-', '.') nor an IP address"
        case .badValidity(let days):
            "validity of \(days) days is out of range (1–36500)"
        case .partnerExists(let name, let serial):
            "partner '\(name)' already has a valid certificate (serial \(serial)); revoke it first"
        case .unknownPartner(let name):
            "no partner named '\(name)' (see 'ihub partner list')"
        case .reservedPartnerName(let name):
            "partner name '\(name)' may not end in '.previous' or '.pending' (those name a partner's other certificate files)"
        case .nothingToRenew(let name, nil):
            "partner '\(name)' has no certificate to renew; issue one with 'ihub partner add'"
        case .nothingToRenew(let name, let serial?):
            "partner '\(name)''s certificate (serial \(serial)) is revoked, so there is nothing to renew; issue a new one with 'ihub partner add'"
        case .previousStillValid(let name, let serial):
            "partner '\(name)' still has a valid previous certificate (serial \(serial)); once the partner uses the current one, revoke it first with 'ihub partner revoke \(name) --previous'"
        case .noPreviousCertificate(let name):
            "partner '\(name)' has no previous certificate (only 'ihub partner renew' makes one)"
        case .identityExists(let path):
            "\(path) already exists; refusing to overwrite an identity (choose another --out)"
        case .keyFileMode(let path, let mode):
            "\(path): mode \(POSIX.modeText(mode)) lets group or others read a private key; chmod 600 \(path)"
        case .corrupt(let path, let line, let reason):
            line.map { "\(path):\($0): \(reason)" } ?? "\(path): \(reason)"
        case .system(let operation, let path, let code):
            "\(operation)(\(path)): \(Files.message(code))"
        case .openSSL(let operation, let reasons):
            "\(operation) failed" + (reasons.isEmpty ? "" : ": " + reasons.joined(separator: "; "))
        }
    }
}
