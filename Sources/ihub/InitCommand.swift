import IndicatorKit
import IndicatorStore

/// `ihub init DATA_DIR`: a data directory with a fresh digest key and an empty store.
enum InitCommand {
    static let usage = "ihub init DATA_DIR"

    static func run(_ arguments: [String]) throws(UsageError) -> ExitStatus {
        let args = try Arguments(arguments, valued: [], booleans: ["json"])
        guard args.positionals.count == 1, let path = args.positionals.first else {
            throw UsageError("expected one data directory (usage: \(usage))")
        }
        do {
            let (directory, key) = try DataDirectory.create(at: path)
            try StoreFiles.writeEmptySnapshot(directory, key: key)
            if args.flag("json") {
                Console.out(JSON.encode(.object([("data", .string(path)), ("key_id", .string(key.idHex))])))
            } else {
                Console.out("initialised \(path)")
                Console.out("digest key id \(key.idHex) (digest.key, mode 0600: back it up; without it the store is unreadable)")
            }
            return .success
        } catch {
            throw UsageError(String(describing: error))
        }
    }
}

/// `ihub verify --data DIR`: the store opened with full verification.
enum VerifyCommand {
    static func run(_ arguments: [String]) throws(UsageError) -> ExitStatus {
        let args = try Arguments(arguments, valued: ["data"], booleans: ["json"])
        let (directory, key) = try StoreFiles.open(try args.required("data"))
        do {
            let snapshot = try Snapshot.open(directory.snapshotPath, key: key, verification: .full)
            let summary: [(String, JSON.Value)] = [
                ("snapshot", .string(directory.snapshotPath)), ("entries", .int(snapshot.entryCount)),
                ("bytes", .int(snapshot.byteCount)), ("key_id", .string(key.idHex)), ("ok", .bool(true)),
            ]
            if args.flag("json") {
                Console.out(JSON.encode(.object(summary)))
            } else {
                Console.out("\(directory.snapshotPath): ok, \(snapshot.entryCount) entries, \(snapshot.byteCount) bytes")
            }
            return .success
        } catch {
            throw UsageError(error.description)
        }
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
