import Foundation
import HubPolicy
import IndicatorKit
import Testing

/// Loading a policy directory: all or nothing, every problem named, the shipped examples valid.
@Suite struct PolicySetTests {
    static func policy(_ partner: String, role: String = "bank", version: Int = 1) -> String {
        PolicyFile().replacing("partner", with: "\"\(partner)\"").replacing("role", with: "\"\(role)\"")
            .replacing("version", with: String(version)).text
    }

    /// The repository's Policies/ directory, found from this file's path.
    static var shippedPolicies: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Policies").path
    }

    @Test func theShippedExamplesAreValid() throws {
        let set = try PolicySet.load(directory: Self.shippedPolicies)
        #expect(set.policies.map(\.partner) == ["bank-example", "cert-example", "isp-example"])
        let bank = try #require(set[partner: "bank-example"])
        #expect(bank.role == .bank)
        #expect(bank.types == [.iban, .email, .phone, .wallet])
        #expect(bank.categories == [.fraud, .muleAccount, .scam])
        #expect(bank.purposes == ["payment-screening"])
        #expect(bank.reveals == [.category, .confidence])
        let isp = try #require(set[partner: "isp-example"])
        #expect(isp.types == [.ipv4, .ipv6, .domain, .url])
        #expect(isp.reveals == [.action])
        #expect(isp.maxBatch > bank.maxBatch && isp.rate.perSecond > bank.rate.perSecond)
        let cert = try #require(set[partner: "cert-example"])
        #expect(cert.role == .cert)
        #expect(cert.types == Set(IndicatorType.allCases))
        #expect(cert.categories == Set(ThreatCategory.allCases))
        #expect(cert.reveals == Set(PartnerPolicy.RevealedField.allCases))
        #expect(cert.tlpCeiling == .red)
    }

    @Test func loadsEveryJSONFileAndIgnoresTheRest() throws {
        let directory = try TemporaryDirectory()
        try directory.write("bank-a.json", Self.policy("bank-a"))
        try directory.write("isp-b.json", Self.policy("isp-b", role: "isp"))
        try directory.write("README.md", "not a policy")
        try directory.write(".bank-a.json", "{ an editor's backup")
        try directory.write("bank-a.json~", "{ another one")
        let set = try PolicySet.load(directory: directory.path)
        #expect(set.policies.map(\.partner) == ["bank-a", "isp-b"])
        #expect(set[partner: "isp-b"]?.role == .isp)
        #expect(set[partner: "ISP-B"] == nil)  // certificate names match exactly
    }

    @Test func oneBadFileRefusesTheWholeSetWithEveryProblem() throws {
        let directory = try TemporaryDirectory()
        try directory.write("bank-a.json", Self.policy("bank-a"))
        try directory.write("bank-b.json", PolicyFile().replacing("partner", with: #""bank-b""#)
            .replacing("rate", with: #"{"per_second": -5, "burst": 100}"#).text)
        try directory.write("bank-c.json", "{ \"partner\": ")
        let path = directory.path
        #expect(throws: PolicyLoadError([
            .field(file: path + "/bank-b.json", path: "rate.per_second", reason: "must be a positive integer, got -5"),
            .syntax(file: path + "/bank-c.json", line: 1, column: 14, reason: "unexpected end of file, expected a value"),
        ])) {
            try PolicySet.load(directory: path)
        }
    }

    @Test func messagesNameTheFileAsTheDirectoryWasGiven() throws {
        let files: [(name: String, bytes: [UInt8])] = [
            ("bank-a.json", Array(PolicyFile().replacing("rate", with: #"{"per_second": -5, "burst": 100}"#).text.utf8)),
        ]
        do {
            _ = try PolicySet.parse(files: files, directory: "Policies")
            Issue.record("must fail")
        } catch {
            #expect(error.description == #"Policies/bank-a.json: field "rate.per_second": must be a positive integer, got -5"#)
        }
    }

    @Test func partnersDifferingOnlyInCaseAreRefused() throws {
        let files: [(name: String, bytes: [UInt8])] = [
            ("Bank-A.json", Array(Self.policy("Bank-A").utf8)),
            ("bank-a.json", Array(Self.policy("bank-a").utf8)),
        ]
        #expect(throws: PolicyLoadError([
            .file(file: "Policies/bank-a.json",
                  reason: #"partner "bank-a" is already defined by "Bank-A.json" (partner names must differ ignoring case)"#),
        ])) {
            try PolicySet.parse(files: files, directory: "Policies")
        }
        let policy = try PartnerPolicy.parse(Array(Self.policy("bank-a").utf8), file: "bank-a.json")
        #expect(throws: PolicyLoadError.self) { try PolicySet([policy, policy]) }
    }

    @Test func emptyMissingAndOddDirectories() throws {
        let directory = try TemporaryDirectory()
        try directory.write("README.md", "nothing here")
        #expect(throws: PolicyLoadError([.directory(path: directory.path, reason: "no policy files (*.json) in this directory")])) {
            try PolicySet.load(directory: directory.path)
        }
        let missing = directory.path + "/nope"
        #expect(throws: PolicyLoadError([.directory(path: missing, reason: "opendir: no such file or directory")])) {
            try PolicySet.load(directory: missing)
        }
        try FileManager.default.createDirectory(atPath: directory.path + "/sub.json", withIntermediateDirectories: false)
        try directory.write("bank-a.json", Self.policy("bank-a"))
        #expect(throws: PolicyLoadError([.file(file: directory.path + "/sub.json", reason: "not a regular file")])) {
            try PolicySet.load(directory: directory.path)
        }
    }

    @Test func oversizedFilesAreRefusedUnread() throws {
        let directory = try TemporaryDirectory()
        try directory.write("bank-a.json", Self.policy("bank-a") + String(repeating: " ", count: PolicySet.maxFileBytes))
        #expect(throws: PolicyLoadError.self) { try PolicySet.load(directory: directory.path) }
        do {
            _ = try PolicySet.load(directory: directory.path)
        } catch {
            #expect(error.problems.first?.reason.hasSuffix("bytes; a policy file is at most 65536") == true)
        }
    }

    @Test func aReloadThatChangesAPolicyMustRaiseItsVersion() throws {
        let v1 = try PolicySet.parse(files: [("bank-a.json", Array(Self.policy("bank-a").utf8))], directory: "P")
        let changed = PolicyFile().replacing("max_batch", with: "50").text
        let sameVersion = try PolicySet.parse(files: [("bank-a.json", Array(changed.utf8))], directory: "P")
        #expect(throws: PolicyLoadError([
            .field(file: "P/bank-a.json", path: "version", reason: "the policy changed but its version did not (still 1): raise it"),
        ])) {
            try v1.checkSuccessor(sameVersion, directory: "P")
        }
        let raised = PolicyFile().replacing("max_batch", with: "50").replacing("version", with: "2").text
        let v2 = try PolicySet.parse(files: [("bank-a.json", Array(raised.utf8))], directory: "P")
        try v1.checkSuccessor(v2, directory: "P")
        #expect(throws: PolicyLoadError([
            .field(file: "P/bank-a.json", path: "version", reason: "1 is lower than the version in force (2)"),
        ])) {
            try v2.checkSuccessor(v1, directory: "P")
        }
        // A new comment or a reordered list decides nothing differently: no new version needed.
        let cosmetic = PolicyFile().replacing("version", with: "1").replacing("types", with: #"["email", "iban"]"#)
            .adding("comment", #""reviewed""#).text
        try v1.checkSuccessor(try PolicySet.parse(files: [("bank-a.json", Array(cosmetic.utf8))], directory: "P"), directory: "P")
    }
}
