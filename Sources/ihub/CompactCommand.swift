import IndicatorKit
import IndicatorStore

/// `ihub compact --data DIR [--json]`: folds the journal into a new snapshot offline
/// (docs/LIVE-UPDATES.md, "Compaction"), dropping entries expired now. Takes the data
/// directory's writer lock, so it refuses (exit 2) while a hub serves the directory — send
/// the hub `SIGUSR1` instead.
enum CompactCommand {
    static let usage = "ihub compact --data DIR [--json]"

    static func run(_ arguments: [String]) throws(UsageError) -> ExitStatus {
        let args = try Arguments(arguments, valued: ["data"], booleans: ["json"])
        guard args.positionals.isEmpty else { throw UsageError("unexpected argument '\(args.positionals[0])' (usage: \(usage))") }
        let (directory, key) = try StoreFiles.open(try args.required("data"))
        let json = args.flag("json")
        let store: LiveStore
        do {
            store = try LiveStore.open(data: directory, keyID: key.id, verification: .full)
        } catch .storeInUse(let path, let pid) {
            throw UsageError(LiveStoreError.storeInUse(lockPath: path, pid: pid).description
                + "; a serving hub compacts on SIGUSR1 (kill -USR1 PID)")
        } catch {
            throw UsageError(error.description)
        }
        defer { store.close() }
        let progress = Console.showsProgress(json: json)
        let before = store.view()
        if progress { Console.progress("compacting \(before.deltaCount) delta entries into the snapshot…") }
        let summary: LiveStore.CompactionSummary
        do {
            summary = try store.compact(now: Clock.unixSeconds())
        } catch {
            throw UsageError(error.description)
        }
        if progress { Console.endProgress() }
        if json {
            Console.out(JSON.encode(.object([
                ("entries", .int(summary.entries)), ("reports", .int(summary.reports)), ("dropped", .int(summary.dropped)),
                ("sequence", .int(Int(clamping: summary.sequence))),
            ])))
        } else {
            Console.out("compacted: \(summary.entries) entries, \(summary.reports) reports of multi-source entries, "
                + "\(summary.dropped) expired entries dropped (journal sequence \(summary.sequence))")
        }
        return .success
    }
}
