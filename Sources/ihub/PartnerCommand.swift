import HubTLS

/// `ihub partner add|renew|revoke|list`: the partners' client certificates, issued by the hub
/// CA in the data directory (docs/PKI.md; renewal without downtime in "Renewal").
enum PartnerCommand {
    static let usage = """
        ihub partner add NAME --role bank|isp|cert|analyst --data DATA_DIR --out DIR [--days N] [--json]
               ihub partner renew NAME --data DATA_DIR --out DIR [--days N] [--json]
               ihub partner revoke NAME [--previous] --data DATA_DIR [--json]
               ihub partner list --data DATA_DIR [--json]
        """

    static func run(_ arguments: [String]) throws(UsageError) -> ExitStatus {
        guard let subcommand = arguments.first else { throw UsageError("expected add, renew, revoke or list (usage: \(usage))") }
        let rest = Array(arguments.dropFirst())
        switch subcommand {
        case "add": return try add(rest)
        case "renew": return try renew(rest)
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
        let days = try validityDays(args)
        let pki = try open(try args.required("data"))
        let out = try args.required("out")
        let issued: PartnerCertificate
        do {
            issued = try pki.issuePartner(name: name, role: role, days: days, identityDirectory: out)
        } catch {
            throw UsageError(error.description)
        }
        if args.flag("json") {
            Console.out(JSON.encode(.object(issuedFields(issued, identityDirectory: out))))
        } else {
            printIssued("issued", issued, identityDirectory: out)
        }
        return .success
    }

    /// A newly issued certificate (`add`, `renew`) as JSON fields.
    private static func issuedFields(_ issued: PartnerCertificate, identityDirectory: String) -> [(String, JSON.Value)] {
        let identity = issued.identity
        return [
            ("partner", .string(identity.name)), ("role", .string(identity.role.rawValue)),
            ("serial", .int(Int(identity.serial))), ("fingerprint", .string(identity.fingerprintHex)),
            ("not_before", .string(issued.notBefore)), ("not_after", .string(identity.notAfter)),
            ("identity", .string(identityDirectory)),
        ]
    }

    /// A newly issued certificate (`add`, `renew`) as lines: "VERB partner NAME (role R)", its
    /// serial, fingerprint, expiry and the identity directory's files.
    private static func printIssued(_ verb: String, _ issued: PartnerCertificate, identityDirectory: String) {
        let identity = issued.identity
        Console.out("\(verb) partner \(identity.name) (role \(identity.role.rawValue))")
        Console.out("serial \(identity.serial)")
        Console.out("fingerprint sha256:\(identity.fingerprintHex)")
        Console.out("valid until \(identity.notAfter)")
        Console.out("identity in \(identityDirectory): partner.key (mode 0600: give it to the partner only), partner.crt, ca.crt")
    }

    private static func renew(_ arguments: [String]) throws(UsageError) -> ExitStatus {
        let args = try Arguments(arguments, valued: ["data", "out", "days"], booleans: ["json"])
        let name = try onePartnerName(args)
        let days = try validityDays(args)
        let pki = try open(try args.required("data"))
        let out = try args.required("out")
        let renewal: PartnerRenewal
        do {
            renewal = try pki.renewPartner(name: name, days: days, identityDirectory: out)
        } catch {
            throw UsageError(error.description)
        }
        let new = renewal.current.identity
        let old = renewal.previous.identity
        if args.flag("json") {
            Console.out(JSON.encode(.object(issuedFields(renewal.current, identityDirectory: out) + [
                ("previous", .object([
                    ("serial", .int(Int(old.serial))), ("fingerprint", .string(old.fingerprintHex)),
                    ("not_after", .string(old.notAfter)),
                ])),
                ("abandoned_revoked", .array(renewal.abandoned.map { .int(Int($0.revocation.serial)) })),
            ])))
        } else {
            for entry in renewal.abandoned {
                Console.out("revoked serial \(entry.revocation.serial), left pending by an interrupted renewal")
            }
            printIssued("renewed", renewal.current, identityDirectory: out)
            Console.out("the previous certificate (serial \(old.serial), valid until \(old.notAfter)) stays valid;"
                + " once the partner uses the new identity: ihub partner revoke \(new.name) --previous --data DATA_DIR")
        }
        return .success
    }

    private static func revoke(_ arguments: [String]) throws(UsageError) -> ExitStatus {
        let args = try Arguments(arguments, valued: ["data"], booleans: ["json", "previous"])
        let name = try onePartnerName(args)
        let pki = try open(try args.required("data"))
        let results: [PartnerRevocation]
        do {
            results = args.flag("previous")
                ? [try pki.revokePreviousPartnerCertificate(name: name)]
                : try pki.revokePartnerCertificates(name: name)
        } catch {
            throw UsageError(error.description)
        }
        for result in results {
            let entry = result.revocation
            if args.flag("json") {
                Console.out(JSON.encode(.object([
                    ("partner", .string(entry.partner)), ("certificate", .string(result.kind.rawValue)),
                    ("serial", .int(Int(entry.serial))),
                    ("fingerprint", .string(entry.fingerprintHex)), ("revoked_at", .string(entry.revokedAtText)),
                    ("already_revoked", .bool(!result.added)),
                ])))
            } else if result.added {
                Console.out("revoked partner \(entry.partner)'s \(result.kind.rawValue) certificate (serial \(entry.serial), fingerprint sha256:\(entry.fingerprintHex)) at \(entry.revokedAtText)")
            } else {
                Console.out("partner \(entry.partner)'s \(result.kind.rawValue) certificate was already revoked (serial \(entry.serial), at \(entry.revokedAtText))")
            }
        }
        if !args.flag("json"), results.contains(where: \.added) {
            Console.out("a running hub refuses \(results.count > 1 ? "them" : "it") from its next reload (SIGHUP) on every new connection")
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
        let now = Int64(Clock.unixSeconds())
        for partner in partners {
            let identity = partner.identity
            let daysLeft = partner.daysLeft(now: now)
            let expiring = partner.revocation == nil && daysLeft <= HubPKI.expiryWarningDays
            if args.flag("json") {
                Console.out(JSON.encode(.object([
                    ("partner", .string(identity.name)), ("role", .string(identity.role.rawValue)),
                    ("certificate", .string(partner.kind.rawValue)),
                    ("serial", .int(Int(identity.serial))), ("fingerprint", .string(identity.fingerprintHex)),
                    ("not_before", .string(partner.notBefore)), ("not_after", .string(identity.notAfter)),
                    ("days_left", .int(daysLeft)), ("expiring", .bool(expiring)),
                    ("revoked_at", partner.revocation.map { .string($0.revokedAtText) } ?? .null),
                ])))
            } else {
                var status = partner.revocation.map { "revoked \($0.revokedAtText)" } ?? "valid until \(identity.notAfter)"
                if partner.revocation == nil {
                    status += daysLeft > 0 ? " (\(daysLeft) days left)" : " (EXPIRED)"
                    if expiring && daysLeft > 0 { status += " EXPIRES WITHIN \(HubPKI.expiryWarningDays) DAYS" }
                }
                let serial = "serial \(identity.serial)" + (partner.kind == .current ? "" : " (\(partner.kind.rawValue))")
                Console.out("\(identity.name)\t\(identity.role.rawValue)\t\(serial)\t\(status)")
            }
        }
        return .success
    }

    /// `--days N`, or the default partner validity.
    private static func validityDays(_ args: Arguments) throws(UsageError) -> Int {
        guard let text = args.value("days") else { return HubPKI.defaultPartnerValidityDays }
        guard let value = Int(text), value > 0 else { throw UsageError("--days '\(text)' is not a positive number of days") }
        return value
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
