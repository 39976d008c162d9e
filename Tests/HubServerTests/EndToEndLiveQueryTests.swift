import Foundation
import HubClient
import HubServer
import HubWire
import IndicatorKit
import Testing

/// Acknowledged means visible (docs/LIVE-UPDATES.md, "What a CERT and a partner can rely on"):
/// a partner's query that reaches the hub after an UPLOAD_RESULT or WITHDRAW_RESULT was sent
/// sees the change, through the event loops' matchers over the live state.
@Suite struct EndToEndLiveQueryTests {
    static let value = "phish-listed-upload.example"

    @Test func aBankSeesAnUploadAtOnceAndAWithdrawalAtOnce() throws {
        let hub = try EndToEndHub.withSources()
        defer { hub.stop() }
        let bank = try hub.client(Partner.good)
        let ask = { try bank.query(values: [Self.value], fields: GoodPartner.fields) }
        #expect(try ask() == [.miss], "not listed yet")

        let record = PushRecord(type: .domain, Self.value, fields: UploadFields(category: .phishing, confidence: 85))
        let pushed = try hub.push(Source.a, [record])
        #expect(try #require(pushed.result, "\(pushed)").accepted == 1)
        #expect(try ask() == [.hit(RevealedFields(category: .phishing, confidence: 85))], "visible once acknowledged")
        // A subdomain does not match: the entry does not cover subdomains.
        #expect(try bank.query(values: ["a." + Self.value], fields: GoodPartner.fields) == [.miss])

        let withdrawn = try hub.withdraw(Source.a, values: [Self.value])
        #expect(withdrawn.result?.withdrawn == 1, "\(withdrawn)")
        #expect(try ask() == [.miss], "gone once the withdrawal is acknowledged")

        // Another source's report keeps the value listed when the first withdraws.
        _ = try hub.push(Source.a, [record])
        _ = try hub.push(Source.b, [PushRecord(type: .domain, Self.value, fields: UploadFields(category: .phishing, confidence: 60))])
        _ = try hub.withdraw(Source.a, values: [Self.value])
        #expect(try ask() == [.hit(RevealedFields(category: .phishing, confidence: 60))], "source b still reports it")
    }
}
