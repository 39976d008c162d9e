import Foundation
import HubClient
import HubTLS
import HubWire
import IndicatorKit
import Testing

/// Requests the hub refuses one at a time (docs/PROTOCOL.md, codes 100 and above): the refused
/// batch gets a request-level ERROR with its own id, is audited (before the ERROR is sent) as
/// refused with its code, and the connection — and every other partner — carries on.
@Suite struct EndToEndRequestTests {
    /// The audit record of `partner`'s request `id`, read from disk now (while the hub runs).
    static func record(_ hub: EndToEndHub, _ partner: String, _ id: UInt64) throws -> AuditTrail.Record? {
        try AuditTrail(directory: hub.data + "/audit").of(partner).first { $0.requestID == id }
    }

    /// Expects a request-level ERROR `code` for request `id` on an open connection, and its
    /// audit record already on disk.
    static func expectRefusal(_ client: RawClient, _ hub: EndToEndHub, partner: String, id: UInt64, _ code: ErrorCode,
                              sourceLocation: SourceLocation = #_sourceLocation) throws {
        let (message, event) = client.nextMessage()
        guard case .error(let error) = message else {
            Issue.record("expected ERROR \(code.name) for request \(id), got \(event)", sourceLocation: sourceLocation)
            return
        }
        #expect(error.code == code, "reason: \(error.reason)", sourceLocation: sourceLocation)
        #expect(error.requestID == id, sourceLocation: sourceLocation)
        #expect(!error.code.closesConnection, sourceLocation: sourceLocation)
        #expect(!error.reason.isEmpty, sourceLocation: sourceLocation)
        // Audited before the answer was sent: the record is on disk by the time we read it.
        let record = try Self.record(hub, partner, id)
        #expect(record?.decision == "refused", sourceLocation: sourceLocation)
        #expect(record?.code == code.name, sourceLocation: sourceLocation)
        #expect(record?.hits == 0, sourceLocation: sourceLocation)
    }

    /// Expects a RESULT for request `id` and returns its entries.
    static func expectResult(_ client: RawClient, id: UInt64, sourceLocation: SourceLocation = #_sourceLocation) -> [ResultEntry] {
        let (message, event) = client.nextMessage()
        guard case .result(let result) = message else {
            Issue.record("expected RESULT for request \(id), got \(event)", sourceLocation: sourceLocation)
            return []
        }
        #expect(result.requestID == id, sourceLocation: sourceLocation)
        return Array(result.entries)
    }

    @Test func batchOverThePartnersMaxBatchIsRefusedAlone() throws {
        let hub = try EndToEndHub()
        var good = try GoodPartner(hub)
        let client = try RawClient(port: hub.port, context: try hub.context(Partner.small))
        let welcome = try client.hello()
        #expect(welcome.maxBatchValues == 3)  // the policy's max_batch, advertised
        try client.send(try RawFrames.query(id: 1, Array(repeating: (IndicatorType.iban, Listed.iban), count: 4)))
        try Self.expectRefusal(client, hub, partner: Partner.small, id: 1, .batchTooLarge)
        good.check("after an oversized batch")
        // The same connection goes on: a batch within the limit is answered.
        try client.send(try RawFrames.query(id: 2, Array(repeating: (IndicatorType.iban, Listed.iban), count: 3)))
        #expect(Self.expectResult(client, id: 2) == Array(repeating: .hit(RevealedFields(category: .fraud, confidence: 90)), count: 3))
        let trail = try finish(hub, good: good)
        #expect(trail.of(Partner.small).map(\.code) == ["batch_too_large", ""])
    }

    @Test func unknownIndicatorTypeCodeRefusesTheBatch() throws {
        let hub = try EndToEndHub()
        var good = try GoodPartner(hub)
        let client = try RawClient(port: hub.port, context: try hub.context(Partner.small))
        _ = try client.hello()
        for (id, typeByte) in [(UInt64(1), UInt8(14)), (2, 0x80), (3, 0xFF)] {
            try client.send(try RawFrames.query(id: id, typeByte: typeByte, value: Listed.iban))
            try Self.expectRefusal(client, hub, partner: Partner.small, id: id, .unknownIndicatorType)
        }
        good.check("after unknown indicator types")
        try client.send(try RawFrames.query(id: 4, [(.iban, Listed.unlistedIBAN)]))
        #expect(Self.expectResult(client, id: 4) == [.miss])
        let trail = try finish(hub, good: good)
        #expect(trail.of(Partner.small).map(\.code) == ["unknown_indicator_type", "unknown_indicator_type",
                                                         "unknown_indicator_type", ""])
    }

    @Test func overRateIsRefusedUntilTokensReturn() throws {
        let hub = try EndToEndHub()
        var good = try GoodPartner(hub)
        let client = try hub.client(Partner.rate)
        let four = Array(repeating: Listed.unlistedIBAN, count: 4)
        // The burst of 4 is spent by the first batch; the second needs 4 more tokens (4 s).
        #expect(try client.query(values: four, type: .iban, fields: GoodPartner.fields) == Array(repeating: .miss, count: 4))
        let limited = try client.query(values: four, type: .iban, fields: GoodPartner.fields)
        guard case .batchRefused(let code, let reason) = limited.first else {
            Issue.record("expected rate_limited, got \(limited)")
            return
        }
        #expect(code == .rateLimited)
        #expect(!reason.isEmpty)
        good.check("while another partner is rate limited")
        // One token returns within a second: a one-value batch is answered again (bounded wait).
        var answered = false
        #expect(waitUntil(timeout: 5) {
            answered = (try? client.query(values: [Listed.iban], type: .iban, fields: GoodPartner.fields))
                == [.hit(RevealedFields(category: .fraud, confidence: 90))]
            return answered
        }, "the rate never let a batch through again")
        good.check("after the rate recovered")
        let trail = try finish(hub, good: good)
        let codes = trail.of(Partner.rate).map(\.code)
        #expect(codes.first == "" && codes.dropFirst().first == "rate_limited" && codes.last == "")
        #expect(trail.of(Partner.rate).filter { $0.code == "rate_limited" }.allSatisfy { $0.values == 4 || $0.values == 1 })
    }

    @Test func overDailyQuotaIsRefusedAndConsumesNothing() throws {
        let hub = try EndToEndHub()
        var good = try GoodPartner(hub)
        let client = try hub.client(Partner.quota)
        func ask(_ count: Int) throws -> [Answer] {
            try client.query(values: Array(repeating: Listed.unlistedIBAN, count: count), type: .iban, fields: GoodPartner.fields)
        }
        #expect(try ask(3) == Array(repeating: .miss, count: 3))                 // 3 of 5 used
        #expect(try ask(3).first.map(Self.code) == .quotaExceeded)               // 3 more do not fit…
        #expect(try ask(2) == Array(repeating: .miss, count: 2))                 // …2 do: a refusal consumed nothing
        #expect(try ask(1).first.map(Self.code) == .quotaExceeded)               // the day's quota is used up
        good.check("while another partner is over its quota")
        let trail = try finish(hub, good: good)
        #expect(trail.of(Partner.quota).map(\.code) == ["", "quota_exceeded", "", "quota_exceeded"])
    }

    static func code(_ answer: Answer) -> ErrorCode? {
        if case .batchRefused(let code, _) = answer { return code }
        return nil
    }

    /// The rule both documents state (docs/POLICY.md step 7, docs/PROTOCOL.md "QUERY"): a
    /// *declared* type outside the policy refuses the whole batch (`type_not_allowed`, 204) —
    /// the partner asked for something it may not; a *detected* type outside the policy
    /// refuses only that value (per-value `type_not_allowed`, 5), even when the store lists it.
    @Test func declaredTypeOutsideThePolicyRefusesTheBatchDetectedOnlyTheValue() throws {
        let hub = try EndToEndHub()
        var good = try GoodPartner(hub)
        let client = try RawClient(port: hub.port, context: try hub.context(Partner.small))
        let welcome = try client.hello()
        #expect(welcome.allowedTypes == IndicatorTypeSet([.iban, .email]))

        try client.send(try RawFrames.query(id: 1, [(.iban, Listed.iban), (.phone, "+4930123456")]))
        try Self.expectRefusal(client, hub, partner: Partner.small, id: 1, .typeNotAllowed)

        // Detected: a listed domain and a phone number, next to a listed IBAN.
        try client.send(try RawFrames.query(id: 2, [(nil, Listed.iban), (nil, Listed.domain), (nil, "+4930123456")]))
        #expect(Self.expectResult(client, id: 2) == [.hit(RevealedFields(category: .fraud, confidence: 90)),
                                                     .refused(.typeNotAllowed), .refused(.typeNotAllowed)])
        // Through the client library, the same.
        let library = try hub.client(Partner.small)
        #expect(try library.query(values: ["+4930123456"], type: .phone, fields: GoodPartner.fields).first.map(Self.code)
                == .typeNotAllowed)
        #expect(try library.query(values: ["+4930123456", Listed.unlistedIBAN], fields: GoodPartner.fields)
                == [.refused(.typeNotAllowed), .miss])
        good.check("after type refusals")
        let trail = try finish(hub, good: good)
        let records = trail.of(Partner.small)
        #expect(records.map(\.code) == ["type_not_allowed", "", "type_not_allowed", ""])
        let detected = try #require(records.first { $0.requestID == 2 })
        #expect(detected.decision == "accepted" && detected.hits == 1)
        #expect(detected.refusedValues == ["type_not_allowed": 2])
        #expect(detected.counts == ["domain": 1, "iban": 1, "phone": 1])
    }
}
