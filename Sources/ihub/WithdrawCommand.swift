import HubClient
import HubWire
import IndicatorKit

/// `ihub withdraw --hub HOST:PORT --identity DIR [--type T] [--ref R] [--json]
/// [--server-name NAME] VALUE...|- | --upload ID`: a CERT takes back its own reports — of the
/// values given, or of a whole earlier upload (docs/PROTOCOL.md, "Withdrawals"). Values other
/// sources also list stay listed for them; "not found" covers both "never yours" and "no longer
/// listed", on purpose. Exit 0 when done, 1 when values or the request were refused, 2 on a
/// usage error, 3 when the hub could not be reached.
enum WithdrawCommand {
    static let usage = "ihub withdraw --hub HOST:PORT --identity DIR [--type T] [--ref R] [--json] "
        + "[--server-name NAME] VALUE...|- | --upload ID"

    static func run(_ arguments: [String]) throws(UsageError) -> ExitStatus {
        let args = try Arguments(arguments, valued: ["hub", "identity", "type", "ref", "upload", "server-name"],
                                 booleans: ["json"])
        let (host, port) = try QueryCommand.parseHub(try args.required("hub"))
        let identity = try args.required("identity")
        let type = try args.value("type").map { (name) throws(UsageError) in try CanonicalCommand.parseType(name) }
        let reference = args.value("ref") ?? ""
        let json = args.flag("json")
        var uploadID: UploadID?
        if let hex = args.value("upload") {
            guard let id = UploadID(hex: hex) else { throw UsageError("--upload '\(hex)' must be 32 hex digits, not all zero") }
            guard args.positionals.isEmpty else { throw UsageError("give values or --upload, not both") }
            uploadID = id
        }
        let values = uploadID == nil ? Console.values(from: args.positionals) : []
        if uploadID == nil && values.isEmpty { throw UsageError("no values given (usage: \(usage))") }

        let outcome: WithdrawOutcome
        do {
            let client = try HubClient.connect(host: host, port: port, identityDirectory: identity,
                                               options: HubClient.Options(serverName: args.value("server-name")))
            defer { client.close() }
            if let uploadID {
                outcome = try client.withdraw(uploadID: uploadID, reference: reference)
            } else {
                outcome = try client.withdraw(values: values, type: type, reference: reference)
            }
        } catch {
            Console.err("ihub withdraw: \(error.description)")
            return error.exitStatus == ExitStatus.usage.rawValue ? .usage : .unreachable
        }
        switch outcome {
        case .refused(let code, let reason):
            Console.err("ihub withdraw: the hub refused the withdrawal: \(code.name): \(reason)")
            if json { Console.out(JSON.encode(.object([("error", .object([("code", .string(code.name)), ("reason", .string(reason))]))]))) }
            return .someRefused
        case .answered(let result):
            let errors: [JSON.Value] = result.refusals.compactMap { refusal in
                guard Int(refusal.index) < values.count else { return nil }
                return .object([("input", .string(values[Int(refusal.index)])), ("code", .string(refusal.reason.name)),
                                ("reason", .string(PushCommand.Report.meaning(refusal.reason)))])
            }
            if json {
                var fields: [(String, JSON.Value)] = [("withdrawn", .int(Int(result.withdrawn))),
                                                      ("not_found", .int(Int(result.notFound))),
                                                      ("refused", .int(result.refusals.count))]
                if let uploadID { fields.insert(("upload_id", .string(uploadID.hex)), at: 0) }
                fields.append(("errors", .array(errors)))
                Console.out(JSON.encode(.object(fields)))
            } else {
                Console.out("withdrawn \(result.withdrawn), not found \(result.notFound), refused \(result.refusals.count)"
                    + (uploadID.map { " (upload \($0.hex))" } ?? ""))
                for refusal in result.refusals where Int(refusal.index) < values.count {
                    Console.out("\(values[Int(refusal.index)]): \(refusal.reason.name) (\(PushCommand.Report.meaning(refusal.reason)))")
                }
            }
            return result.refusals.isEmpty ? .success : .someRefused
        }
    }
}
