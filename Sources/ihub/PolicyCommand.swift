import HubPolicy
import IndicatorKit

/// `ihub policy check POLICY_DIR [--json]`: validates a policy directory (docs/POLICY.md) and
/// prints what each partner may do; on any problem prints every one and exits 2.
enum PolicyCommand {
    static let usage = "ihub policy check POLICY_DIR [--json]"

    static func run(_ arguments: [String]) throws(UsageError) -> ExitStatus {
        let args = try Arguments(arguments, valued: [], booleans: ["json"])
        guard let subcommand = args.positionals.first else { throw UsageError("no subcommand (usage: \(usage))") }
        guard subcommand == "check" else { throw UsageError("unknown subcommand '\(subcommand)' (usage: \(usage))") }
        guard args.positionals.count == 2 else {
            throw UsageError("policy check takes one POLICY_DIR (usage: \(usage))")
        }
        let directory = args.positionals[1]
        let json = args.flag("json")
        let set: PolicySet
        do {
            set = try PolicySet.load(directory: directory)
        } catch {
            if json {
                Console.out(JSON.encode(.object([("errors", .array(error.problems.map(problemJSON)))])))
            }
            for problem in error.problems { Console.err(problem.description) }
            Console.err("ihub policy: \(error.problems.count) problem\(error.problems.count == 1 ? "" : "s") in \(directory); no policy loaded")
            return .usage
        }
        let now = Int64(Clock.unixSeconds())
        if json {
            for policy in set.policies { Console.out(JSON.encode(summaryJSON(policy, now: now))) }
        } else {
            for (index, policy) in set.policies.enumerated() {
                if index > 0 { Console.out("") }
                printSummary(policy, now: now)
            }
            Console.out("")
            Console.out("\(set.policies.count) polic\(set.policies.count == 1 ? "y" : "ies") valid in \(directory)")
        }
        return .success
    }

    /// One partner as a JSON object; field names and spellings are those of the policy file.
    static func summaryJSON(_ policy: PartnerPolicy, now: Int64) -> JSON.Value {
        var fields: [(String, JSON.Value)] = [
            ("partner", .string(policy.partner)), ("role", .string(policy.role.rawValue)),
            ("version", .int(Int(policy.version))),
            ("valid_until", policy.validUntil.map { .string(PolicyDate.timestamp($0)) } ?? .null),
            ("in_force", .bool(policy.isValid(at: now))),
        ]
        guard policy.role.mayQuery else {
            fields.append(("may_query", .bool(false)))
            return .object(fields)
        }
        let text = { (names: [String]) in JSON.Value.array(names.map(JSON.Value.string)) }
        fields += [
            ("may_query", .bool(true)),
            ("types", text(typeNames(policy))), ("categories", text(categoryNames(policy))),
            ("purposes", text(policy.purposes)), ("legal_bases", text(policy.legalBases)),
            ("required_fields", text(policy.requiredFields.sorted().map(\.rawValue))),
            ("reveal", text(policy.reveals.sorted().map(\.rawValue))),
            ("max_batch", .int(policy.maxBatch)),
            ("rate", .object([("per_second", .int(policy.rate.perSecond)), ("burst", .int(policy.rate.burst))])),
            ("daily_quota", .int(policy.dailyQuota)), ("tlp_ceiling", .string(policy.tlpCeiling.name)),
            ("priorities", text(policy.priorities.sorted().map(\.name))),
            ("upload", uploadJSON(policy.upload)),
        ]
        return .object(fields)
    }

    /// The `upload` section as JSON (null: the partner may neither upload nor withdraw).
    static func uploadJSON(_ upload: UploadPolicy?) -> JSON.Value {
        guard let upload else { return .null }
        let text = { (names: [String]) in JSON.Value.array(names.map(JSON.Value.string)) }
        let defaults = upload.defaults
        return .object([
            ("types", text(upload.types.sorted { $0.rawValue < $1.rawValue }.map(\.name))),
            ("categories", text(upload.categories.sorted { $0.rawValue < $1.rawValue }.map(\.name))),
            ("defaults", .object([("category", .string(defaults.category.name)), ("confidence", .int(Int(defaults.confidence))),
                                  ("tlp", .string(defaults.tlp.name)), ("action", .string(defaults.action.name)),
                                  ("ttl_days", .int(defaults.ttlDays))])),
            ("required_fields", text(upload.requiredFields.sorted().map(\.rawValue))),
            ("max_records", .int(upload.maxRecords)),
            ("withdraw", .bool(upload.mayWithdraw)),
        ])
    }

    /// One partner as a labelled block of rows.
    static func printSummary(_ policy: PartnerPolicy, now: Int64) {
        var validity = "no end date"
        if let validUntil = policy.validUntil {
            validity = (policy.isValid(at: now) ? "valid until " : "EXPIRED since ") + PolicyDate.timestamp(validUntil)
        }
        Console.out("\(policy.partner)  (\(policy.role.rawValue), version \(policy.version), \(validity))")
        guard policy.role.mayQuery else {
            Console.out("  may not query (role \(policy.role.rawValue))")
            return
        }
        let reveals = policy.reveals.isEmpty
            ? "match / no match only" : "match + " + policy.reveals.sorted().map(\.rawValue).joined(separator: ", ")
        let rows: [(String, String)] = [
            ("types", typeNames(policy).joined(separator: ", ")),
            ("categories", categoryNames(policy).joined(separator: ", ") + " (others answer as a miss)"),
            ("purposes", policy.purposes.joined(separator: ", ")),
            ("legal bases", policy.legalBases.joined(separator: ", ")),
            ("requires", policy.requiredFields.sorted().map(\.rawValue).joined(separator: ", ")),
            ("priorities", policy.priorities.sorted().map(\.name).joined(separator: ", ")),
            ("reveals", reveals),
            ("max batch", "\(policy.maxBatch) values"),
            ("rate", "\(policy.rate.perSecond) values/s, burst \(policy.rate.burst)"),
            ("daily quota", "\(policy.dailyQuota) values per UTC day"),
            ("TLP ceiling", "\(policy.tlpCeiling.name) (entries marked above answer as a miss)"),
        ]
        for (label, value) in rows + uploadRows(policy.upload) {
            Console.out("  " + label + String(repeating: " ", count: 13 - label.count) + value)
        }
    }

    /// What the partner may upload (docs/POLICY.md, "Uploads").
    static func uploadRows(_ upload: UploadPolicy?) -> [(String, String)] {
        guard let upload else { return [("uploads", "none (no upload section: may not upload or withdraw)")] }
        let defaults = upload.defaults
        let required = upload.requiredFields.sorted().map(\.rawValue).joined(separator: ", ")
        return [
            ("uploads", upload.types.sorted { $0.rawValue < $1.rawValue }.map(\.name).joined(separator: ", ")
                + " of " + upload.categories.sorted { $0.rawValue < $1.rawValue }.map(\.name).joined(separator: ", ")),
            ("  defaults", "category \(defaults.category.name), confidence \(defaults.confidence), TLP \(defaults.tlp.name), "
                + "action \(defaults.action.name), expires after \(defaults.ttlDays) days"),
            ("  requires", required.isEmpty ? "nothing" : required),
            ("  at most", "\(upload.maxRecords) records per upload"),
            ("  withdraw", upload.mayWithdraw ? "its own reports" : "no"),
        ]
    }

    static func problemJSON(_ problem: PolicyError) -> JSON.Value {
        var fields: [(String, JSON.Value)] = [("file", .string(problem.file))]
        if let path = problem.fieldPath { fields.append(("field", .string(path))) }
        fields.append(("reason", .string(problem.reason)))
        return .object(fields)
    }

    private static func typeNames(_ policy: PartnerPolicy) -> [String] {
        policy.types.sorted { $0.rawValue < $1.rawValue }.map(\.name)
    }

    private static func categoryNames(_ policy: PartnerPolicy) -> [String] {
        policy.categories.sorted { $0.rawValue < $1.rawValue }.map(\.name)
    }
}
