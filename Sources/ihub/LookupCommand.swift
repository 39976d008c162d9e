import IndicatorKit
import IndicatorStore

/// `ihub lookup --data DIR [--type T] [--json] [--no-verify] VALUE...|-`: the operator's
/// local lookup. Shows everything the store knows about a hit (partners see only what their
/// policy allows; that filtering happens in the server).
enum LookupCommand {
    static let usage = "ihub lookup --data DIR [--type T] [--json] [--no-verify] VALUE...|-"

    static func run(_ arguments: [String]) throws(UsageError) -> ExitStatus {
        let args = try Arguments(arguments, valued: ["data", "type"], booleans: ["json", "no-verify"])
        let (directory, key) = try StoreFiles.open(try args.required("data"))
        let type = try args.value("type").map { (name) throws(UsageError) in try CanonicalCommand.parseType(name) }
        let values = Console.values(from: args.positionals)
        guard !values.isEmpty else { throw UsageError("no values given (usage: \(usage))") }
        let verification: Snapshot.Verification = args.flag("no-verify") ? .header : .full
        let results: [MatchResult]
        do {
            results = try Matcher(state: try liveState(directory, key: key, verification: verification), key: key)
                .match(values, type: type, now: Clock.unixSeconds())
        } catch {
            throw UsageError(String(describing: error))
        }
        var refused = 0
        var rows: [[String]] = []
        for (value, result) in zip(values, results) {
            if case .refused = result { refused += 1 }
            if args.flag("json") {
                Console.out(JSON.encode(.object(jsonFields(value, result))))
            } else {
                rows.append(row(value, result))
            }
        }
        if !args.flag("json") { Table.print(header: ["INPUT", "TYPE", "RESULT", "DETAILS"], rows: rows) }
        return refused > 0 ? .someRefused : .success
    }

    /// The store as a hub would answer: the snapshot and the journal replayed on top (the live
    /// store, opened under the writer lock and closed again). While a hub serves the directory
    /// (the lock is held), the snapshot alone, with a note: uploads since its last compaction
    /// are not seen (ask the hub with `ihub query`).
    static func liveState(_ directory: DataDirectory, key: DigestKey, verification: Snapshot.Verification) throws -> LiveState {
        do {
            let store = try LiveStore.open(data: directory, keyID: key.id, verification: verification)
            defer { store.close() }
            return store.view()
        } catch .storeInUse {
            Console.err("ihub lookup: a hub is serving \(directory.path): answering from its snapshot alone "
                + "(uploads since the last compaction are not seen; 'ihub query' asks the hub)")
            return LiveState(snapshot: try Snapshot.open(directory.snapshotPath, key: key, verification: verification))
        }
    }

    static func jsonFields(_ input: String, _ result: MatchResult) -> [(String, JSON.Value)] {
        switch result {
        case .refused(let error):
            return [("input", .string(input)),
                    ("error", .object([("code", .string(error.code)), ("reason", .string(error.description))]))]
        case .miss(let type):
            return [("input", .string(input)), ("type", .string(type.name)), ("match", .bool(false))]
        case .hit(let type, let metadata, let kind):
            var fields: [(String, JSON.Value)] = [
                ("input", .string(input)), ("type", .string(type.name)), ("match", .bool(true)),
                ("matched", .string(kindName(kind))),
                ("category", .string(metadata.category.name)), ("confidence", .int(Int(metadata.confidence))),
                ("tlp", .string(metadata.tlp.name)), ("action", .string(metadata.action.name)),
            ]
            if case .network(let length) = kind { fields.append(("prefix_length", .int(Int(length)))) }
            if case .parent(let levels) = kind { fields.append(("levels_above", .int(Int(levels)))) }
            if metadata.firstSeenDay != 0 { fields.append(("first_seen", .string(Clock.date(day: metadata.firstSeenDay)))) }
            if metadata.lastSeenDay != 0 { fields.append(("last_seen", .string(Clock.date(day: metadata.lastSeenDay)))) }
            if metadata.expires != 0 { fields.append(("expires", .string(Clock.timestamp(metadata.expires)))) }
            return fields
        }
    }

    static func row(_ input: String, _ result: MatchResult) -> [String] {
        switch result {
        case .refused(let error): return [input, "-", "refused", error.description]
        case .miss(let type): return [input, type.name, "miss", ""]
        case .hit(let type, let metadata, let kind):
            var details = "\(metadata.category.name), confidence \(metadata.confidence), TLP:\(metadata.tlp.name.uppercased()), \(metadata.action.name)"
            switch kind {
            case .exact: break
            case .network(let length): details += "; inside a listed /\(length) network"
            case .parent(let levels): details += "; \(levels) level\(levels == 1 ? "" : "s") below a listed domain"
            case .urlExpression: details += "; covered by a listed host/path prefix"
            }
            if metadata.expires != 0 { details += "; expires \(Clock.timestamp(metadata.expires))" }
            return [input, type.name, "HIT", details]
        }
    }

    static func kindName(_ kind: MatchKind) -> String {
        switch kind {
        case .exact: "exact"
        case .network: "network"
        case .parent: "parent"
        case .urlExpression: "url_expression"
        }
    }
}
