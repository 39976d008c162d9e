import Foundation
import Testing

@Suite struct PolicyCommandTests {
    static var shippedPolicies: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Policies").path
    }

    @Test func theShippedPoliciesAreListedPerPartner() throws {
        let result = try Ihub.run(["policy", "check", Self.shippedPolicies])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("bank-example  (bank, version 1,"))
        #expect(result.stdout.contains("  reveals      match + category, confidence"))
        #expect(result.stdout.contains("  reveals      match + action"))
        #expect(result.stdout.contains("    defaults   category malware, confidence 70, TLP amber, action block, expires after 90 days"))
        #expect(result.stdout.contains("  uploads      none (no upload section: may not upload or withdraw)"))
        #expect(result.stdout.hasSuffix("3 policies valid in \(Self.shippedPolicies)\n"))
    }

    @Test func jsonIsOneObjectPerPartner() throws {
        let result = try Ihub.run(["policy", "check", "--json", Self.shippedPolicies])
        #expect(result.status == 0, "\(result.stderr)")
        let lines = try result.jsonLines()
        #expect(lines.map { $0["partner"] as? String } == ["bank-example", "cert-example", "isp-example"])
        #expect(lines[0]["types"] as? [String] == ["email", "iban", "phone", "wallet"])
        #expect(lines[0]["reveal"] as? [String] == ["category", "confidence"])
        #expect((lines[2]["rate"] as? [String: Any])?["per_second"] as? Int == 500_000)
        #expect(lines[1]["tlp_ceiling"] as? String == "red")
        #expect(lines[1]["valid_until"] is NSNull)
        let upload = try #require(lines[1]["upload"] as? [String: Any])
        #expect(upload["max_records"] as? Int == 1_000_000 && upload["withdraw"] as? Bool == true)
        #expect((upload["defaults"] as? [String: Any])?["ttl_days"] as? Int == 90)
        #expect(lines[0]["upload"] is NSNull)
    }

    @Test func everyProblemIsPrintedAndTheExitStatusIsTwo() throws {
        let directory = try TemporaryDirectory()
        let bank = try String(contentsOfFile: Self.shippedPolicies + "/bank-example.json", encoding: .utf8)
            .replacingOccurrences(of: #""per_second": 200"#, with: #""per_second": -5"#)
        _ = try directory.file("bank-example.json", bank)
        _ = try directory.file("isp-x.json", "{\"partner\": \"isp-y\", \"role\": \"isp\", \"version\": 1}")
        let result = try Ihub.run(["policy", "check", directory.path])
        #expect(result.status == 2)
        #expect(result.stdout.isEmpty)
        let lines = result.stderr.split(separator: "\n").map(String.init)
        #expect(lines.contains(directory.path + #"/bank-example.json: field "rate.per_second": must be a positive integer, got -5"#))
        #expect(lines.contains(directory.path + #"/isp-x.json: field "partner": "isp-y" does not match the file name "isp-x.json" (the policy of partner NAME is the file NAME.json)"#))
        #expect(lines.contains(directory.path + #"/isp-x.json: field "types": required field is missing"#))

        let json = try Ihub.run(["policy", "check", "--json", directory.path])
        #expect(json.status == 2)
        let errors = try #require(try json.json()["errors"] as? [[String: Any]])
        #expect(errors.first?["file"] as? String == directory.path + "/bank-example.json")
        #expect(errors.first?["field"] as? String == "rate.per_second")
        #expect(errors.first?["reason"] as? String == "must be a positive integer, got -5")
    }

    @Test func usageErrors() throws {
        #expect(try Ihub.run(["policy"]).status == 2)
        #expect(try Ihub.run(["policy", "lint", "x"]).status == 2)
        let missing = try Ihub.run(["policy", "check", "/nonexistent-policy-dir"])
        #expect(missing.status == 2)
        #expect(missing.stderr.contains("/nonexistent-policy-dir: opendir: no such file or directory"))
    }
}
