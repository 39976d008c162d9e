import HubTLS
import IndicatorKit
import IndicatorStore

/// `ihub init DATA_DIR`: a data directory with a fresh digest key, an empty store and the hub
/// CA with the hub's server certificate (docs/PKI.md).
enum InitCommand {
    static let usage = "ihub init DATA_DIR [--hostname NAME]"

    static func run(_ arguments: [String]) throws(UsageError) -> ExitStatus {
        let args = try Arguments(arguments, valued: ["hostname"], booleans: ["json"])
        guard args.positionals.count == 1, let path = args.positionals.first else {
            throw UsageError("expected one data directory (usage: \(usage))")
        }
        // The server certificate names this host besides localhost, 127.0.0.1 and ::1.
        let hostnames: [String]
        if let hostname = args.value("hostname") {
            guard HubPKI.isValidHostname(hostname) else {
                throw UsageError("--hostname '\(hostname)' is neither a DNS name nor an IP address")
            }
            hostnames = [hostname]
        } else {
            hostnames = HubPKI.machineHostname.map { [$0] } ?? []
        }
        do {
            let (directory, key) = try DataDirectory.create(at: path)
            try StoreFiles.writeEmptySnapshot(directory, key: key)
            let pki = try HubPKI.create(dataDirectory: path, hostnames: hostnames)
            let caFingerprint = try pki.caFingerprintHex()
            if args.flag("json") {
                Console.out(JSON.encode(.object([("data", .string(path)), ("key_id", .string(key.idHex)),
                                                 ("ca_fingerprint", .string(caFingerprint))])))
            } else {
                Console.out("initialised \(path)")
                Console.out("digest key id \(key.idHex) (digest.key, mode 0600: back it up; without it the store is unreadable)")
                Console.out("hub CA sha256:\(caFingerprint) (tls/ca.key, mode 0600); server certificate for "
                    + (["localhost", "127.0.0.1", "::1"] + hostnames).joined(separator: ", "))
            }
            return .success
        } catch {
            throw UsageError(String(describing: error))
        }
    }
}

/// Opening a data directory and its store, with errors as usage errors (exit 2).
enum StoreFiles {
    /// Opens the directory and reads its digest key (refused when group or others have any
    /// permission on it). With `warnings`, every other permission finding is printed on stderr
    /// (`ihub: warning: …`) and nothing more: the operator's commands warn where `ihub serve`
    /// refuses (docs/OPERATIONS.md, "Hardening").
    static func open(_ path: String, warnings: Bool = true) throws(UsageError) -> (DataDirectory, DigestKey) {
        let directory: DataDirectory
        let key: DigestKey
        do {
            directory = try DataDirectory.open(at: path)
            key = try directory.loadKey()
        } catch {
            throw UsageError(error.description)
        }
        if warnings {
            for finding in directory.permissionFindings() { Console.err("ihub: warning: " + warning(finding)) }
        }
        return (directory, key)
    }

    /// A finding as the CLI words it: what `ihub serve` would do about it is said too.
    static func warning(_ finding: PermissionFinding) -> String {
        finding.description + (finding.level == .refuse ? " (ihub serve refuses to start)" : "")
    }

    static func writeEmptySnapshot(_ directory: DataDirectory, key: DigestKey) throws(StoreError) {
        _ = try SnapshotWriter(key: key).write(to: directory.snapshotPath)
    }
}
