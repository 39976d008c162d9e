import Testing
@testable import HubWire
import IndicatorKit

/// The worked examples of docs/PROTOCOL.md (made by scripts/wire-examples.py, an independent
/// implementation): each decodes to the message the document describes and re-encodes to the
/// same bytes.
@Suite struct GoldenExampleTests {
    static let expected: [Message] = [
        .hello(Hello(minVersion: 1, maxVersion: 1, software: "ihub-client/0.3")),
        .welcome(Welcome(version: 1, reveal: [.category, .confidence], maxPayloadBytes: 4_194_304,
                         maxBatchValues: 10_000, maxInFlight: 128, idleTimeoutSeconds: 300,
                         allowedTypes: IndicatorTypeSet([.email, .iban, .phone]), policyVersion: 42,
                         partner: "bank-north")),
        .query(QueryBatch(requestID: 7, fields: RequestFields(
            purpose: "payment-screening", legalBasis: "gdpr-6-1-f", reference: "TX-20250611-0042",
            priority: .urgent, timeZone: "Europe/Berlin"),
            values: try! QueryValues([(.iban, "DE89370400440532013000"), (nil, "192.0.2.44")]))),
        .result(QueryResult(requestID: 7, entries: ResultEntries([
            .hit(RevealedFields(category: .muleAccount, confidence: 90, expires: 1_767_225_600, action: .block)),
            .miss,
        ]))),
        .ping(Ping(opaque: 0x0807_0605_0403_0201)),
        .error(ErrorMessage(requestID: 8, code: .purposeNotAllowed,
                            reason: "purpose 'marketing' is not allowed for partner bank-north")),
    ]

    @Test func documentExamplesDecodeAndReencodeByteForByte() throws {
        let examples = try documentExamples()
        try #require(examples.count == Self.expected.count)
        for (bytes, message) in zip(examples, Self.expected) {
            // The first frame of a connection is read under the handshake limit.
            let decoded = try Message(bytes: bytes, maxPayloadBytes: WireFormat.handshakePayloadLimit)
            #expect(decoded == message)
            #expect(try decoded.encoded() == bytes, "\(message.type) re-encodes differently")
            #expect(try message.encoded() == bytes, "\(message.type) encodes differently")
        }
    }

    @Test func theQueryExampleIsTwoValuesInOrder() throws {
        let bytes = try documentExamples()[2]
        guard case .query(let batch) = try Message(bytes: bytes) else {
            Issue.record("not a query")
            return
        }
        #expect(batch.values.map(\.type) == [.iban, nil])
        #expect(batch.values.map { String(decoding: $0.bytes, as: UTF8.self) } == ["DE89370400440532013000", "192.0.2.44"])
        #expect(bytes.count == 16 + 110)
    }

    @Test func aPongEchoesThePingExample() throws {
        let ping = try documentExamples()[4]
        guard case .ping(let p) = try Message(bytes: ping) else {
            Issue.record("not a ping")
            return
        }
        var pong = ping
        pong[4] = MessageType.pong.rawValue
        #expect(try Message.pong(Pong(answering: p)).encoded() == pong)
    }
}
