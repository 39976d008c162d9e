import HubPolicy
import IndicatorKit
import Testing

/// Every field of a policy file: valid forms, and each bad value with its exact message.
@Suite struct PolicyFieldTests {
    let base = PolicyFile()

    @Test func theBasePolicyParses() throws {
        let policy = try parsed(base)
        #expect(policy.partner == "bank-a")
        #expect(policy.role == .bank)
        #expect(policy.version == 1)
        #expect(policy.types == [.iban, .email])
        #expect(policy.categories == [.fraud, .muleAccount])
        #expect(policy.purposes == ["payment-screening"])
        #expect(policy.legalBases == ["psd2-art-94"])
        #expect(policy.requiredFields == Set(PartnerPolicy.RequestField.allCases))  // the default: the full form
        #expect(policy.reveals == [.category])
        #expect(policy.maxBatch == 100)
        #expect(policy.rate == .init(perSecond: 10, burst: 100))
        #expect(policy.dailyQuota == 1000)
        #expect(policy.tlpCeiling == .amber)
        #expect(policy.priorities == [.routine, .urgent])
        #expect(policy.validUntil == nil)
        #expect(policy.comment == nil)
    }

    @Test func optionalFieldsHaveTheirDefaults() throws {
        let policy = try parsed(base.removing("reveal"))
        #expect(policy.reveals.isEmpty)  // match / no match only
    }

    /// (field, raw JSON value, the exact message after `Policies/bank-a.json: `).
    static let badValues: [(String, String, String)] = [
        ("partner", "5", #"field "partner": must be a string, got 5"#),
        ("partner", #""""#, #"field "partner": must be 1–64 characters of A–Z a–z 0–9 . _ - not starting with '.', got """#),
        ("partner", #""bank a""#, #"field "partner": must be 1–64 characters of A–Z a–z 0–9 . _ - not starting with '.', got "bank a""#),
        ("partner", #"".hidden""#, #"field "partner": must be 1–64 characters of A–Z a–z 0–9 . _ - not starting with '.', got ".hidden""#),
        ("partner", #""bank-b""#, #"field "partner": "bank-b" does not match the file name "bank-a.json" (the policy of partner NAME is the file NAME.json)"#),
        ("role", #""insurer""#, #"field "role": unknown role "insurer" (one of: bank, isp, cert, analyst)"#),
        ("role", "null", #"field "role": must be a string, got null"#),
        ("version", "0", #"field "version": must be a positive integer, got 0"#),
        ("version", "-5", #"field "version": must be a positive integer, got -5"#),
        ("version", "2.5", #"field "version": must be a positive integer, got 2.5"#),
        ("version", "3.0", #"field "version": must be a positive integer, got 3.0"#),
        ("version", "1e3", #"field "version": must be a positive integer, got 1e3"#),
        ("version", #""3""#, #"field "version": must be a positive integer, got a string ("3")"#),
        ("version", "true", #"field "version": must be a positive integer, got true"#),
        ("version", "4294967296", #"field "version": must be at most 4294967295, got 4294967296"#),
        ("version", "99999999999999999999999999", #"field "version": must be at most 4294967295, got 99999999999999999999999999"#),
        ("comment", "[]", #"field "comment": must be a string, got a list"#),
        ("valid_until", #""2026-02-30""#, #"field "valid_until": must be a UTC date "YYYY-MM-DD" or date and time "YYYY-MM-DDTHH:MM:SSZ" (a real one, year 1970 or later), got "2026-02-30""#),
        ("valid_until", #""2026-06-01T12:00:00+02:00""#, #"field "valid_until": must be a UTC date "YYYY-MM-DD" or date and time "YYYY-MM-DDTHH:MM:SSZ" (a real one, year 1970 or later), got "2026-06-01T12:00:00+02:00""#),
        ("valid_until", #""2026-06-01T24:00:00Z""#, #"field "valid_until": must be a UTC date "YYYY-MM-DD" or date and time "YYYY-MM-DDTHH:MM:SSZ" (a real one, year 1970 or later), got "2026-06-01T24:00:00Z""#),
        ("valid_until", "20260601", #"field "valid_until": must be a string, got 20260601"#),
        ("types", #""iban""#, #"field "types": must be a list of indicator type names, got a string ("iban")"#),
        ("types", "[]", #"field "types": must not be empty (a partner that may ask nothing needs no policy: remove the file, or set valid_until)"#),
        ("types", #"["iban", "ipv5"]"#, #"field "types[1]": unknown indicator type "ipv5" (did you mean "ipv4"?)"#),
        ("types", #"["bank-account"]"#, #"field "types[0]": unknown indicator type "bank-account" (one of: ipv4, ipv6, domain, url, email, iban, phone, wallet, md5, sha1, sha256, sha512, handle)"#),
        ("types", #"["iban", 6]"#, #"field "types[1]": must be a string, got 6"#),
        ("types", #"["iban", "email", "IBAN"]"#, #"field "types[2]": "IBAN" is listed twice"#),
        ("categories", #"["fraud", "mule_account"]"#, #"field "categories[1]": unknown category "mule_account" (did you mean "mule-account"?)"#),
        ("categories", "{}", #"field "categories": must be a list of category names, got an object"#),
        ("purposes", #"["Payment Screening"]"#, #"field "purposes[0]": "Payment Screening" is not a valid purpose: use 1–64 characters of a–z 0–9 . _ : - starting with a letter or digit"#),
        ("purposes", #"["-x"]"#, #"field "purposes[0]": "-x" is not a valid purpose: use 1–64 characters of a–z 0–9 . _ : - starting with a letter or digit"#),
        ("legal_bases", "[]", #"field "legal_bases": must not be empty (a partner that may ask nothing needs no policy: remove the file, or set valid_until)"#),
        ("legal_bases", #"["a", "a"]"#, #"field "legal_bases[1]": "a" is listed twice"#),
        ("required_fields", #"["purpose", "reference"]"#, #"field "required_fields": must include "legal_basis" (purpose and legal basis are always required)"#),
        ("required_fields", #"["purpose", "legal_basis", "timezone"]"#, #"field "required_fields[2]": unknown request field "timezone" (did you mean "time_zone"?)"#),
        ("required_fields", "[]", #"field "required_fields": must list at least "purpose" and "legal_basis""#),
        ("reveal", #"["category", "source"]"#, #"field "reveal[1]": unknown answer field "source" (one of: category, confidence, expires, action)"#),
        ("reveal", #""all""#, #"field "reveal": must be a list of answer field names, got a string ("all")"#),
        ("max_batch", "0", #"field "max_batch": must be a positive integer, got 0"#),
        ("max_batch", "1000001", #"field "max_batch": must be at most 1000000, got 1000001"#),
        ("max_batch", "101", #"field "max_batch": 101 is more than rate.burst (100): a full batch could never be admitted"#),
        ("rate", #"{"per_second": -5, "burst": 100}"#, #"field "rate.per_second": must be a positive integer, got -5"#),
        ("rate", #"{"per_second": 10}"#, #"field "rate.burst": required field is missing"#),
        ("rate", #"{"per_second": 10, "burst": 100, "burts": 5}"#, #"field "rate.burts": unknown field (did you mean "burst"?)"#),
        ("rate", #"{"per_second": 10, "burst": 1000000001}"#, #"field "rate.burst": must be at most 1000000000, got 1000000001"#),
        ("rate", "10", #"field "rate": must be an object, got 10"#),
        ("daily_quota", "50", #"field "max_batch": 100 is more than daily_quota (50): a full batch could never be admitted"#),
        ("daily_quota", "1000000000001", #"field "daily_quota": must be at most 1000000000000, got 1000000000001"#),
        ("tlp_ceiling", #""purple""#, #"field "tlp_ceiling": unknown TLP level "purple" (one of: clear, green, amber, amber+strict, red)"#),
        ("priorities", #"["routine", "emergency"]"#, #"field "priorities[1]": unknown priority "emergency" (one of: routine, urgent, critical)"#),
        ("priorities", "[]", #"field "priorities": must not be empty (a partner that may ask nothing needs no policy: remove the file, or set valid_until)"#),
    ]

    @Test(arguments: 0..<badValues.count)
    func badValue(_ index: Int) {
        let (field, json, message) = Self.badValues[index]
        #expect(problems(base.replacing(field, with: json).text) == ["Policies/bank-a.json: " + message], "\(field) = \(json)")
    }

    @Test(arguments: ["partner", "role", "version", "types", "categories", "purposes", "legal_bases", "max_batch",
                      "rate", "daily_quota", "tlp_ceiling", "priorities"])
    func requiredFieldMissing(_ field: String) {
        #expect(problems(base.removing(field).text) == ["Policies/bank-a.json: field \"\(field)\": required field is missing"])
    }

    @Test func unknownFieldsAreRefusedWithASuggestion() {
        #expect(problems(base.adding("typs", #"["url"]"#).text)
                == [#"Policies/bank-a.json: field "typs": unknown field (did you mean "types"?)"#])
        #expect(problems(base.adding("allow_everything", "true").text)
                == [#"Policies/bank-a.json: field "allow_everything": unknown field (known fields: partner, role, version, comment, valid_until, types, categories, purposes, legal_bases, required_fields, reveal, max_batch, rate, daily_quota, tlp_ceiling, priorities, upload)"#])
    }

    @Test func aFieldGivenTwiceIsRefused() {
        // JSON parsers usually keep the last one; a policy must not depend on that.
        #expect(problems(base.adding("types", #"["ipv4"]"#).text) == [#"Policies/bank-a.json: field "types": given twice"#])
    }

    @Test func everyProblemInAFileIsReported() {
        let text = base.replacing("version", with: "0").replacing("types", with: #"["x"]"#).removing("rate").text
        #expect(problems(text) == [
            #"Policies/bank-a.json: field "version": must be a positive integer, got 0"#,
            #"Policies/bank-a.json: field "types[0]": unknown indicator type "x" (one of: ipv4, ipv6, domain, url, email, iban, phone, wallet, md5, sha1, sha256, sha512, handle)"#,
            #"Policies/bank-a.json: field "rate": required field is missing"#,
        ])
    }

    @Test func wrongTopLevelAndSyntaxErrors() {
        #expect(problems("[1, 2]") == ["Policies/bank-a.json: a policy must be a JSON object, got a list"])
        #expect(problems("{\n  \"partner\": \"bank-a\",\n}") == [
            "Policies/bank-a.json: invalid JSON at line 3, column 1: expected a quoted field name, found '}'",
        ])
        #expect(problems("") == ["Policies/bank-a.json: invalid JSON at line 1, column 1: the file holds no JSON value"])
        let deep = String(repeating: "[", count: 100_000)
        #expect(problems(deep) == ["Policies/bank-a.json: invalid JSON at line 1, column 33: nested deeper than 32 levels"])
    }

    @Test func validUntilForms() throws {
        let day = try parsed(base.replacing("valid_until", with: #""2026-03-01""#))
        #expect(day.validUntil == 1_772_409_599)  // 2026-03-01T23:59:59Z
        #expect(day.isValid(at: 1_772_409_599))
        #expect(!day.isValid(at: 1_772_409_600))
        let second = try parsed(base.replacing("valid_until", with: #""2024-02-29T12:30:00Z""#))
        #expect(second.validUntil == 1_709_209_800)
        #expect(PolicyDate.timestamp(1_709_209_800) == "2024-02-29T12:30:00Z")
        #expect(PolicyDate.lastValidSecond("2023-02-29") == nil)  // not a leap year
        #expect(PolicyDate.lastValidSecond("1969-12-31") == nil)
        #expect(PolicyDate.lastValidSecond("2026-1-01") == nil)
    }

    @Test func namesAreCaseInsensitiveWhereTheSharedVocabularyIs() throws {
        let policy = try parsed(base.replacing("types", with: #"["IBAN"]"#).replacing("tlp_ceiling", with: #""TLP:AMBER+STRICT""#))
        #expect(policy.types == [.iban])
        #expect(policy.tlpCeiling == .amberStrict)
    }

    @Test func anAnalystHasNoQueryFields() throws {
        let analyst = PolicyFile(fields: [("partner", #""oversight""#), ("role", #""analyst""#), ("version", "1")])
        let policy = try parsed(analyst, file: "oversight.json")
        #expect(policy.role == .analyst)
        #expect(!policy.allows(type: .iban))
        let withTypes = analyst.adding("types", #"["iban"]"#)
        #expect(problems(withTypes.text, file: "oversight.json")
                == [#"oversight.json: field "types": an analyst may not query; remove this field"#])
    }

    @Test func aPolicyWithAnUnknownRoleStillHasItsOtherFieldsChecked() {
        let text = base.replacing("role", with: #""insurer""#).replacing("max_batch", with: "-1").text
        #expect(problems(text) == [
            #"Policies/bank-a.json: field "role": unknown role "insurer" (one of: bank, isp, cert, analyst)"#,
            #"Policies/bank-a.json: field "max_batch": must be a positive integer, got -1"#,
        ])
    }

    @Test func hostileStringsAreQuotedAndCut() {
        let long = String(repeating: "x", count: 500)
        let message = problems(base.replacing("role", with: "\"\(long)\\n\"").text).first ?? ""
        #expect(message.count < 200)
        #expect(message.hasSuffix("…\" (one of: bank, isp, cert, analyst)"))
        let control = problems(base.replacing("role", with: #""a\u0007b""#).text)
        #expect(control == [#"Policies/bank-a.json: field "role": unknown role "a\u{7}b" (one of: bank, isp, cert, analyst)"#])
    }
}
