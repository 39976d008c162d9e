import FeedFormats
import Glibc
import HubClient
import HubWire
import IndicatorKit
import IndicatorStore

/// `ihub push --hub HOST:PORT --identity DIR [--format …] [--type T] [--defanged] [--strict]
/// [--upload-id HEX] [--legal-basis L] [--ref R] [--json] [--server-name NAME] FILE...`: a
/// CERT's upload over the protocol (docs/PROTOCOL.md, "Uploads"; docs/CLIENT.md).
///
/// The files are read here with the feed readers `ihub ingest` uses; every record they refuse
/// is reported with file:line and reason and never sent. The good records go to the hub as one
/// atomic upload under a random upload id (or `--upload-id`, to retry an upload whose outcome
/// is unknown); a lost connection is retried with the same id. STIX indicators marked
/// `revoked` are withdrawn after the upload. With `--strict`, any refused record — here or at
/// the hub — means nothing is stored. Exit 0 when every record was taken, 1 when some were
/// refused (or the hub refused the upload), 2 on a usage or file error, 3 when the hub could
/// not be reached.
enum PushCommand {
    static let usage = "ihub push --hub HOST:PORT --identity DIR [--format auto|list|csv|stix|misp] [--type T] "
        + "[--value-column NAME] [--defanged] [--strict] [--upload-id HEX] [--legal-basis L] [--ref R] [--json] "
        + "[--server-name NAME] FILE|MISP-FEED-DIR..."

    /// Where a record came from, to report the hub's refusals by file and line.
    struct Origin {
        var file: String
        var line: Int
        var path: String?
    }

    static func run(_ arguments: [String]) throws(UsageError) -> ExitStatus {
        let args = try Arguments(arguments, valued: ["hub", "identity", "format", "type", "value-column", "upload-id",
                                                     "legal-basis", "ref", "server-name"],
                                 booleans: ["json", "defanged", "strict"])
        let (host, port) = try QueryCommand.parseHub(try args.required("hub"))
        let identity = try args.required("identity")
        let format = try IngestCommand.parseFormat(args.value("format") ?? "auto")
        let type = try args.value("type").map { (name) throws(UsageError) in try CanonicalCommand.parseType(name) }
        var uploadID = UploadID.random()
        if let hex = args.value("upload-id") {
            guard let id = UploadID(hex: hex) else { throw UsageError("--upload-id '\(hex)' must be 32 hex digits, not all zero") }
            uploadID = id
        }
        let legalBasis = args.value("legal-basis") ?? ""
        let reference = args.value("ref") ?? ""
        guard !args.positionals.isEmpty else { throw UsageError("no feed files given (usage: \(usage))") }
        let json = args.flag("json")
        let strict = args.flag("strict")
        let defanged = args.flag("defanged")

        // 1. Read and check every file locally; nothing is sent before all of them are read.
        var checker = FeedChecker(now: Clock.unixSeconds(), defanged: defanged)
        var records: [PushRecord] = []
        var origins: [Origin] = []
        var withdrawals: [(value: String, type: IndicatorType)] = []
        var formats = Set<FeedFormat>()
        do {
            for argument in args.positionals {
                for (path, fileFormat) in try IngestCommand.feedFiles(argument, format: format) {
                    var bytes = path == "-" ? Console.readStandardInput() : try FileBytes.read(path)
                    defer { bytes.wipe() }
                    let read = try bytes.withUnsafeBufferPointer { (buffer) throws(FeedError) -> FeedFormat in
                        try checker.check(buffer, file: path, format: fileFormat, type: type,
                                          valueColumn: args.value("value-column")) { record, detected, checked in
                            if record.action == .withdraw {
                                withdrawals.append((String(decoding: checked, as: UTF8.self), detected))
                                return
                            }
                            records.append(PushRecord(type: record.type, value: Array(record.value),
                                                      fields: UploadFields(record.fields)))
                            origins.append(Origin(file: path, line: record.line, path: record.path))
                        }
                    }
                    formats.insert(read)
                }
            }
        } catch let error as UsageError {
            throw error
        } catch {
            throw UsageError(String(describing: error))
        }
        var report = Report(local: checker.report, uploadID: uploadID)
        if strict && checker.report.rejected > 0 {
            report.note = "--strict: nothing sent (\(records.count) good records were not uploaded)"
            report.print(json: json)
            return .someRefused
        }
        if records.isEmpty && withdrawals.isEmpty {
            report.note = "nothing to upload"
            report.print(json: json)
            return report.rejected > 0 ? .someRefused : .success
        }

        // 2. Upload (retried with the same id when the connection fails), then withdrawals.
        let options = HubClient.Options(serverName: args.value("server-name"))
        let connect = { () throws(ClientError) -> HubClient in
            try HubClient.connect(host: host, port: port, identityDirectory: identity, options: options)
        }
        let uploadFormat = formats.count == 1 ? UploadFormat(formats.first!) : .other
        var flags: UploadFlags = []
        if defanged { flags.insert(.defanged) }
        if strict { flags.insert(.strict) }
        do throws(ClientError) {
            if !records.isEmpty {
                let outcome = try HubClient.push(records: records, format: uploadFormat, uploadID: uploadID,
                                                 flags: flags,
                                                 legalBasis: legalBasis, reference: reference, connect: connect)
                switch outcome {
                case .answered(let result): report.add(result, origins: origins)
                case .refused(let code, let reason):
                    Console.err("ihub push: the hub refused the upload: \(code.name): \(reason)")
                    report.refusal = code.name
                }
            }
            if !withdrawals.isEmpty && report.refusal == nil {
                let client = try connect()
                defer { client.close() }
                // Values of several types: one WITHDRAW per type, each type declared.
                for kind in Set(withdrawals.map(\.type)).sorted(by: { $0.rawValue < $1.rawValue }) {
                    let values = withdrawals.filter { $0.type == kind }.map(\.value)
                    switch try client.withdraw(values: values, type: kind, reference: reference) {
                    case .answered(let result): report.withdrawn += Int(result.withdrawn)
                    case .refused(let code, let reason):
                        Console.err("ihub push: the hub refused the withdrawals: \(code.name): \(reason)")
                        report.refusal = report.refusal ?? code.name
                    }
                }
            }
        } catch {
            Console.err("ihub push: \(error.description)")
            if error.isTransient || error.isProtocolViolation {
                Console.err("ihub push: the upload's outcome is unknown; retry with --upload-id \(uploadID.hex)")
            }
            return error.exitStatus == ExitStatus.usage.rawValue ? .usage : .unreachable
        }
        report.print(json: json)
        return report.rejected > 0 || report.refusal != nil || report.discarded ? .someRefused : .success
    }

    /// What `ihub push` prints: the local refusals and the hub's answer.
    struct Report {
        var local: FeedDigester.Report
        var uploadID: UploadID
        var accepted = 0
        var duplicates = 0
        var hubRejected = 0
        var hubProblems: [FeedProblem] = []
        var uploadNumber: UInt32?
        var alreadyApplied = false
        var discarded = false
        var withdrawn = 0
        var refusal: String?
        var note: String?

        init(local: FeedDigester.Report, uploadID: UploadID) {
            self.local = local
            self.uploadID = uploadID
        }

        var rejected: Int { local.rejected + hubRejected }

        mutating func add(_ result: UploadResult, origins: [Origin]) {
            accepted = Int(result.accepted)
            duplicates = Int(result.duplicates)
            hubRejected = Int(result.rejected)
            uploadNumber = result.discarded ? nil : result.uploadNumber
            alreadyApplied = result.alreadyApplied
            discarded = result.discarded
            for rejection in result.rejections where Int(rejection.index) < origins.count {
                let origin = origins[Int(rejection.index)]
                hubProblems.append(FeedProblem(file: origin.file, line: origin.line, path: origin.path,
                                               reason: "refused by the hub: \(rejection.reason.name) (\(Self.meaning(rejection.reason)))"))
            }
            if result.rejected > result.rejections.count {
                note = "the hub refused \(result.rejected) records and listed \(result.rejections.count)"
                    + (result.alreadyApplied ? " (an earlier attempt's answer: run the files through `ihub canonical` to find them)" : "")
            }
            if result.discarded { note = "--strict: the hub refused records, so nothing was stored" }
        }

        static func meaning(_ refusal: RecordRefusal) -> String {
            switch refusal {
            case .empty: "the value is empty"
            case .tooLong: "longer than \(WireFormat.maxValueBytes) bytes"
            case .unrecognised: "looks like no indicator type"
            case .invalidValue: "not valid for its type"
            case .typeNotAllowed: "your policy does not let you list this type or category"
            case .expired: "already expired by the hub's clock"
            case .looksDefanged: "looks defanged; pass --defanged if the feed is"
            }
        }

        func print(json: Bool) {
            let problems = (local.problems + hubProblems).sorted { ($0.file, $0.line) < ($1.file, $1.line) }
            if json {
                let errors: [JSON.Value] = problems.map {
                    var fields: [(String, JSON.Value)] = [("file", .string($0.file)), ("line", .int($0.line))]
                    if let path = $0.path { fields.append(("path", .string(path))) }
                    fields.append(("reason", .string($0.reason)))
                    return .object(fields)
                }
                var fields: [(String, JSON.Value)] = [
                    ("accepted", .int(accepted)), ("duplicates", .int(duplicates)), ("rejected", .int(rejected)),
                    ("skipped", .int(local.skipped)), ("withdrawals", .int(local.withdrawals)), ("withdrawn", .int(withdrawn)),
                    ("upload_id", .string(uploadID.hex)),
                    ("upload_number", uploadNumber.map { .int(Int($0)) } ?? .null),
                    ("already_applied", .bool(alreadyApplied)), ("written", .bool(uploadNumber != nil)),
                ]
                if let refusal { fields.append(("refused", .string(refusal))) }
                fields.append(("errors", .array(errors)))
                Console.out(JSON.encode(.object(fields)))
                return
            }
            var summary = "upload \(uploadID.hex)"
            if let uploadNumber { summary += " (number \(uploadNumber))" }
            summary += ": accepted \(accepted), duplicates \(duplicates), rejected \(rejected)"
            if local.skipped > 0 { summary += ", skipped \(local.skipped)" }
            if local.withdrawals > 0 { summary += ", withdrawn \(withdrawn) of \(local.withdrawals) revoked" }
            if alreadyApplied { summary += "; already applied by an earlier attempt (the first answer's counts)" }
            Console.out(summary)
            if let note { Console.out(note) }
            for problem in problems { Console.out(problem.description) }
        }
    }
}

extension ClientError {
    var isProtocolViolation: Bool {
        if case .protocolViolation = self { return true }
        return false
    }
}

extension UploadFields {
    init(_ fields: RecordFields) {
        self.init(category: fields.category, confidence: fields.confidence, tlp: fields.tlp, action: fields.action,
                  firstSeenDay: fields.firstSeenDay, lastSeenDay: fields.lastSeenDay, expires: fields.expires)
    }
}

extension UploadFormat {
    init(_ format: FeedFormat) {
        switch format {
        case .list: self = .list
        case .csv: self = .csv
        case .stix: self = .stix
        case .misp: self = .misp
        }
    }
}
