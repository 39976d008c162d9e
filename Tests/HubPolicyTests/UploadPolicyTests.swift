import HubPolicy
import IndicatorKit
import Testing

/// The `upload` section of a policy (docs/POLICY.md, "Uploads"): parsing with every problem
/// named by file and field, and the decisions on UPLOAD_BEGIN and WITHDRAW.
@Suite struct UploadPolicyTests {
    static let section = """
        {"types": ["ipv4", "Domain"], "categories": ["phishing", "malware"],
         "defaults": {"category": "malware", "confidence": 0, "tlp": "tlp:amber", "action": "warn", "ttl_days": 30},
         "required_fields": ["reference"], "max_records": 5000, "withdraw": true}
        """
    static let cert = PolicyFile().replacing("partner", with: #""cert-a""#).replacing("role", with: #""cert""#)

    static func parse(_ file: PolicyFile) throws -> PartnerPolicy {
        try PartnerPolicy.parse(Array(file.text.utf8), file: "Policies/cert-a.json")
    }

    static func problems(_ upload: String, role: String = "cert") -> [String] {
        HubPolicyTests.problems(cert.replacing("role", with: "\"\(role)\"").adding("upload", upload).text,
                                file: "Policies/cert-a.json")
    }

    @Test func aSectionParsesWithItsDefaults() throws {
        let policy = try Self.parse(Self.cert.adding("upload", Self.section))
        let upload = try #require(policy.upload)
        #expect(upload.types == [.ipv4, .domain] && upload.categories == [.phishing, .malware])
        #expect(upload.defaults == UploadPolicy.Defaults(category: .malware, confidence: 0, tlp: .amber, action: .warn, ttlDays: 30))
        #expect(upload.requiredFields == [.reference] && upload.maxRecords == 5000 && upload.mayWithdraw)
        // Optional keys: both texts required, no withdrawals.
        let minimal = try Self.parse(Self.cert.adding("upload", """
            {"types": ["url"], "categories": ["phishing"], "max_records": 1,
             "defaults": {"category": "phishing", "confidence": 100, "tlp": "red", "action": "block", "ttl_days": 3650}}
            """))
        #expect(minimal.upload?.requiredFields == [.legalBasis, .reference] && minimal.upload?.mayWithdraw == false)
        #expect(try Self.parse(Self.cert).upload == nil)
        // Deny by default: a changed section is a changed policy (a reload must raise the version).
        #expect(!minimal.decidesLike(try Self.parse(Self.cert.adding("upload", Self.section))))
    }

    static let bad: [(String, String)] = [
        (#"{"types": ["ipv4"], "categories": ["malware"], "max_records": 1, "defaults": {"category": "malware", "confidence": 1, "tlp": "red", "action": "block", "ttl_days": 1}, "allow": true}"#,
         #"field "upload.allow": unknown field (known fields: types, categories, defaults, required_fields, max_records, withdraw)"#),
        (#"{"types": [], "categories": ["malware"], "max_records": 1, "defaults": {"category": "malware", "confidence": 1, "tlp": "red", "action": "block", "ttl_days": 1}}"#,
         #"field "upload.types": must not be empty (a source that may list nothing needs no upload section)"#),
        (#"{"types": ["ipv5"], "categories": ["malware"], "max_records": 1, "defaults": {"category": "malware", "confidence": 1, "tlp": "red", "action": "block", "ttl_days": 1}}"#,
         #"field "upload.types[0]": unknown indicator type "ipv5" (did you mean "ipv4"?)"#),
        (#"{"types": ["ipv4"], "categories": ["malware"], "max_records": 1, "defaults": {"category": "phishing", "confidence": 1, "tlp": "red", "action": "block", "ttl_days": 1}}"#,
         #"field "upload.defaults.category": "phishing" is not in upload.categories: a record without a category could never be listed"#),
        (#"{"types": ["ipv4"], "categories": ["malware"], "max_records": 1, "defaults": {"category": "malware", "confidence": 101, "tlp": "red", "action": "block", "ttl_days": 1}}"#,
         #"field "upload.defaults.confidence": must be at most 100, got 101"#),
        (#"{"types": ["ipv4"], "categories": ["malware"], "max_records": 1, "defaults": {"category": "malware", "confidence": -1, "tlp": "red", "action": "block", "ttl_days": 1}}"#,
         #"field "upload.defaults.confidence": must be an integer from 0 to 100, got -1"#),
        (#"{"types": ["ipv4"], "categories": ["malware"], "max_records": 1, "defaults": {"category": "malware", "confidence": 1, "tlp": "red", "action": "block", "ttl_days": 0}}"#,
         #"field "upload.defaults.ttl_days": must be at least 1, got 0"#),
        (#"{"types": ["ipv4"], "categories": ["malware"], "max_records": 1, "defaults": {"category": "malware", "confidence": 1, "tlp": "red", "action": "drop", "ttl_days": 1}}"#,
         #"field "upload.defaults.action": unknown action "drop" (one of: block, warn, monitor)"#),
        (#"{"types": ["ipv4"], "categories": ["malware"], "max_records": 1, "defaults": {"category": "malware", "confidence": 1, "tlp": "red", "action": "block"}}"#,
         #"field "upload.defaults.ttl_days": required field is missing"#),
        (#"{"types": ["ipv4"], "categories": ["malware"], "max_records": 1000001, "defaults": {"category": "malware", "confidence": 1, "tlp": "red", "action": "block", "ttl_days": 1}}"#,
         #"field "upload.max_records": must be at most 1000000, got 1000001"#),
        (#"{"types": ["ipv4"], "categories": ["malware"], "max_records": 1, "withdraw": "yes", "defaults": {"category": "malware", "confidence": 1, "tlp": "red", "action": "block", "ttl_days": 1}}"#,
         #"field "upload.withdraw": must be true or false, got a string ("yes")"#),
        (#"{"types": ["ipv4"], "categories": ["malware"], "max_records": 1, "required_fields": ["purpose"], "defaults": {"category": "malware", "confidence": 1, "tlp": "red", "action": "block", "ttl_days": 1}}"#,
         #"field "upload.required_fields[0]": unknown upload field "purpose" (one of: legal_basis, reference)"#),
        (#"["ipv4"]"#, #"field "upload": must be an object, got a list"#),
    ]

    @Test(arguments: 0..<bad.count)
    func aBadSectionIsRefusedNamingTheField(_ index: Int) {
        let (upload, expected) = Self.bad[index]
        #expect(Self.problems(upload) == ["Policies/cert-a.json: " + expected])
    }

    @Test func onlyACertPolicyMayHaveAnUploadSection() {
        #expect(Self.problems(Self.section, role: "bank")
                == [#"Policies/cert-a.json: field "upload": only a cert may upload or withdraw (role is bank); remove this field"#])
        let analyst = PolicyFile(fields: [("partner", #""cert-a""#), ("role", #""analyst""#), ("version", "1")])
        #expect(HubPolicyTests.problems(analyst.adding("upload", Self.section).text, file: "Policies/cert-a.json")
                == [#"Policies/cert-a.json: field "upload": only a cert may upload or withdraw (role is analyst); remove this field"#])
    }

    @Test func uploadsAndWithdrawalsAreDecidedDenyByDefault() throws {
        let now: Int64 = 1_800_000_000
        let policy = try Self.parse(Self.cert.adding("upload", Self.section))
        #expect(policy.uploadRefusal(legalBasis: "", reference: "R", recordCount: 5000, now: now) == nil)
        #expect(policy.uploadRefusal(legalBasis: "x", reference: "", recordCount: 1, now: now)?.code == .missingField)
        #expect(policy.uploadRefusal(legalBasis: "x", reference: "R", recordCount: 5001, now: now)?.code == .uploadTooLarge)
        #expect(policy.withdrawRefusal(now: now) == nil)

        let none = try Self.parse(Self.cert)
        #expect(none.uploadRefusal(legalBasis: "x", reference: "R", recordCount: 1, now: now)?.code == .operationNotAllowed)
        #expect(none.withdrawRefusal(now: now)?.code == .operationNotAllowed)
        var noWithdraw = policy
        noWithdraw.upload?.mayWithdraw = false
        #expect(noWithdraw.withdrawRefusal(now: now)?.code == .operationNotAllowed)
        var expired = policy
        expired.validUntil = now - 1
        #expect(expired.uploadRefusal(legalBasis: "x", reference: "R", recordCount: 1, now: now)?.code == .operationNotAllowed)
        var bank = policy
        bank.role = .bank
        #expect(bank.uploadRefusal(legalBasis: "x", reference: "R", recordCount: 1, now: now)?.code == .operationNotAllowed)

        let upload = try #require(policy.upload)
        #expect(upload.allows(type: .domain, category: .phishing) && !upload.allows(type: .url, category: .phishing))
        #expect(!upload.allows(type: .ipv4, category: .spam))
        // 30 days, counted from the start of the upload's UTC day.
        #expect(upload.defaultExpiry(now: 86_400 * 10 + 5) == 86_400 * 40)
    }
}
