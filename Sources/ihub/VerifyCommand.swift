import IndicatorKit
import IndicatorStore

/// `ihub verify --data DIR [--json]`: the whole store read as the next open would read it,
/// changing nothing (`LiveStore.check`): the snapshot with full verification, the reports table
/// and upload index of its sequence, every journal file and the replay of its records. Exit 0
/// when it would open; 2, naming the file (and offset) and what is wrong, when it would not.
///
/// It takes no lock, so it runs beside a serving hub, an ingest or a compaction; it probes the
/// writer lock without taking it (docs/DATA-DIRECTORY.md, "Readers"). While a writer holds it, a
/// torn last journal record is the record being appended, and a read a compaction disturbed is
/// repeated (`LiveStore.CheckRetry.standard`); damage fails every read and is reported.
///
/// Permissions come first (`DataDirectory.permissionFindings`, docs/OPERATIONS.md "Hardening"):
/// a finding `ihub serve` refuses (a secret key group or others may read, a directory they may
/// write to) exits 2 naming each file, its mode and the `chmod` that fixes it (with `--json`,
/// also `{"ok": false, "permissions": […]}` on stdout); the others are reported beside the store
/// check (`warning:` lines; the `permissions` array of the JSON object).
enum VerifyCommand {
    static func run(_ arguments: [String]) throws(UsageError) -> ExitStatus {
        let args = try Arguments(arguments, valued: ["data"], booleans: ["json"])
        let path = try args.required("data")
        let findings: [PermissionFinding]
        do {
            findings = try DataDirectory.open(at: path).permissionFindings()
        } catch {
            throw UsageError(error.description)
        }
        let refused = findings.filter { $0.level == .refuse }
        if !refused.isEmpty {
            if args.flag("json") {
                Console.out(JSON.encode(.object([("ok", .bool(false)), ("permissions", permissionsJSON(findings))])))
            }
            throw UsageError("ihub serve would refuse to start: " + (refused.count == 1 ? "" : "\n  ")
                + refused.map(\.description).joined(separator: "\n  "))
        }
        let (directory, key) = try StoreFiles.open(path, warnings: false)
        let outcome = LiveStore.check(data: directory, keyID: key.id)
        let check: LiveStore.Check
        switch outcome.result {
        case .success(let result): check = result
        case .failure(let error):
            let reads = outcome.reads > 1 ? " (\(outcome.reads) reads while \(writerPhrase(outcome.writer, directory)))" : ""
            throw UsageError(error.description + reads)
        }
        let notes = notes(check, outcome, directory)
        let pid: JSON.Value = if case .held(let pid?) = outcome.writer { .int(Int(pid)) } else { .null }
        let active: JSON.Value = switch outcome.writer {
        case .free: .bool(false)
        case .held: .bool(true)
        case .unknown: .null
        }
        if args.flag("json") {
            Console.out(JSON.encode(.object([
                ("snapshot", .string(directory.snapshotPath)), ("entries", .int(check.snapshotEntries)),
                ("bytes", .int(check.snapshotBytes)), ("snapshot_sequence", .int(Int(check.snapshotSequence))),
                ("table_reports", .int(check.tableReports)), ("uploads", .int(check.uploads)),
                ("journal_files", .int(check.journalFiles)), ("journal_records", .int(check.journalRecords)),
                ("delta_entries", .int(check.deltaEntries)), ("last_sequence", .int(Int(check.lastSequence))),
                ("key_id", .string(key.idHex)), ("writer_active", active), ("writer_pid", pid),
                ("reads", .int(outcome.reads)), ("notes", .array(notes.map { .string($0) })),
                ("permissions", permissionsJSON(findings)), ("ok", .bool(true)),
            ])))
        } else {
            Console.out("\(directory.snapshotPath): ok, \(check.snapshotEntries) entries, \(check.snapshotBytes) bytes, "
                + "sequence \(check.snapshotSequence)")
            Console.out("\(directory.storeDirectory): ok, \(check.uploads) uploads, \(check.tableReports) reports of "
                + "multi-source entries; journal: \(check.journalFiles) file(s), \(check.journalRecords) records after "
                + "the snapshot (\(check.deltaEntries) delta entries), last sequence \(check.lastSequence)")
            if case .held = outcome.writer {
                Console.out("\(directory.lockPath): held by a live writer\(pidPhrase(outcome.writer)); read while it writes")
            }
            for note in notes { Console.out("note: \(note)") }
            for finding in findings { Console.out("warning: \(finding)") }
        }
        return .success
    }

    /// The permission findings as JSON: `{"path", "mode", "level", "problem", "fix"}` each.
    static func permissionsJSON(_ findings: [PermissionFinding]) -> JSON.Value {
        .array(findings.map { finding in
            .object([("path", .string(finding.path)), ("mode", .string(finding.modeText)),
                     ("level", .string(finding.level.rawValue)), ("problem", .string(finding.problem)),
                     ("fix", .string(finding.fix))])
        })
    }

    /// What the next open will do, and how the read met a live writer.
    static func notes(_ check: LiveStore.Check, _ outcome: LiveStore.CheckOutcome, _ directory: DataDirectory) -> [String] {
        var notes: [String] = []
        if case .unknown(let reason) = outcome.writer {
            notes.append("could not tell whether a writer holds \(directory.lockPath) (\(reason)); if one does, a torn "
                + "last record may be the record it is writing")
        }
        if let torn = check.tornTail {
            if case .held = outcome.writer {
                notes.append("\(torn.path): a record being written at offset \(torn.offset) (\(torn.bytes) bytes so far) "
                    + "by the live writer\(pidPhrase(outcome.writer)): an append in progress, not damage")
            } else {
                notes.append("\(torn.path): a torn last record at offset \(torn.offset) (\(torn.bytes) bytes, never "
                    + "acknowledged) is cut off at the next open")
            }
        }
        if check.ingestSkipPending { notes.append("a stopped ingest's journal step is finished at the next open") }
        if !check.leftovers.isEmpty {
            notes.append("\(check.leftovers.count) file(s) a killed writer left are removed at the next open: "
                + check.leftovers.joined(separator: ", "))
        }
        if let first = outcome.retriedFailures.first {
            notes.append("read \(outcome.reads) times: the writer changed the store during "
                + (outcome.retriedFailures.count == 1 ? "an earlier read" : "earlier reads") + " (\(first))")
        } else if outcome.reads > 1 {
            notes.append("read \(outcome.reads) times: a writer started or stopped during an earlier read")
        }
        return notes
    }

    static func pidPhrase(_ writer: WriterLockState) -> String {
        if case .held(let pid?) = writer { " (pid \(pid))" } else { "" }
    }

    static func writerPhrase(_ writer: WriterLockState, _ directory: DataDirectory) -> String {
        switch writer {
        case .free: "a writer held \(directory.lockPath) at times"
        case .held: "a writer\(pidPhrase(writer)) held \(directory.lockPath)"
        case .unknown: "a writer may have held \(directory.lockPath)"
        }
    }
}
