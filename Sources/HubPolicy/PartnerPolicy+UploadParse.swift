import IndicatorKit

/// Reading a policy's `upload` section (docs/POLICY.md, "Uploads").
extension PartnerPolicy {
    /// The keys of the `upload` section, in the order docs/POLICY.md lists them.
    public static let uploadFieldNames = ["types", "categories", "defaults", "required_fields", "max_records", "withdraw"]
    /// The keys of `upload.defaults`.
    public static let uploadDefaultsFieldNames = ["category", "confidence", "tlp", "action", "ttl_days"]

    static func readUpload(_ value: PolicyJSON, reader: inout PolicyFieldReader) -> UploadPolicy? {
        guard let fields = reader.members(of: value, at: "upload", known: uploadFieldNames) else { return nil }
        let empty = "must not be empty (a source that may list nothing needs no upload section)"
        let (types, categories) = readTypesAndCategories(fields, section: "upload.", emptyReason: empty, reader: &reader)
        let defaults = reader.required(fields, "defaults", path: "upload.defaults").flatMap { value in
            readUploadDefaults(value, reader: &reader)
        }
        var requiredFields: Set<UploadPolicy.RequiredField>? = Set(UploadPolicy.RequiredField.allCases)
        if let value = fields["required_fields"] {
            requiredFields = reader.list(value, at: "upload.required_fields", item: "upload field", allowEmpty: true,
                                         parse: { UploadPolicy.RequiredField(rawValue: $0) },
                                         known: UploadPolicy.RequiredField.allCases.map(\.rawValue)).map(Set.init)
        }
        let maxRecords = reader.required(fields, "max_records", path: "upload.max_records").flatMap { value in
            reader.positiveInteger(value, at: "upload.max_records", maximum: UploadPolicy.maxRecordsLimit)
        }
        var mayWithdraw: Bool? = false
        if let value = fields["withdraw"] { mayWithdraw = reader.bool(value, at: "upload.withdraw") }
        if let defaults, let categories, !categories.contains(defaults.category) {
            reader.problem("upload.defaults.category", "\(PolicyText.quoted(defaults.category.name)) is not in "
                           + "upload.categories: a record without a category could never be listed")
        }
        guard let types, let categories, let defaults, let requiredFields, let maxRecords, let mayWithdraw,
              categories.contains(defaults.category)
        else { return nil }
        return UploadPolicy(types: Set(types), categories: Set(categories), defaults: defaults,
                            requiredFields: requiredFields, maxRecords: maxRecords, mayWithdraw: mayWithdraw)
    }

    private static func readUploadDefaults(_ value: PolicyJSON, reader: inout PolicyFieldReader) -> UploadPolicy.Defaults? {
        let path = "upload.defaults"
        guard let fields = reader.members(of: value, at: path, known: uploadDefaultsFieldNames) else { return nil }
        let category = reader.required(fields, "category", path: path + ".category").flatMap { value in
            reader.named(value, at: path + ".category", item: "category", parse: { ThreatCategory(name: $0) },
                         known: ThreatCategory.allCases.map(\.name))
        }
        let confidence = reader.required(fields, "confidence", path: path + ".confidence").flatMap { value in
            reader.integer(value, at: path + ".confidence", in: 0...100)
        }
        let tlp = reader.required(fields, "tlp", path: path + ".tlp").flatMap { value in
            reader.named(value, at: path + ".tlp", item: "TLP level", parse: { TLP(name: $0) },
                         known: TLP.allCases.map(\.name))
        }
        let action = reader.required(fields, "action", path: path + ".action").flatMap { value in
            reader.named(value, at: path + ".action", item: "action", parse: { ActionHint(name: $0) },
                         known: ActionHint.allCases.map(\.name))
        }
        let ttlDays = reader.required(fields, "ttl_days", path: path + ".ttl_days").flatMap { value in
            reader.integer(value, at: path + ".ttl_days", in: 1...UploadPolicy.maxTTLDays)
        }
        guard let category, let confidence, let tlp, let action, let ttlDays else { return nil }
        return UploadPolicy.Defaults(category: category, confidence: UInt8(confidence), tlp: tlp, action: action,
                                     ttlDays: ttlDays)
    }
}
