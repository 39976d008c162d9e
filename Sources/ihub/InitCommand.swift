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

/// `ihub verify --data DIR [--json]`: the whole store read as the next open would read it,
/// changing nothing (`LiveStore.check`): the snapshot with full verification, the reports table
/// and upload index of its sequence, every journal file and the replay of its records. Exit 0
/// when it would open; 2, naming the file (and offset) and what is wrong, when it would not.
enum VerifyCommand {
    static func run(_ arguments: [String]) throws(UsageError) -> ExitStatus {
        let args = try Arguments(arguments, valued: ["data"], booleans: ["json"])
        let (directory, key) = try StoreFiles.open(try args.required("data"))
        let check: LiveStore.Check
        do {
            check = try LiveStore.check(storeDirectory: directory.storeDirectory, keyID: key.id)
        } catch {
            throw UsageError(error.description)
        }
        var notes: [String] = []
        if let torn = check.tornTail {
            notes.append("\(torn.path): a torn last record at offset \(torn.offset) (\(torn.bytes) bytes, never "
                + "acknowledged) is cut off at the next open")
        }
        if check.ingestSkipPending { notes.append("a stopped ingest's journal step is finished at the next open") }
        if !check.leftovers.isEmpty {
            notes.append("\(check.leftovers.count) file(s) a killed writer left are removed at the next open: "
                + check.leftovers.joined(separator: ", "))
        }
        if args.flag("json") {
            Console.out(JSON.encode(.object([
                ("snapshot", .string(directory.snapshotPath)), ("entries", .int(check.snapshotEntries)),
                ("bytes", .int(check.snapshotBytes)), ("snapshot_sequence", .int(Int(check.snapshotSequence))),
                ("table_reports", .int(check.tableReports)), ("uploads", .int(check.uploads)),
                ("journal_files", .int(check.journalFiles)), ("journal_records", .int(check.journalRecords)),
                ("delta_entries", .int(check.deltaEntries)), ("last_sequence", .int(Int(check.lastSequence))),
                ("key_id", .string(key.idHex)), ("notes", .array(notes.map { .string($0) })), ("ok", .bool(true)),
            ])))
        } else {
            Console.out("\(directory.snapshotPath): ok, \(check.snapshotEntries) entries, \(check.snapshotBytes) bytes, "
                + "sequence \(check.snapshotSequence)")
            Console.out("\(directory.storeDirectory): ok, \(check.uploads) uploads, \(check.tableReports) reports of "
                + "multi-source entries; journal: \(check.journalFiles) file(s), \(check.journalRecords) records after "
                + "the snapshot (\(check.deltaEntries) delta entries), last sequence \(check.lastSequence)")
            for note in notes { Console.out("note: \(note)") }
        }
        return .success
    }
}

/// Opening a data directory and its store, with errors as usage errors (exit 2).
enum StoreFiles {
    static func open(_ path: String) throws(UsageError) -> (DataDirectory, DigestKey) {
        do {
            let directory = try DataDirectory.open(at: path)
            return (directory, try directory.loadKey())
        } catch {
            throw UsageError(error.description)
        }
    }

    static func writeEmptySnapshot(_ directory: DataDirectory, key: DigestKey) throws(StoreError) {
        _ = try SnapshotWriter(key: key).write(to: directory.snapshotPath)
    }
}
