import Foundation
import HubAudit
import HubClient
import HubServer
import HubWire
import IndicatorKit
import Testing

/// Withdrawals (docs/PROTOCOL.md, "Withdrawals (version 2)") and what the audit trail and the
/// data directory keep of uploads.
@Suite struct EndToEndWithdrawTests {
    @Test func aSourceWithdrawsOnlyItsOwnReports() throws {
        let hub = try EndToEndHub.withSources()
        defer { hub.stop() }
        let shared = PushRecord(type: .domain, "shared-report.example", fields: UploadFields(confidence: 90))
        let onlyA = PushRecord(type: .ipv4, "198.51.100.70")
        let uploadA = UploadID.random()
        _ = try #require(try hub.push(Source.a, [shared, onlyA], id: uploadA).result)
        let uploadB = UploadID.random()
        _ = try #require(try hub.push(Source.b, [PushRecord(type: .domain, "shared-report.example",
                                                            fields: UploadFields(category: .phishing, confidence: 95))],
                                      id: uploadB).result)
        #expect(try hub.lookup("shared-report.example")?.category == .phishing)  // B's is the most confident

        // B withdraws its report of the shared value: A's stays, with A's metadata.
        let byValue = try #require(try hub.withdraw(Source.b, values: ["shared-report.example", "198.51.100.70", "010.0.0.1"]).result)
        #expect(byValue.withdrawn == 1 && byValue.notFound == 1)
        #expect(byValue.refusals == [Rejection(index: 2, reason: .invalidValue)])
        let entry = try #require(try hub.lookup("shared-report.example"))
        #expect(entry.category == .malware && entry.confidence == 90)
        #expect(try hub.lookup("198.51.100.70") != nil)

        // B cannot withdraw A's upload, and cannot tell it exists.
        #expect(try hub.withdraw(Source.b, upload: uploadA).refusalCode == .unknownUpload)
        #expect(try hub.withdraw(Source.b, upload: .random()).refusalCode == .unknownUpload)
        // A may not… when its policy says so; a cert without an upload section neither.
        #expect(try hub.withdraw(Source.noWithdraw, values: ["shared-report.example"]).refusalCode == .operationNotAllowed)
        #expect(try hub.withdraw(Source.noUpload, upload: uploadA).refusalCode == .operationNotAllowed)
        #expect(try hub.withdraw(Partner.good, values: ["shared-report.example"]).refusalCode == .operationNotAllowed)

        // A withdraws its whole upload: nothing is left.
        let byUpload = try #require(try hub.withdraw(Source.a, upload: uploadA).result)
        #expect(byUpload.withdrawn == 2 && byUpload.notFound == 0)
        #expect(try hub.lookup("shared-report.example") == nil && hub.lookup("198.51.100.70") == nil)
        // Withdrawing again finds nothing: naturally idempotent.
        #expect(try hub.withdraw(Source.a, values: ["shared-report.example"]).result?.notFound == 1)
    }

    @Test func theAuditTrailHoldsUploadsAndNoRawValueIsKeptAnywhere() throws {
        let hub = try EndToEndHub.withSources()
        let values = ["198.51.100.80", "secret-upload.example", "http://secret-upload.example/path-9xq",
                      "hxxp://defanged-secret[.]example/x", "not-an-indicator-zq"]
        let records = values.map { PushRecord(type: nil, $0) }
        let id = UploadID.random()
        let result = try #require(try hub.push(Source.a, records, id: id, reference: "TICKET-4711").result)
        #expect(result.accepted == 3 && result.rejected == 2)
        _ = try #require(try hub.push(Source.a, records, id: id, reference: "TICKET-4711").result)  // already applied
        _ = try #require(try hub.withdraw(Source.a, values: [values[0]]).result)
        _ = try #require(try hub.withdraw(Source.a, upload: id).result)
        hub.stop()

        let trail = try hub.audit()  // verifies the chain
        let uploads = trail.records.filter { $0.line.contains(#""kind":"upload""#) }
        let withdrawals = trail.records.filter { $0.line.contains(#""kind":"withdraw""#) }
        #expect(uploads.count == 2 && withdrawals.count == 2)
        let first = try #require(uploads.first)
        #expect(first.partner == Source.a && first.decision == "accepted" && first.values == 5 && first.hits == 0)
        #expect(first.refusedValues == ["looks_defanged": 1, "unrecognised": 1])
        #expect(first.line.contains(#""upload_id":"\#(id.hex)","upload_number":\#(result.uploadNumber),"format":"csv""#))
        #expect(first.line.contains(#""reference":"TICKET-4711""#) && first.line.contains(#""legal_basis":"nis2-art-11""#))
        #expect(first.line.contains(#""already_applied":false"#) && uploads[1].line.contains(#""already_applied":true"#))
        #expect(first.line.contains(#""hit_digests":[]"#))
        #expect(withdrawals[1].line.contains(#""target":"upload""#))

        // Principle 1: no raw value in any file of the data directory, nor in the log.
        let files = allBytes(under: hub.data)
        let log = Array(hub.log.all.joined(separator: "\n").utf8)
        for value in values + ["secret-upload", "defanged-secret", "198.51.100"] {
            #expect(!contains(files, value), "a file under the data directory holds \(value)")
            #expect(!contains(log, value), "the log holds \(value)")
        }
        #expect(hub.log.lines("upload").count == 2 && hub.log.lines("withdraw").count == 2)
    }
}
