import Foundation
import HubAudit
import HubClient
import HubServer
import HubWire
import IndicatorKit
import IndicatorStore
import Testing

/// Uploads over the real mutual-TLS hub (docs/PROTOCOL.md, "Uploads (version 2)"): counts and
/// per-record refusals, the source's defaults, retries, strict uploads, who may upload.
@Suite struct EndToEndUploadTests {
    /// Nine records: two stored, one duplicate, six refused for six different reasons.
    static let records: [PushRecord] = [
        PushRecord(type: .ipv4, "198.51.100.7", fields: UploadFields(category: .c2, confidence: 80)),
        PushRecord(type: .domain, "evil-upload.example"),
        PushRecord(type: nil, "not-an-indicator"),
        PushRecord(type: .iban, Listed.unlistedIBAN),
        PushRecord(type: nil, "EVIL-UPLOAD.example"),
        PushRecord(type: .url, "hxxp://phish-upload.example/login"),
        PushRecord(type: .ipv4, "198.51.100.8", fields: UploadFields(expires: 1000)),
        PushRecord(type: .domain, "spam-upload.example", fields: UploadFields(category: .spam)),
        PushRecord(type: .ipv4, "010.1.1.1"),
    ]
    static let rejections = [
        Rejection(index: 2, reason: .unrecognised), Rejection(index: 3, reason: .typeNotAllowed),
        Rejection(index: 5, reason: .looksDefanged), Rejection(index: 6, reason: .expired),
        Rejection(index: 7, reason: .typeNotAllowed), Rejection(index: 8, reason: .invalidValue),
    ]

    @Test func anUploadIsCountedCheckedAndVisible() throws {
        let hub = try EndToEndHub.withSources()
        defer { hub.stop() }
        #expect(try hub.client(Source.a).welcome.version == 2)
        let outcome = try hub.push(Source.a, Self.records)
        let result = try #require(outcome.result, "\(outcome)")
        #expect(!result.alreadyApplied && !result.discarded && result.uploadNumber >= 1)
        #expect(result.accepted == 2 && result.duplicates == 1 && result.rejected == 6)
        #expect(result.rejections == Self.rejections)

        let now = UInt32(Date().timeIntervalSince1970)
        let ip = try #require(try hub.lookup("198.51.100.7"))
        #expect(ip.category == .c2 && ip.confidence == 80 && ip.tlp == .amber && ip.action == .block)
        let domain = try #require(try hub.lookup("evil-upload.example"))
        #expect(domain.category == .malware && domain.confidence == 70)
        // The policy's time to live: 30 days, counted in whole UTC days.
        let ttl = UInt32(Source.defaultTTLDays * 86_400)
        #expect(domain.expires > now + ttl - 86_400 && domain.expires <= now + ttl)
        #expect(domain.firstSeenDay == UInt16(now / 86_400))
        for refused in ["198.51.100.8", "spam-upload.example"] { #expect(try hub.lookup(refused) == nil) }
        #expect(hub.server.shared.feeds?.uploadsInProgress == 0)
    }

    @Test func aRetryIsAnsweredWithTheFirstAnswerAndOtherContentIsRefused() throws {
        let hub = try EndToEndHub.withSources()
        defer { hub.stop() }
        let id = UploadID.random()
        let first = try #require(try hub.push(Source.a, Self.records, id: id).result)
        // The same records in another order are the same content.
        let again = try #require(try hub.push(Source.a, Self.records.reversed(), id: id).result)
        #expect(again.alreadyApplied && again.uploadNumber == first.uploadNumber)
        #expect(again.accepted == first.accepted && again.duplicates == first.duplicates && again.rejected == first.rejected)
        #expect(again.rejections.isEmpty)
        #expect(hub.server.live.receipt(of: id)?.uploadNumber == first.uploadNumber)

        let other = [PushRecord(type: .ipv4, "192.0.2.200")]
        #expect(try hub.push(Source.a, other, id: id).refusalCode == .uploadIDReused)
        // Another source, same id and even the same content: refused, and nothing applied.
        #expect(try hub.push(Source.b, Self.records, id: id).refusalCode == .uploadIDReused)
        #expect(try hub.push(Source.b, other, id: id).refusalCode == .uploadIDReused)
        #expect(try hub.lookup("192.0.2.200") == nil)
        // A new id applies anew.
        let next = try #require(try hub.push(Source.a, other).result)
        #expect(next.uploadNumber > first.uploadNumber && next.accepted == 1)
        #expect(try hub.lookup("192.0.2.200") != nil)
    }

    @Test func aStrictUploadWithRefusalsStoresNothing() throws {
        let hub = try EndToEndHub.withSources()
        defer { hub.stop() }
        let result = try #require(try hub.push(Source.a, Self.records, flags: .strict).result)
        #expect(result.discarded && result.uploadNumber == 0 && !result.alreadyApplied)
        #expect(result.rejected == 6 && result.rejections == Self.rejections)
        #expect(try hub.lookup("198.51.100.7") == nil && hub.lookup("evil-upload.example") == nil)
        // A clean strict upload is stored.
        let clean = try #require(try hub.push(Source.a, Array(Self.records.prefix(2)), flags: .strict).result)
        #expect(!clean.discarded && clean.accepted == 2)
        #expect(try hub.lookup("198.51.100.7") != nil)
    }

    @Test func aDefangedUploadIsRefanged() throws {
        let hub = try EndToEndHub.withSources()
        defer { hub.stop() }
        let records = [PushRecord(type: .url, "hxxp://phish-upload[.]example/login"), PushRecord(type: nil, "bad[.]example")]
        let result = try #require(try hub.push(Source.a, records, flags: .defanged).result)
        #expect(result.accepted == 2 && result.rejected == 0)
        #expect(try hub.lookup("http://phish-upload.example/login") != nil)
        #expect(try hub.lookup("bad.example") != nil)
    }

    @Test func onlyACertWithAnUploadPolicyMayUpload() throws {
        let hub = try EndToEndHub.withSources()
        defer { hub.stop() }
        let records = [PushRecord(type: .ipv4, "192.0.2.201")]
        let client = try hub.client(Partner.good)  // a bank certificate
        defer { client.close() }
        #expect(client.welcome.version == 2)
        #expect(try client.push(records: records, uploadID: .random(), legalBasis: "x").refusalCode == .operationNotAllowed)
        // The connection is fine afterwards (the COMMIT freed the id).
        var good = GoodPartner(client: client)
        good.check("after a refused upload")
        #expect(try hub.push(Source.noUpload, records).refusalCode == .operationNotAllowed)
        // The policy's other rules: a required legal basis, max_records.
        #expect(try hub.push(Source.a, records, legalBasis: "").refusalCode == .missingField)
        let many = (0..<1001).map { PushRecord(type: .ipv4, "10.0.\($0 / 256).\($0 % 256)") }
        #expect(try hub.push(Source.a, many).refusalCode == .uploadTooLarge)
        // Free text that is an indicator never reaches the audit trail.
        #expect(try hub.push(Source.a, records, reference: "192.0.2.201").refusalCode == .invalidField)
        #expect(try hub.lookup("192.0.2.201") == nil)
        hub.stop()
        let trail = try hub.audit()
        let uploads = trail.records.filter { $0.line.contains(#""kind":"upload""#) }
        #expect(uploads.count == 5 && uploads.allSatisfy { $0.decision == "refused" })
        #expect(!contains(trail.bytes, "192.0.2.201"))
    }
}

extension GoodPartner {
    /// The good partner's checks on an existing connection.
    init(client: HubClient) {
        self.client = client
    }
}
