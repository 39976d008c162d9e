import HubTLS

/// `ihub partner add|revoke|list`: the partners' client certificates, issued by the hub CA in
/// the data directory (docs/PKI.md).
enum PartnerCommand {
    static let usage = """
        ihub partner add NAME --role bank|isp|cert|analyst --data DATA_DIR --out DIR [--days N] [--json]
               ihub partner revoke NAME --data DATA_DIR [--json]
               ihub partner list --data DATA_DIR [--json]
        """

    static func run(_ arguments: [String]) throws(UsageError) -> ExitStatus {
        guard let subcommand = arguments.first else { throw UsageError("expected add, revoke or list (usage: \(usage))") }
        let rest = Array(arguments.dropFirst())
        switch subcommand {
        case "add": return try add(rest)
        case "revoke": return try revoke(rest)
        case "list": return try list(rest)
        default: throw UsageError("unknown subcommand '\(subcommand)' (usage: \(usage))")
        }
    }

    private static func add(_ arguments: [String]) throws(UsageError) -> ExitStatus {
        let args = try Arguments(arguments, valued: ["role", "data", "out", "days"], booleans: ["json"])
        let name = try onePartnerName(args)
        let roleText = try args.required("role")
        guard let role = PartnerRole(rawValue: roleText) else {
            let roles = PartnerRole.allCases.map(\.rawValue).joined(separator: ", ")
            throw UsageError("unknown --role '\(roleText)' (one of: \(roles))")
        }
        var days = HubPKI.defaultPartnerValidityDays
        if let text = args.value("days") {
            guard let value = Int(text), value > 0 else { throw UsageError("--days '\(text)' is not a positive number of days") }
            days = value
        }
        let pki = try open(try args.required("data"))
        let out = try args.required("out")
        let issued: PartnerCertificate
        do {
            issued = try pki.issuePartner(name: name, role: role, days: days, identityDirectory: out)
        } catch {
            throw UsageError(error.description)
        }
        let identity = issued.identity
        if args.flag("json") {
            Console.out(JSON.encode(.object([
                ("partner", .string(identity.name)), ("role", .string(identity.role.rawValue)),
                ("serial", .int(Int(identity.serial))), ("fingerprint", .string(identity.fingerprintHex)),
                ("not_before", .string(issued.notBefore)), ("not_after", .string(identity.notAfter)),
                ("identity", .string(out)),
            ])))
        } else {
            Console.out("issued partner \(identity.name) (role \(identity.role.rawValue))")
            Console.out("serial \(identity.serial)")
            Console.out("fingerprint sha256:\(identity.fingerprintHex)")
            Console.out("valid until \(identity.notAfter)")
            Console.out("identity in \(out): partner.key (mode 0600: give it to the partner only), partner.crt, ca.crt")
        }
        return .success
    }

    private static func revoke(_ arguments: [String]) throws(UsageError) -> ExitStatus {
        let args = try Arguments(arguments, valued: ["data"], booleans: ["json"])
        let name = try onePartnerName(args)
        let pki = try open(try args.required("data"))
        let result: (revocation: Revocation, added: Bool)
        do {
            result = try pki.revokePartner(name: name)
        } catch {
            throw UsageError(error.description)
        }
        let entry = result.revocation
        if args.flag("json") {
            Console.out(JSON.encode(.object([
                ("partner", .string(entry.partner)), ("serial", .int(Int(entry.serial))),
                ("fingerprint", .string(entry.fingerprintHex)), ("revoked_at", .string(entry.revokedAtText)),
                ("already_revoked", .bool(!result.added)),
            ])))
        } else if result.added {
            Console.out("revoked partner \(entry.partner) (serial \(entry.serial), fingerprint sha256:\(entry.fingerprintHex)) at \(entry.revokedAtText)")
            Console.out("a running hub refuses it from its next reload (SIGHUP) on every new connection")
        } else {
            Console.out("partner \(entry.partner) was already revoked (serial \(entry.serial), at \(entry.revokedAtText))")
        }
        return .success
    }

    private static func list(_ arguments: [String]) throws(UsageError) -> ExitStatus {
        let args = try Arguments(arguments, valued: ["data"], booleans: ["json"])
        guard args.positionals.isEmpty else { throw UsageError("list takes no names (usage: \(usage))") }
        let pki = try open(try args.required("data"))
        let partners: [PartnerCertificate]
        do {
            partners = try pki.partners()
        } catch {
            throw UsageError(error.description)
        }
        for partner in partners {
            let identity = partner.identity
            if args.flag("json") {
                Console.out(JSON.encode(.object([
                    ("partner", .string(identity.name)), ("role", .string(identity.role.rawValue)),
                    ("serial", .int(Int(identity.serial))), ("fingerprint", .string(identity.fingerprintHex)),
                    ("not_before", .string(partner.notBefore)), ("not_after", .string(identity.notAfter)),
                    ("revoked_at", partner.revocation.map { .string($0.revokedAtText) } ?? .null),
                ])))
            } else {
                let status = partner.revocation.map { "revoked \($0.revokedAtText)" } ?? "valid until \(identity.notAfter)"
                Console.out("\(identity.name)\t\(identity.role.rawValue)\tserial \(identity.serial)\t\(status)")
            }
        }
        return .success
    }

    private static func onePartnerName(_ args: Arguments) throws(UsageError) -> String {
        guard args.positionals.count == 1, let name = args.positionals.first else {
            throw UsageError("expected one partner name (usage: \(usage))")
        }
        return name
    }

    private static func open(_ data: String) throws(UsageError) -> HubPKI {
        do {
            return try HubPKI.open(dataDirectory: data)
        } catch {
            throw UsageError(error.description)
        }
    }
}
