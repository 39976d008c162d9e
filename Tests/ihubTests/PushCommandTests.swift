import FakeHub
import Foundation
import HubTLS
import HubWire
import Testing

/// `ihub push` and `ihub withdraw` against the fake hub of Tests/FakeHub (which refuses `bad…`
/// values per record, counts repeats as duplicates, answers retries by upload id and drops
/// connections when told to).
@Suite struct PushCommandTests {
    let pki: FakePKI
    let cert: String
    let directory: TemporaryDirectory

    init() throws {
        pki = try FakePKI()
        cert = try pki.issue("cert-a", role: .cert)
        directory = try TemporaryDirectory()
    }

    func hub(_ behaviour: FakeHub.Behaviour = FakeHub.Behaviour()) throws -> FakeHub {
        try FakeHub(context: try pki.serverContext(), behaviour: behaviour)
    }

    func push(_ hub: FakeHub, _ extra: [String], identity: String? = nil) throws -> Ihub.Result {
        try Ihub.run(["push", "--hub", "127.0.0.1:\(hub.port)", "--identity", identity ?? cert,
                      "--server-name", "hub.example"] + extra)
    }

    /// Two good IPs, a repeat, one the hub refuses, two refused here (line 5 octal, line 6 defanged).
    var feed: String {
        "# CERT feed\n198.51.100.1\n198.51.100.2\n198.51.100.1\n010.0.0.1\nhxxp://evil[.]example/\nbad.example\n"
    }

    @Test func goodRecordsAreUploadedAndEveryRefusalIsReportedByFileAndLine() throws {
        let hub = try hub()
        defer { hub.stop() }
        let file = try directory.file("feed.txt", feed)
        let result = try push(hub, ["--json", "--ref", "CERT-1", file])
        #expect(result.status == 1, "\(result.stderr)")
        let report = try result.json()
        #expect(report["accepted"] as? Int == 2)
        #expect(report["duplicates"] as? Int == 1)
        #expect(report["rejected"] as? Int == 3)
        #expect(report["upload_number"] as? Int == 1)
        #expect((report["upload_id"] as? String)?.count == 32)
        #expect(report["already_applied"] as? Bool == false)
        let errors = try #require(report["errors"] as? [[String: Any]])
        #expect(errors.map { $0["line"] as? Int } == [5, 6, 7])
        #expect(errors.allSatisfy { $0["file"] as? String == file })
        #expect((errors[1]["reason"] as? String)?.contains("--defanged") == true)
        #expect((errors[2]["reason"] as? String)?.contains("refused by the hub: invalid_value") == true)
        // Only the 4 records that passed the local check were sent.
        #expect(hub.liveValues(of: "cert-a") == ["198.51.100.1", "198.51.100.2"])
    }

    @Test func defangedValuesAreSentWithTheFlagAndTable() throws {
        let hub = try hub()
        defer { hub.stop() }
        let file = try directory.file("defanged.txt", "hxxp://evil[.]example/login\n198[.]51[.]100[.]3\n")
        let result = try push(hub, ["--defanged", file])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("accepted 2, duplicates 0, rejected 0"))
        #expect(result.stdout.contains("(number 1)"))
    }

    @Test func aRetryWithTheSameUploadIDIsAlreadyAppliedAndOtherContentIsRefused() throws {
        let hub = try hub()
        defer { hub.stop() }
        let file = try directory.file("feed.txt", "198.51.100.1\n198.51.100.2\n")
        let id = "00112233445566778899aabbccddeeff"
        let first = try push(hub, ["--json", "--upload-id", id, file])
        #expect(first.status == 0)
        let again = try push(hub, ["--json", "--upload-id", id, file])
        #expect(again.status == 0)
        let report = try again.json()
        #expect(report["already_applied"] as? Bool == true)
        #expect(report["upload_number"] as? Int == 1)
        #expect(report["accepted"] as? Int == 2)
        #expect(hub.appliedUploads == 1)
        let other = try directory.file("other.txt", "198.51.100.9\n")
        let reused = try push(hub, ["--upload-id", id, other])
        #expect(reused.status == 1)
        #expect(reused.stderr.contains("upload_id_reused"))
        #expect(try push(hub, ["--upload-id", "xyz", file]).status == 2)
    }

    @Test func aPartnerWhoseRoleMayNotUploadIsRefused() throws {
        let hub = try hub()
        defer { hub.stop() }
        let bank = try pki.issue("bank-a", role: .bank)
        let file = try directory.file("feed.txt", "198.51.100.1\n")
        let result = try push(hub, [file], identity: bank)
        #expect(result.status == 1)
        #expect(result.stderr.contains("operation_not_allowed"))
        #expect(hub.appliedUploads == 0)
    }

    @Test func aConnectionDroppedMidUploadIsRetriedWithTheSameID() throws {
        var behaviour = FakeHub.Behaviour(welcome: Welcome(maxPayloadBytes: 4096, policyVersion: 1, partner: "cert-a"))
        behaviour.dropUploads = 1
        behaviour.dropAfterChunks = 1
        let hub = try hub(behaviour)
        defer { hub.stop() }
        let file = try directory.file("feed.txt", (1...2000).map { "10.1.\($0 / 250).\($0 % 250)" }.joined(separator: "\n"))
        let result = try push(hub, ["--json", file])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(try result.json()["accepted"] as? Int == 2000)
        #expect(hub.uploadsDropped == 1 && hub.appliedUploads == 1)
        #expect(hub.uploadFrames.filter { $0 == .uploadBegin }.count == 2)
    }

    @Test func strictSendsNothingWhenARecordIsRefusedHereAndStoresNothingWhenTheHubRefusesOne() throws {
        let hub = try hub()
        defer { hub.stop() }
        let local = try directory.file("feed.txt", feed)
        let result = try push(hub, ["--strict", "--json", local])
        #expect(result.status == 1)
        #expect(try result.json()["written"] as? Bool == false)
        #expect(hub.uploadFrames.isEmpty)
        let remote = try directory.file("remote.txt", "198.51.100.1\nbad.example\n")
        let discarded = try push(hub, ["--strict", "--json", remote])
        #expect(discarded.status == 1)
        let report = try discarded.json()
        #expect(report["written"] as? Bool == false)
        #expect(report["upload_number"] is NSNull)
        #expect(hub.appliedUploads == 0)
    }

    @Test func badFilesAreUsageErrorsAndNothingIsSent() throws {
        let hub = try hub()
        defer { hub.stop() }
        let binary = try directory.file("binary.txt", "198.51.100.1\n\u{0}\u{1}")
        #expect(try push(hub, [binary]).status == 2)
        #expect(try push(hub, [directory.path + "/missing.txt"]).status == 2)
        #expect(try push(hub, []).status == 2)
        #expect(hub.uploadFrames.isEmpty)
    }

    @Test func anUnreachableHubExitsThree() throws {
        let file = try directory.file("feed.txt", "198.51.100.1\n")
        let result = try Ihub.run(["push", "--hub", "127.0.0.1:\(try FakeHub.unusedPort())", "--identity", cert, file])
        #expect(result.status == 3)
        #expect(result.stderr.contains("--upload-id"))
    }

    @Test func withdrawByValueAndByUpload() throws {
        let hub = try hub()
        defer { hub.stop() }
        let file = try directory.file("feed.txt", "198.51.100.1\n198.51.100.2\nevil.example\n")
        let pushed = try push(hub, ["--json", file])
        let id = try #require(try pushed.json()["upload_id"] as? String)
        let base = ["withdraw", "--hub", "127.0.0.1:\(hub.port)", "--identity", cert, "--server-name", "hub.example"]
        let byValue = try Ihub.run(base + ["--json", "198.51.100.1", "203.0.113.7", "bad-value"])
        #expect(byValue.status == 1)
        let report = try byValue.json()
        #expect(report["withdrawn"] as? Int == 1)
        #expect(report["not_found"] as? Int == 1)
        #expect(report["refused"] as? Int == 1)
        let errors = try #require(report["errors"] as? [[String: Any]])
        #expect(errors.first?["input"] as? String == "bad-value")
        let byUpload = try Ihub.run(base + ["--upload", id])
        #expect(byUpload.status == 0, "\(byUpload.stderr)")
        #expect(byUpload.stdout.contains("withdrawn 2"))
        #expect(hub.liveValues(of: "cert-a").isEmpty)
        let unknown = try Ihub.run(base + ["--upload", "ffeeddccbbaa99887766554433221100"])
        #expect(unknown.status == 1 && unknown.stderr.contains("unknown_upload"))
        #expect(try Ihub.run(base).status == 2)
    }
}

extension PushCommandTests {
    @Test func revokedSTIXIndicatorsAreWithdrawnAfterTheUpload() throws {
        let hub = try hub()
        defer { hub.stop() }
        let first = try directory.file("first.txt", "198.51.100.1\n198.51.100.2\n")
        #expect(try push(hub, [first]).status == 0)
        let bundle = """
        {"type": "bundle", "id": "bundle--1", "objects": [
          {"type": "indicator", "spec_version": "2.1", "id": "indicator--a", "created": "2026-01-01T00:00:00Z",
           "modified": "2026-01-01T00:00:00Z", "pattern": "[ipv4-addr:value = '198.51.100.3']", "pattern_type": "stix",
           "valid_from": "2026-01-01T00:00:00Z"},
          {"type": "indicator", "spec_version": "2.1", "id": "indicator--b", "created": "2026-01-01T00:00:00Z",
           "modified": "2026-01-02T00:00:00Z", "pattern": "[ipv4-addr:value = '198.51.100.1']", "pattern_type": "stix",
           "valid_from": "2026-01-01T00:00:00Z", "revoked": true}
        ]}
        """
        let file = try directory.file("bundle.json", bundle)
        let result = try push(hub, ["--json", file])
        #expect(result.status == 0, "\(result.stderr) \(result.stdout)")
        let report = try result.json()
        #expect(report["accepted"] as? Int == 1)
        #expect(report["withdrawals"] as? Int == 1)
        #expect(report["withdrawn"] as? Int == 1)
        #expect(hub.liveValues(of: "cert-a") == ["198.51.100.2", "198.51.100.3"])
        #expect(hub.uploadFrames.last == .withdraw)
    }
}
