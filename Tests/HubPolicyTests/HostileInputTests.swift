import Foundation
import HubPolicy
import Testing

/// Mutated and hostile policy files: always a clean refusal or a policy that keeps every rule.
@Suite struct HostileInputTests {
    @Test func mutatedPolicyFilesNeverCrashAndNeverBreakTheRules() {
        var generator = SystemRandomNumberGenerator()
        let base = Array(PolicyFile().adding("valid_until", #""2030-01-01""#).text.utf8)
        let replacements = Array(#"{}[]",:0123456789-. aeEtrufnl\"#.utf8) + [0x00, 0xC3, 0xFF, 0x0A]
        var accepted = 0
        for _ in 0..<3_000 {
            var bytes = base
            for _ in 0..<Int.random(in: 1...4, using: &generator) {
                let index = Int.random(in: 0..<bytes.count, using: &generator)
                switch Int.random(in: 0..<3, using: &generator) {
                case 0: bytes[index] = replacements.randomElement(using: &generator)!
                case 1: bytes.remove(at: index)
                default: bytes.insert(replacements.randomElement(using: &generator)!, at: index)
                }
                if bytes.isEmpty { break }
            }
            do {
                let policy = try PartnerPolicy.parse(bytes, file: "Policies/bank-a.json")
                accepted += 1
                #expect(policy.partner == "bank-a")
                #expect(policy.maxBatch >= 1 && policy.maxBatch <= policy.rate.burst && policy.maxBatch <= policy.dailyQuota)
                #expect(policy.requiredFields.isSuperset(of: PartnerPolicy.RequestField.alwaysRequired))
                #expect(!policy.types.isEmpty && !policy.purposes.isEmpty && !policy.priorities.isEmpty)
            } catch {
                #expect(!error.problems.isEmpty)
                #expect(error.problems.allSatisfy { $0.description.hasPrefix("Policies/bank-a.json: ") })
            }
        }
        #expect(accepted < 3_000)
    }

    @Test func naughtyNamesAreRefused() throws {
        let naughty = ["", " ", "\u{0}", "\u{202E}evil", "../../etc/passwd", "💩", String(repeating: "a", count: 65),
                       "<script>", "ｐａｙｍｅｎｔ"]
        for value in naughty {
            let escaped = value.unicodeScalars.map { $0.value < 0x20 ? String(format: "\\u%04x", $0.value) : String($0) }.joined()
            for field in ["purposes", "legal_bases"] {
                let found = problems(PolicyFile().replacing(field, with: "[\"\(escaped)\"]").text)
                #expect(found.count == 1, "\(field) = \(value)")
                #expect(found.first?.contains("is not a valid") == true)
            }
            #expect(problems(PolicyFile().replacing("partner", with: "\"\(escaped)\"").text).count == 1)
        }
    }
}
