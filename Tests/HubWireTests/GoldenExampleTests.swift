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
        // Version 2.
        .uploadBegin(UploadBegin(requestID: 9, uploadID: exampleUploadID, recordCount: 3, format: .csv,
                                 legalBasis: "nis2-art-29", reference: "CERT-2026-0815")),
        .uploadRecords(exampleRecords),
        .uploadCommit(UploadCommit(requestID: 9, recordCount: 3)),
        .uploadResult(UploadResult(requestID: 9, uploadID: exampleUploadID, uploadNumber: 4711, accepted: 2,
                                   duplicates: 0, rejected: 1, rejections: [Rejection(index: 2, reason: .unrecognised)])),
        .withdraw(WithdrawRequest(requestID: 10, reference: "CERT-2026-0815",
                                  target: .values(try! QueryValues([(.domain, "evil.example"), (.ipv4, "192.0.2.999")])))),
        .withdrawResult(WithdrawResult(requestID: 10, withdrawn: 1, notFound: 0,
                                       refusals: [Rejection(index: 1, reason: .invalidValue)])),
        .withdraw(WithdrawRequest(requestID: 11, target: .upload(exampleUploadID))),
    ]

    static let exampleUploadID = UploadID(hex: "0f1e2d3c4b5a69788796a5b4c3d2e1f0")!

    static var exampleRecords: UploadRecords {
        var records = UploadRecords(requestID: 9, firstIndex: 0)
        try! records.append("198.51.100.7", type: .ipv4,
                            fields: UploadFields(category: .c2, confidence: 80, expires: 1_798_761_600))
        try! records.append("evil.example", type: .domain, fields: UploadFields(action: .warn))
        try! records.append("not-an-indicator", type: nil)
        return records
    }

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

extension GoldenExampleTests {
    @Test func theUploadExampleRecordsReadBackWithTheirFields() throws {
        guard case .uploadRecords(let chunk) = try Message(bytes: try documentExamples()[7]) else {
            Issue.record("not UPLOAD_RECORDS")
            return
        }
        let records = Array(chunk)
        #expect(records.map(\.type) == [.ipv4, .domain, nil])
        #expect(records.map { String(decoding: $0.value, as: UTF8.self) } == ["198.51.100.7", "evil.example", "not-an-indicator"])
        #expect(records[0].fields == UploadFields(category: .c2, confidence: 80, expires: 1_798_761_600))
        #expect(records[1].fields == UploadFields(action: .warn))
        #expect(records[2].fields == .none)
    }

    @Test func versionTwoExamplesAreUnknownOnAVersionOneConnection() throws {
        for bytes in try documentExamples()[6...] {
            #expect(wireError { _ = try Message(bytes: bytes, version: 1) } == .messageTypeNotInVersion(
                MessageType(rawValue: bytes[4])!, version: 1))
        }
    }
}
