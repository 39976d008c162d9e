import Testing
@testable import HubWire
import IndicatorKit

@Suite struct MessageRoundTripTests {
    @Test func everyMessageRoundTrips() throws {
        for message in try sampleMessages() {
            let bytes = try message.encoded()
            #expect(bytes.count == (try message.encodedCount()))
            let decoded = try Message(bytes: bytes)
            #expect(decoded == message, "\(message.type)")
            #expect(try decoded.encoded() == bytes)
        }
    }

    @Test func encodingAppendsAndWritesIntoCallerMemory() throws {
        let messages = try sampleMessages()
        var stream: [UInt8] = [0xAA]
        for message in messages { try message.encode(into: &stream) }
        #expect(stream.first == 0xAA)
        var decoder = FrameDecoder(maxPayloadBytes: WireFormat.maxPayloadBytes, version: WireFormat.maxVersion)
        let frames = try decoder.feed(Array(stream.dropFirst()))
        #expect(try frames.map { try Message(frame: $0) } == messages)

        for message in messages {
            let count = try message.encodedCount()
            var buffer = [UInt8](repeating: 0xEE, count: count + 3)
            let written = try buffer.withUnsafeMutableBytes { (raw) throws(WireError) in try message.encode(into: raw) }
            #expect(written == count)
            #expect(Array(buffer[0..<count]) == (try message.encoded()))
            #expect(buffer[count...].allSatisfy { $0 == 0xEE })
        }
    }

    @Test func parsedQueryValuesAreViewsInOrder() throws {
        let message = try #require(try sampleMessages().first { $0.type == .query })
        guard case .query(let batch) = try Message(bytes: try message.encoded()) else {
            Issue.record("not a query")
            return
        }
        #expect(batch.fields == sampleFields)
        let values = Array(batch.values)
        #expect(values.count == 5)
        #expect(values[0] == QueryValue(type: .iban, bytes: ArraySlice("DE89370400440532013000".utf8)))
        #expect(values[1].type == nil && Array(values[1].bytes) == Array("192.0.2.44".utf8))
        #expect(values[2].type == .domain && values[2].bytes.isEmpty)
        #expect(values[3].bytes.count == 5000)
        #expect(Array(values[4].bytes) == [0xFF, 0x00, 0xC0])

        var seen: [(Int, IndicatorType?, [UInt8])] = []
        batch.values.forEachValue { index, type, bytes in seen.append((index, type, Array(bytes))) }
        #expect(seen.map(\.0) == [0, 1, 2, 3, 4])
        #expect(seen.map(\.1) == values.map(\.type))
        #expect(seen.map(\.2) == values.map { Array($0.bytes) })
    }

    @Test func resultEntriesDecodeToWhatWasAppended() throws {
        let entries: [ResultEntry] = [
            .miss, .hit(.none), .refused(.typeNotAllowed), .refused(.unrecognised), .refused(.invalidValue),
            .hit(RevealedFields(category: .hijacked, confidence: 100, expires: .max, action: .warn)),
            .hit(RevealedFields(confidence: 0)),
        ]
        let message = Message.result(QueryResult(requestID: 5, entries: ResultEntries(entries)))
        guard case .result(let result) = try Message(bytes: try message.encoded()) else {
            Issue.record("not a result")
            return
        }
        #expect(Array(result.entries) == entries)
        // A miss is one byte; the fully revealed hit nine.
        #expect(try message.encodedCount() == 16 + 4 + 1 + 2 + 2 + 2 + 2 + 9 + 3)
    }

    @Test func revealedFieldsFollowTheMask() {
        let metadata = EntryMetadata(category: .phishing, confidence: 70, action: .warn, expires: 99)
        #expect(RevealedFields(metadata, revealing: []) == .none)
        #expect(RevealedFields(metadata, revealing: .all)
            == RevealedFields(category: .phishing, confidence: 70, expires: 99, action: .warn))
        #expect(RevealedFields(metadata, revealing: [.confidence]).mask == [.confidence])
    }

    @Test func largeBatchRoundTripsAtTheLimit() throws {
        var values = QueryValues()
        values.reserveCapacity(values: WireFormat.maxBatchValues, averageBytes: 12)
        for i in 0..<WireFormat.maxBatchValues { try values.append("10.0.\(i / 256).\(i % 256)", type: .ipv4) }
        let message = Message.query(QueryBatch(requestID: 77, fields: sampleFields, values: values))
        let decoded = try Message(bytes: try message.encoded())
        #expect(decoded == message)
        guard case .query(let batch) = decoded else { return }
        var last: [UInt8] = []
        batch.values.forEachValue { index, type, bytes in
            #expect(type == .ipv4)
            if index == WireFormat.maxBatchValues - 1 { last = Array(bytes) }
        }
        #expect(last == Array("10.0.39.15".utf8))
    }

    @Test func theEncoderRefusesWhatTheParserWould() {
        func encodeError(_ message: Message) -> WireError? { wireError { _ = try message.encoded() } }
        var fields = sampleFields
        fields.purpose = ""
        #expect(encodeError(.query(QueryBatch(requestID: 1, fields: fields, values: QueryValues())))
            == .missingField(.purpose))
        fields = sampleFields
        fields.timeZone = "Berlin time"
        #expect(encodeError(.query(QueryBatch(requestID: 1, fields: fields, values: QueryValues())))
            == .invalidField(.timeZone, .malformedTimeZone))
        fields = sampleFields
        fields.reference = String(repeating: "x", count: 257)
        #expect(encodeError(.query(QueryBatch(requestID: 1, fields: fields, values: QueryValues())))
            == .invalidField(.reference, .tooLong(length: 257, limit: 256)))
        #expect(encodeError(.query(QueryBatch(requestID: 0, fields: sampleFields, values: QueryValues())))
            == .requestIDRequired(.query))
        #expect(encodeError(.hello(Hello(software: ""))) == .malformedPayload(.hello, .invalidText(.softwareName, .empty)))
        #expect(encodeError(.hello(Hello(minVersion: 2, maxVersion: 1, software: "x")))
            == .malformedPayload(.hello, .outOfRange(.maxVersion, value: 1)))
        #expect(encodeError(.error(ErrorMessage(requestID: 4, code: .malformedFrame, reason: "x")))
            == .requestIDMustBeZero(.error, requestID: 4))
        #expect(encodeError(.error(ErrorMessage(code: .serverBusy, reason: "x"))) == .requestIDRequired(.error))
        #expect(encodeError(.error(ErrorMessage(code: .revoked, reason: "a\nb")))
            == .malformedPayload(.error, .invalidText(.reason, .controlCharacter(offset: 1))))
        #expect(encodeError(.welcome(Welcome(maxBatchValues: 10_001, policyVersion: 1, partner: "p")))
            == .malformedPayload(.welcome, .outOfRange(.maxBatchValues, value: 10_001)))

        var values = QueryValues()
        #expect(wireError { try values.append([UInt8](repeating: 1, count: 65_536), type: nil) }
            == .malformedPayload(.query, .outOfRange(.value(0), value: 65_536)))
        #expect(values.isEmpty)
        // 65,535 bytes is the most a value can carry; 1,000 of those are over the 4 MiB frame.
        for _ in 0..<65 { try? values.append([UInt8](repeating: 1, count: 65_535), type: nil) }
        #expect(encodeError(.query(QueryBatch(requestID: 1, fields: sampleFields, values: values)))
            == .frameTooLarge(length: 16 + 17 + 10 + 16 + 13 + 65 * 65_538, limit: WireFormat.maxPayloadBytes))
    }

    @Test func errorReasonsAreCutToTheLimitAtACharacterBoundary() throws {
        let reason = ErrorMessage.truncatedReason(String(repeating: "€", count: 400) + "\u{7}")
        #expect(reason.utf8.count == 1023)  // 341 × 3 bytes
        let long = WireError.unknownIndicatorType(valueIndex: 3, typeByte: 99).errorMessage(requestID: 12)
        #expect(long.requestID == 12 && long.code == .unknownIndicatorType)
        #expect(try Message(bytes: try Message.error(long).encoded()) == .error(long))
        let connection = WireError.frameTooLarge(length: 5, limit: 4).errorMessage(requestID: 12)
        #expect(connection.requestID == 0 && connection.code == .frameTooLarge)
    }

    @Test func errorCodesAreUniqueAndFollowTheLevelRule() {
        #expect(Set(ErrorCode.known).count == ErrorCode.known.count)
        #expect(Set(ErrorCode.known.map(\.name)).count == ErrorCode.known.count)
        #expect(ErrorCode.known.allSatisfy { !$0.name.hasPrefix("error_") })
        #expect(ErrorCode.malformedFrame.closesConnection && ErrorCode.shuttingDown.closesConnection)
        #expect(!ErrorCode.malformedRequest.closesConnection && !ErrorCode.internalError.closesConnection)
        #expect(ErrorCode(rawValue: 4242).name == "error_4242")
        #expect(ValueRefusal(IndicatorError.tooLong(limit: 4096)) == .tooLong)
        #expect(ValueRefusal.allCases.map(\.name) == ["empty", "too_long", "unrecognised", "invalid_value", "type_not_allowed"])
    }

    @Test func everyErrorCodeIsInTheDocumentTable() throws {
        let document = try protocolDocument()
        for code in ErrorCode.known {
            #expect(document.contains("| \(code.rawValue) | `\(code.name)` |"), "\(code) missing from docs/PROTOCOL.md")
        }
        for refusal in ValueRefusal.allCases {
            #expect(document.contains("| \(refusal.rawValue) | `\(refusal.name)` |"))
        }
    }
}
