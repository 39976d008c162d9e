import IndicatorKit

/// Reading a policy file (docs/POLICY.md, "The file format" and "Validation rules").
extension PartnerPolicy {
    /// Every field a policy file may hold, in the order docs/POLICY.md lists them.
    public static let fieldNames = [
        "partner", "role", "version", "comment", "valid_until", "types", "categories", "purposes", "legal_bases",
        "required_fields", "reveal", "max_batch", "rate", "daily_quota", "tlp_ceiling", "priorities", "upload",
    ]
    /// The fields only a querying role (bank, isp, cert) may have.
    public static let queryFieldNames = [
        "types", "categories", "purposes", "legal_bases", "required_fields", "reveal", "max_batch", "rate",
        "daily_quota", "tlp_ceiling", "priorities",
    ]

    public static let maxBatchLimit = 1_000_000
    public static let maxRateLimit = 1_000_000_000
    public static let maxDailyQuotaLimit = 1_000_000_000_000
    public static let maxCommentLength = 1000

    /// Parses and validates one policy file. `file` is the path shown in messages; its last
    /// component must be `<partner>.json`. Throws every problem found.
    public static func parse(_ bytes: [UInt8], file: String) throws(PolicyLoadError) -> PartnerPolicy {
        let json: PolicyJSON
        do {
            json = try PolicyJSONParser.parse(bytes)
        } catch {
            throw PolicyLoadError([.syntax(file: file, line: error.line, column: error.column, reason: error.reason)])
        }
        var reader = PolicyFieldReader(file: file)
        let policy = read(json, file: file, reader: &reader)
        guard let policy, reader.problems.isEmpty else { throw PolicyLoadError(reader.problems) }
        return policy
    }

    private static func read(_ json: PolicyJSON, file: String, reader: inout PolicyFieldReader) -> PartnerPolicy? {
        guard let fields = reader.members(of: json, at: nil, known: fieldNames) else { return nil }

        let partner = reader.required(fields, "partner", path: "partner").flatMap { value in
            readPartnerName(value, file: file, reader: &reader)
        }
        let role = reader.required(fields, "role", path: "role").flatMap { value -> Role? in
            guard let name = reader.string(value, at: "role") else { return nil }
            guard let role = Role(rawValue: name) else {
                reader.problem("role", "unknown role \(PolicyText.quoted(name)) (one of: bank, isp, cert, analyst)")
                return nil
            }
            return role
        }
        let version = reader.required(fields, "version", path: "version").flatMap { value in
            reader.positiveInteger(value, at: "version", maximum: Int(UInt32.max)).map { UInt32($0) }
        }
        var comment: String?
        if let value = fields["comment"], let text = reader.string(value, at: "comment") {
            if text.unicodeScalars.count > maxCommentLength {
                reader.problem("comment", "must be at most \(maxCommentLength) characters, got \(text.unicodeScalars.count)")
            }
            comment = text
        }
        var validUntil: Int64?
        if let value = fields["valid_until"], let text = reader.string(value, at: "valid_until") {
            validUntil = PolicyDate.lastValidSecond(text)
            if validUntil == nil {
                reader.problem("valid_until", "must be a UTC date \"YYYY-MM-DD\" or date and time "
                               + "\"YYYY-MM-DDTHH:MM:SSZ\" (a real one, year 1970 or later), got \(PolicyText.quoted(text))")
            }
        }
        // Only a cert may upload; the section's own rules are checked whatever the role.
        var upload: UploadPolicy?
        if let value = fields["upload"] {
            if let role, role != .cert {
                reader.problem("upload", "only a cert may upload or withdraw (role is \(role.rawValue)); remove this field")
            }
            upload = readUpload(value, reader: &reader)
        }
        guard let role else {
            // The query fields' rules depend on the role: check their syntax as for a querying one.
            _ = readQueryRights(fields, reader: &reader)
            return nil
        }
        if !role.mayQuery {
            for name in queryFieldNames where fields[name] != nil {
                reader.problem(name, "an \(role.rawValue) may not query; remove this field")
            }
            guard let partner, let version else { return nil }
            return .analyst(partner: partner, version: version, comment: comment, validUntil: validUntil)
        }
        guard let rights = readQueryRights(fields, reader: &reader), let partner, let version else { return nil }
        var policy = rights
        policy.partner = partner
        policy.role = role
        policy.version = version
        policy.comment = comment
        policy.validUntil = validUntil
        policy.upload = upload
        return policy
    }

    /// `partner`: the certificate's name, also the file's name.
    private static func readPartnerName(_ value: PolicyJSON, file: String, reader: inout PolicyFieldReader) -> String? {
        guard let name = reader.string(value, at: "partner") else { return nil }
        guard isValidPartnerName(name) else {
            reader.problem("partner", "must be 1–64 characters of A–Z a–z 0–9 . _ - not starting with '.', "
                           + "got \(PolicyText.quoted(name))")
            return nil
        }
        let fileName = file.split(separator: "/", omittingEmptySubsequences: true).last.map(String.init) ?? file
        guard fileName == name + ".json" else {
            reader.problem("partner", "\(PolicyText.quoted(name)) does not match the file name "
                           + "\(PolicyText.quoted(fileName)) (the policy of partner NAME is the file NAME.json)")
            return nil
        }
        return name
    }

    /// 1–64 characters of `A–Z a–z 0–9 . _ -`, not starting with `.` (the name of a certificate and a file).
    public static func isValidPartnerName(_ name: String) -> Bool {
        let bytes = Array(name.utf8)
        guard (1...64).contains(bytes.count), bytes[0] != UInt8(ascii: ".") else { return false }
        return bytes.allSatisfy { byte in
            (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
                || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "_") || byte == UInt8(ascii: "-")
        }
    }

    /// A purpose or legal basis name: 1–64 characters of `a–z 0–9 . _ : -`, starting with a letter or digit.
    public static func isValidToken(_ token: String) -> Bool {
        let bytes = Array(token.utf8)
        guard (1...64).contains(bytes.count) else { return false }
        func isAlphanumeric(_ byte: UInt8) -> Bool { (byte >= 0x30 && byte <= 0x39) || (byte >= 0x61 && byte <= 0x7A) }
        return isAlphanumeric(bytes[0]) && bytes.allSatisfy { byte in
            isAlphanumeric(byte) || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "_")
                || byte == UInt8(ascii: ":") || byte == UInt8(ascii: "-")
        }
    }

    /// The required `types` and `categories` lists of the policy (`section` "") or of its
    /// `upload` section (`section` "upload."): names checked against the known ones, none empty.
    static func readTypesAndCategories(_ fields: [String: PolicyJSON], section: String, emptyReason: String,
                                       reader: inout PolicyFieldReader) -> ([IndicatorType]?, [ThreatCategory]?) {
        let types = reader.required(fields, "types", path: section + "types").flatMap { value in
            reader.list(value, at: section + "types", item: "indicator type", emptyReason: emptyReason,
                        parse: { IndicatorType(name: $0) }, known: IndicatorType.allCases.map(\.name))
        }
        let categories = reader.required(fields, "categories", path: section + "categories").flatMap { value in
            reader.list(value, at: section + "categories", item: "category", emptyReason: emptyReason,
                        parse: { ThreatCategory(name: $0) }, known: ThreatCategory.allCases.map(\.name))
        }
        return (types, categories)
    }

    /// The fields of a querying role; returns a policy with placeholder identity.
    private static func readQueryRights(_ fields: [String: PolicyJSON], reader: inout PolicyFieldReader) -> PartnerPolicy? {
        let empty = "must not be empty (a partner that may ask nothing needs no policy: remove the file, or set valid_until)"
        let (types, categories) = readTypesAndCategories(fields, section: "", emptyReason: empty, reader: &reader)
        let tokenRule = "use 1–64 characters of a–z 0–9 . _ : - starting with a letter or digit"
        let purposes = reader.required(fields, "purposes", path: "purposes").flatMap { value in
            reader.list(value, at: "purposes", item: "purpose", emptyReason: empty,
                        parse: { isValidToken($0) ? $0 : nil },
                        invalid: { "\(PolicyText.quoted($0)) is not a valid purpose: \(tokenRule)" })
        }
        let legalBases = reader.required(fields, "legal_bases", path: "legal_bases").flatMap { value in
            reader.list(value, at: "legal_bases", item: "legal basis", emptyReason: empty,
                        parse: { isValidToken($0) ? $0 : nil },
                        invalid: { "\(PolicyText.quoted($0)) is not a valid legal basis: \(tokenRule)" })
        }
        var requiredFields: Set<RequestField>? = Set(RequestField.allCases)
        if let value = fields["required_fields"] {
            requiredFields = reader.list(value, at: "required_fields", item: "request field",
                                         emptyReason: "must list at least \"purpose\" and \"legal_basis\"",
                                         parse: { RequestField(rawValue: $0) },
                                         known: RequestField.allCases.map(\.rawValue)).map(Set.init)
            if let listed = requiredFields {
                for field in RequestField.allCases where RequestField.alwaysRequired.contains(field) && !listed.contains(field) {
                    reader.problem("required_fields", "must include \"\(field.rawValue)\" (purpose and legal basis are always required)")
                    requiredFields = nil
                }
            }
        }
        var reveals: Set<RevealedField>? = []
        if let value = fields["reveal"] {
            reveals = reader.list(value, at: "reveal", item: "answer field", allowEmpty: true,
                                  parse: { RevealedField(rawValue: $0) },
                                  known: RevealedField.allCases.map(\.rawValue)).map(Set.init)
        }
        let maxBatch = reader.required(fields, "max_batch", path: "max_batch").flatMap { value in
            reader.positiveInteger(value, at: "max_batch", maximum: maxBatchLimit)
        }
        let rate = reader.required(fields, "rate", path: "rate").flatMap { value in readRate(value, reader: &reader) }
        let dailyQuota = reader.required(fields, "daily_quota", path: "daily_quota").flatMap { value in
            reader.positiveInteger(value, at: "daily_quota", maximum: maxDailyQuotaLimit)
        }
        let tlpCeiling = reader.required(fields, "tlp_ceiling", path: "tlp_ceiling").flatMap { value in
            reader.named(value, at: "tlp_ceiling", item: "TLP level", parse: { TLP(name: $0) },
                         known: TLP.allCases.map(\.name))
        }
        let priorities = reader.required(fields, "priorities", path: "priorities").flatMap { value in
            reader.list(value, at: "priorities", item: "priority", emptyReason: empty,
                        parse: { RequestPriority(name: $0) }, known: RequestPriority.allCases.map(\.name))
        }
        if let maxBatch, let rate, maxBatch > rate.burst {
            reader.problem("max_batch", "\(maxBatch) is more than rate.burst (\(rate.burst)): a full batch could never be admitted")
        }
        if let maxBatch, let dailyQuota, maxBatch > dailyQuota {
            reader.problem("max_batch", "\(maxBatch) is more than daily_quota (\(dailyQuota)): a full batch could never be admitted")
        }
        guard let types, let categories, let purposes, let legalBases, let requiredFields, let reveals, let maxBatch,
              let rate, let dailyQuota, let tlpCeiling, let priorities
        else { return nil }
        return PartnerPolicy(
            partner: "", role: .bank, version: 0, types: Set(types), categories: Set(categories), purposes: purposes,
            legalBases: legalBases, requiredFields: requiredFields, reveals: reveals, maxBatch: maxBatch, rate: rate,
            dailyQuota: dailyQuota, tlpCeiling: tlpCeiling, priorities: Set(priorities))
    }

    private static func readRate(_ value: PolicyJSON, reader: inout PolicyFieldReader) -> Rate? {
        guard let fields = reader.members(of: value, at: "rate", known: ["per_second", "burst"]) else { return nil }
        let perSecond = reader.required(fields, "per_second", path: "rate.per_second").flatMap { value in
            reader.positiveInteger(value, at: "rate.per_second", maximum: maxRateLimit)
        }
        let burst = reader.required(fields, "burst", path: "rate.burst").flatMap { value in
            reader.positiveInteger(value, at: "rate.burst", maximum: maxRateLimit)
        }
        guard let perSecond, let burst else { return nil }
        return Rate(perSecond: perSecond, burst: burst)
    }
}
