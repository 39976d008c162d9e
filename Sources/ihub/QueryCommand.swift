import Glibc
import HubClient
import HubWire
import IndicatorKit

/// `ihub query --hub HOST:PORT --identity DIR --purpose P --legal-basis L --ref R
/// [--priority routine|urgent|critical] [--time-zone TZ] [--type T] [--json] [--batch N]
/// [--server-name NAME] VALUE...|-`: the partner's question to a hub, over mutual TLS
/// (docs/CLIENT.md). Prints one row (or one JSON line) per value in input order; exits 0 when
/// every value was answered, 1 when some were refused, 2 on a usage or configuration error,
/// 3 when the hub could not be reached or refused the connection (PRODUCT.md).
enum QueryCommand {
    static let usage = "ihub query --hub HOST:PORT --identity DIR --purpose P --legal-basis L --ref R "
        + "[--priority routine|urgent|critical] [--time-zone TZ] [--type T] [--json] [--batch N] "
        + "[--server-name NAME] VALUE...|-"

    static func run(_ arguments: [String]) throws(UsageError) -> ExitStatus {
        let args = try Arguments(arguments, valued: ["hub", "identity", "purpose", "legal-basis", "ref", "priority",
                                                     "time-zone", "type", "batch", "server-name"],
                                 booleans: ["json"])
        let (host, port) = try parseHub(try args.required("hub"))
        let identity = try args.required("identity")
        var priority = RequestPriority.routine
        if let name = args.value("priority") {
            guard let parsed = RequestPriority(name: name) else {
                throw UsageError("unknown --priority '\(name)' (one of: routine, urgent, critical)")
            }
            priority = parsed
        }
        let fields = RequestFields(purpose: try args.required("purpose"), legalBasis: try args.required("legal-basis"),
                                   reference: try args.required("ref"), priority: priority,
                                   timeZone: args.value("time-zone") ?? MachineTimeZone.current())
        do { try fields.validate() } catch { throw UsageError(error.description) }
        let type = try args.value("type").map { (name) throws(UsageError) in try CanonicalCommand.parseType(name) }
        var batchSize: Int?
        if let text = args.value("batch") {
            guard let size = Int(text), size >= 1 else { throw UsageError("--batch must be a positive integer (got '\(text)')") }
            batchSize = size
        }
        let values = Console.values(from: args.positionals)
        guard !values.isEmpty else { throw UsageError("no values given (usage: \(usage))") }

        let answers: [Answer]
        do {
            let client = try HubClient.connect(host: host, port: port, identityDirectory: identity,
                                               options: HubClient.Options(serverName: args.value("server-name")))
            defer { client.close() }
            answers = try client.query(values: values, type: type, fields: fields, batchSize: batchSize)
        } catch {
            Console.err("ihub query: \(error.description)")
            return error.exitStatus == ExitStatus.usage.rawValue ? .usage : .unreachable
        }
        reportRefusedBatches(answers)
        let json = args.flag("json")
        var rows: [[String]] = []
        for (value, answer) in zip(values, answers) {
            if json {
                Console.out(JSON.encode(.object(jsonFields(value, type: type, answer))))
            } else {
                rows.append(row(value, type: type, answer))
            }
        }
        if !json { Table.print(header: ["INPUT", "TYPE", "RESULT", "DETAILS"], rows: rows) }
        return answers.allSatisfy(\.isAnswered) ? .success : .someRefused
    }

    /// `HOST:PORT` or `[IPv6]:PORT`.
    static func parseHub(_ text: String) throws(UsageError) -> (String, UInt16) {
        var host: Substring
        var portText: Substring
        if text.hasPrefix("["), let close = text.firstIndex(of: "]") {
            host = text[text.index(after: text.startIndex)..<close]
            let rest = text[text.index(after: close)...]
            guard rest.hasPrefix(":") else { throw UsageError("--hub '\(text)': expected [IPv6]:PORT") }
            portText = rest.dropFirst()
        } else {
            guard let colon = text.lastIndex(of: ":") else { throw UsageError("--hub '\(text)': expected HOST:PORT") }
            host = text[..<colon]
            portText = text[text.index(after: colon)...]
        }
        guard !host.isEmpty, let port = UInt16(portText), port > 0 else {
            throw UsageError("--hub '\(text)': expected HOST:PORT with a port 1–65535")
        }
        return (String(host), port)
    }

    /// One stderr line per distinct batch refusal: the hub's code and reason, and how many
    /// values it cost.
    static func reportRefusedBatches(_ answers: [Answer]) {
        var seen: [(code: ErrorCode, reason: String, count: Int)] = []
        for case .batchRefused(let code, let reason) in answers {
            if let index = seen.firstIndex(where: { $0.code == code && $0.reason == reason }) {
                seen[index].count += 1
            } else {
                seen.append((code, reason, 1))
            }
        }
        for refusal in seen {
            Console.err("ihub query: the hub refused \(refusal.count) value\(refusal.count == 1 ? "" : "s"): "
                + "\(refusal.code.name): \(refusal.reason)")
        }
    }

    /// The value's type: the one given, else what the local canonicaliser detects (RESULT
    /// entries do not carry it); nil when the value is no indicator here either.
    static func displayType(_ value: String, type: IndicatorType?) -> IndicatorType? {
        if let type { return type }
        return try? Canonicalizer.canonical(value, as: nil).form.type
    }

    /// Why a value was refused: the canonicaliser's precise reason when it agrees with the
    /// hub, else the meaning of the hub's code.
    static func refusalReason(_ value: String, type: IndicatorType?, _ refusal: ValueRefusal) -> String {
        if refusal != .typeNotAllowed {
            do { _ = try Canonicalizer.canonical(value, as: type) } catch { return error.description }
        }
        switch refusal {
        case .empty: return "the value is empty"
        case .tooLong: return "the value is longer than \(WireFormat.maxValueBytes) bytes"
        case .unrecognised: return "the value looks like no indicator type"
        case .invalidValue: return "the value is not valid for its type"
        case .typeNotAllowed: return "your policy does not allow this indicator type"
        }
    }

    static func jsonFields(_ input: String, type: IndicatorType?, _ answer: Answer) -> [(String, JSON.Value)] {
        func error(_ code: String, _ reason: String) -> [(String, JSON.Value)] {
            [("input", .string(input)), ("error", .object([("code", .string(code)), ("reason", .string(reason))]))]
        }
        var fields: [(String, JSON.Value)] = [("input", .string(input))]
        if let shown = displayType(input, type: type) { fields.append(("type", .string(shown.name))) }
        switch answer {
        case .miss:
            fields.append(("match", .bool(false)))
        case .hit(let revealed):
            fields.append(("match", .bool(true)))
            if let category = revealed.category { fields.append(("category", .string(category.name))) }
            if let confidence = revealed.confidence { fields.append(("confidence", .int(Int(confidence)))) }
            if let expires = revealed.expires, expires != 0 { fields.append(("expires", .string(Clock.timestamp(expires)))) }
            if let action = revealed.action { fields.append(("action", .string(action.name))) }
        case .refused(let refusal):
            return error(refusal.name, refusalReason(input, type: type, refusal))
        case .batchRefused(let code, let reason):
            return error(code.name, reason)
        }
        return fields
    }

    static func row(_ input: String, type: IndicatorType?, _ answer: Answer) -> [String] {
        let shown = displayType(input, type: type)?.name ?? "-"
        switch answer {
        case .miss: return [input, shown, "miss", ""]
        case .hit(let revealed):
            var details: [String] = []
            if let category = revealed.category { details.append(category.name) }
            if let confidence = revealed.confidence { details.append("confidence \(confidence)") }
            if let action = revealed.action { details.append(action.name) }
            if let expires = revealed.expires, expires != 0 { details.append("expires \(Clock.timestamp(expires))") }
            return [input, shown, "HIT", details.joined(separator: ", ")]
        case .refused(let refusal):
            return [input, shown, "refused", "\(refusal.name): \(refusalReason(input, type: type, refusal))"]
        case .batchRefused(let code, let reason):
            return [input, shown, "refused", "batch refused: \(code.name): \(reason)"]
        }
    }
}

/// The machine's time zone for the request form: `TZ`, else `/etc/timezone`, else the
/// `/etc/localtime` link's zone name, else `+00:00` — whichever first is a name the protocol
/// accepts (an IANA-style name or a `±HH:MM` offset).
enum MachineTimeZone {
    static func current() -> String {
        var candidates: [String] = []
        if let tz = getenv("TZ") {
            var name = String(cString: tz)
            if name.hasPrefix(":") { name.removeFirst() }
            candidates.append(name)
        }
        if let text = readSmallFile("/etc/timezone"),
           let line = text.split(separator: "\n").first {
            candidates.append(String(line.filter { $0 != " " && $0 != "\t" && $0 != "\r" }))
        }
        var target = [CChar](repeating: 0, count: 4096)
        let length = readlink("/etc/localtime", &target, target.count - 1)
        if length > 0 {
            let path = String(decoding: target[0..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self)
            if let range = path.range(of: "zoneinfo/") { candidates.append(String(path[range.upperBound...])) }
        }
        for candidate in candidates where !candidate.isEmpty && isAcceptable(candidate) {
            return candidate == "Etc/UTC" ? "UTC" : candidate
        }
        return "+00:00"
    }

    static func isAcceptable(_ zone: String) -> Bool {
        (try? RequestFields(purpose: "p", legalBasis: "l", reference: "r", timeZone: zone).validate()) != nil
    }

    private static func readSmallFile(_ path: String) -> String? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var buffer = [UInt8](repeating: 0, count: 256)
        let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        return count > 0 ? String(decoding: buffer[0..<count], as: UTF8.self) : nil
    }
}
