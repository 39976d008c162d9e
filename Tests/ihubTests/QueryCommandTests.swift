import FakeHub
import Foundation
import HubWire
import Testing

/// `ihub query` against the fake hub of Tests/FakeHub (batches of 3, 2 in flight, answers in
/// reverse order): output shape, exit statuses and error messages.
@Suite struct QueryCommandTests {
    let pki: FakePKI
    let identity: String

    init() throws {
        pki = try FakePKI()
        identity = try pki.issue("bank-a")
    }

    func query(_ port: UInt16, _ extra: [String], stdin: String? = nil, identity: String? = nil) throws -> Ihub.Result {
        try Ihub.run(["query", "--hub", "127.0.0.1:\(port)", "--identity", identity ?? self.identity,
                      "--purpose", "payment-screening", "--legal-basis", "gdpr-6-1-f", "--ref", "TX-1",
                      "--time-zone", "Europe/Berlin"] + extra, stdin: stdin)
    }

    @Test func jsonLinesInInputOrderWithRevealedFields() throws {
        let hub = try FakeHub(context: try pki.serverContext())
        defer { hub.stop() }
        let result = try query(hub.port, ["--json", "--type", "domain", "hit.example", "miss.example", "bad..example"])
        #expect(result.status == 1, "one value refused")
        let lines = try result.jsonLines()
        #expect(lines.count == 3)
        #expect(lines[0]["input"] as? String == "hit.example")
        #expect(lines[0]["type"] as? String == "domain")
        #expect(lines[0]["match"] as? Bool == true)
        #expect(lines[0]["category"] as? String == "phishing")
        #expect(lines[0]["confidence"] as? Int == 90)
        #expect(lines[0]["expires"] as? String == "2026-01-01T00:00:00Z")
        #expect(lines[0]["action"] as? String == "block")
        #expect(lines[1]["input"] as? String == "miss.example")
        #expect(lines[1]["match"] as? Bool == false)
        #expect(lines[1]["category"] == nil)
        let error = try #require(lines[2]["error"] as? [String: Any])
        #expect(lines[2]["input"] as? String == "bad..example")
        #expect(error["code"] as? String == "invalid_value")
        #expect((error["reason"] as? String)?.isEmpty == false)
        #expect(lines[2]["match"] == nil)
    }

    @Test func valuesFromStandardInputAllAnsweredExitZero() throws {
        let hub = try FakeHub(context: try pki.serverContext())
        defer { hub.stop() }
        let values = (0..<50).map { $0 % 5 == 0 ? "hit-\($0).example" : "m\($0).example" }
        let result = try query(hub.port, ["--json", "--batch", "2", "-"], stdin: values.joined(separator: "\n") + "\n")
        #expect(result.status == 0, "\(result.stderr)")
        let lines = try result.jsonLines()
        #expect(lines.map { $0["input"] as? String } == values)
        #expect(lines.map { $0["match"] as? Bool } == values.map { $0.hasPrefix("hit") })
        #expect(hub.queriesReceived == 25)
    }

    @Test func tableOutput() throws {
        let hub = try FakeHub(context: try pki.serverContext())
        defer { hub.stop() }
        let result = try query(hub.port, ["hit.example", "192.0.2.1"])
        #expect(result.status == 0)
        #expect(result.lines.count == 3)
        #expect(result.lines[0].hasPrefix("INPUT"))
        #expect(result.lines[1].contains("HIT") && result.lines[1].contains("phishing"))
        #expect(result.lines[2].contains("ipv4") && result.lines[2].contains("miss"))
    }

    @Test func refusedBatchPrintsCodeAndReasonOnStderr() throws {
        var behaviour = FakeHub.Behaviour()
        behaviour.refuse = { _ in ErrorMessage(code: .purposeNotAllowed, reason: "purpose 'payment-screening' is not allowed for partner bank-a") }
        let hub = try FakeHub(context: try pki.serverContext(), behaviour: behaviour)
        defer { hub.stop() }
        let result = try query(hub.port, ["--json", "a.example", "b.example"])
        #expect(result.status == 1)
        #expect(result.stderr.contains("purpose_not_allowed: purpose 'payment-screening' is not allowed for partner bank-a"))
        let lines = try result.jsonLines()
        #expect(lines.count == 2)
        let error = try #require(lines[0]["error"] as? [String: Any])
        #expect(error["code"] as? String == "purpose_not_allowed")
    }

    @Test func nothingListeningExitsThree() throws {
        let result = try query(try FakeHub.unusedPort(), ["a.example"])
        #expect(result.status == 3)
        #expect(result.stderr.contains("cannot connect to 127.0.0.1"))
        #expect(result.stdout.isEmpty)
    }

    @Test func revokedIdentityExitsThreeWithTheTLSReason() throws {
        try pki.revoke("bank-a")
        let hub = try FakeHub(context: try pki.serverContext())
        defer { hub.stop() }
        let result = try query(hub.port, ["a.example"])
        #expect(result.status == 3)
        #expect(result.stderr.contains("certificate revoked"), "\(result.stderr)")
    }

    @Test func identityOfAnotherHubExitsThree() throws {
        let other = try FakePKI()
        let stranger = try other.issue("bank-a")
        let hub = try FakeHub(context: try pki.serverContext())
        defer { hub.stop() }
        let result = try query(hub.port, ["a.example"], identity: stranger)
        #expect(result.status == 3)
        #expect(result.stderr.contains("TLS"), "\(result.stderr)")
    }

    @Test func missingIdentityFilesExitTwoAndAreNamed() throws {
        try FileManager.default.removeItem(atPath: identity + "/partner.crt")
        let result = try query(1, ["a.example"])
        #expect(result.status == 2)
        #expect(result.stderr.contains("partner.crt"))
    }

    @Test func usageErrorsExitTwo() throws {
        let missingPurpose = try Ihub.run(["query", "--hub", "127.0.0.1:1", "--identity", identity,
                                           "--legal-basis", "l", "--ref", "r", "x"])
        #expect(missingPurpose.status == 2)
        #expect(missingPurpose.stderr.contains("--purpose"))
        #expect(try query(1, ["--priority", "asap", "x"]).status == 2)
        #expect(try query(1, ["--batch", "0", "x"]).status == 2)
        #expect(try query(1, ["--time-zone", "not a zone", "x"]).stderr.contains("time"))
        #expect(try query(1, []).status == 2)
        let badHub = try Ihub.run(["query", "--hub", "localhost", "--identity", identity, "--purpose", "p",
                                   "--legal-basis", "l", "--ref", "r", "x"])
        #expect(badHub.status == 2)
        #expect(badHub.stderr.contains("HOST:PORT"))
    }
}
