import Testing
@testable import HubWire
import IndicatorKit

/// A hub's receive path over a byte stream: decoder (handshake limit first), session checks,
/// parser. Returns the messages accepted and the first error.
func hubReceive(_ bytes: [UInt8], chunk: Int = .max) -> (messages: [Message], error: WireError?) {
    var decoder = FrameDecoder()
    var session = ServerSession()
    var messages: [Message] = []
    var pos = 0
    do throws(WireError) {
        while pos < bytes.count {
            let end = min(bytes.count, pos + min(chunk, bytes.count - pos))
            for frame in try decoder.feed(Array(bytes[pos..<end])) {
                try session.admit(frame)
                let message = try Message(frame: frame)
                if case .hello(let hello) = message {
                    _ = try session.accept(hello)
                    decoder.maxPayloadBytes = WireFormat.maxPayloadBytes
                }
                messages.append(message)
            }
            pos = end
        }
        try decoder.finish()
        return (messages, nil)
    } catch {
        return (messages, error)
    }
}

@Suite struct BadInputTests {
    let hello = try! Message.hello(Hello(software: "test")).encoded()

    @Test func garbageBeforeTheHandshakeIsRefusedWithinSixteenBytes() throws {
        // An HTTP request: "GET " is a 542 MB length.
        let http = Array("GET / HTTP/1.1\r\nHost: hub\r\n\r\n".utf8)
        #expect(hubReceive(http).error == .frameTooLarge(length: 0x2054_4547, limit: 4096))
        // A TLS ClientHello sent in the clear (16 03 01 00 c8 01 …): a 66,326-byte length.
        let tls: [UInt8] = [0x16, 0x03, 0x01, 0x00, 0xC8, 0x01, 0x00, 0x00, 0xC4, 0x03, 0x03] + [UInt8](repeating: 0xAB, count: 40)
        #expect(hubReceive(tls).error == .frameTooLarge(length: 0x0001_0316, limit: 4096))
        // Zero bytes: a zero-length frame of type 0.
        #expect(hubReceive([UInt8](repeating: 0, count: 64)).error == .unknownMessageType(0))
        // A well-formed frame of another type first.
        let ping = try Message.ping(Ping(opaque: 3)).encoded()
        #expect(hubReceive(ping + hello).error == .helloRequired(received: .ping))
        #expect(WireError.helloRequired(received: .ping).code == .helloRequired)
        let query = RawQuery().frame().bytes
        #expect(hubReceive(query).error == .helloRequired(received: .query))
        // A HELLO-typed frame without the magic.
        var wrong = hello
        wrong[16] = UInt8(ascii: "X")
        #expect(hubReceive(wrong).error == .badMagic(.hello))
        #expect(hubReceive(RawFrame(type: 1, payload: [1, 2, 3]).bytes).error == .badMagic(.hello))
        // Short garbage: the stream ends inside the header.
        #expect(hubReceive(Array("hi\n".utf8)).error == .truncatedFrame(received: 3, expected: 16))
        // Every error above closes the connection.
        for error in [WireError.badMagic(.hello), .helloRequired(received: .ping), .unknownMessageType(0)] {
            #expect(error.closesConnection && error.errorMessage(requestID: 9).requestID == 0)
        }
    }

    @Test func versionNegotiationPicksTheHighestCommonVersion() {
        #expect(WireFormat.negotiate(client: 1...1, hub: 1...1) == 1)
        #expect(WireFormat.negotiate(client: 1...5, hub: 2...3) == 3)
        #expect(WireFormat.negotiate(client: 3...9, hub: 1...4) == 4)
        #expect(WireFormat.negotiate(client: 2...3, hub: 1...1) == nil)
        var session = ServerSession()
        #expect(wireError { _ = try session.accept(Hello(minVersion: 2, maxVersion: 4, software: "future")) }
            == .unsupportedVersion(clientMin: 2, clientMax: 4, hubMin: 1, hubMax: 1))
        #expect(session.state == .awaitingHello)
        #expect((try? session.accept(Hello(minVersion: 1, maxVersion: 9, software: "newer"))) == 1)
        #expect(session.state == .established(version: 1))
    }

    @Test func malformedHellosAreRefused() {
        func hello(_ payload: [UInt8]) -> WireError? {
            parse(Frame(type: .hello, requestID: 0, payload: payload)).failure
        }
        let magic = WireFormat.magic
        #expect(hello(magic + [0, 0, 1, 0, 1, 0, 0x61]) == .malformedPayload(.hello, .outOfRange(.minVersion, value: 0)))
        #expect(hello(magic + [2, 0, 1, 0, 1, 0, 0x61]) == .malformedPayload(.hello, .outOfRange(.maxVersion, value: 1)))
        #expect(hello(magic + [1, 0, 1, 0, 0, 0]) == .malformedPayload(.hello, .invalidText(.softwareName, .empty)))
        #expect(hello(magic + [1, 0, 1, 0, 1, 1]) == .malformedPayload(.hello, .invalidText(.softwareName, .tooLong(length: 257, limit: 256))))
        #expect(hello(magic + [1, 0, 1, 0, 5, 0, 0x61]) == .malformedPayload(.hello, .truncated(.softwareName, offset: 14, needed: 5, available: 1)))
        #expect(hello(magic + [1, 0, 1, 0, 1, 0, 0x61, 0]) == .malformedPayload(.hello, .trailingBytes(count: 1)))
        #expect(hello(magic + [1, 0, 1, 0, 2, 0, 0xC3, 0x28]) == .malformedPayload(.hello, .invalidText(.softwareName, .invalidUTF8(offset: 0))))
        #expect(hello(magic + [1, 0, 1, 0, 1, 0, 0x1B]) == .malformedPayload(.hello, .invalidText(.softwareName, .controlCharacter(offset: 0))))
        #expect(hello(magic + [1, 0]) == .malformedPayload(.hello, .truncated(.maxVersion, offset: 10, needed: 2, available: 0)))
        #expect(WireError.malformedPayload(.hello, .trailingBytes(count: 1)).code == .malformedPayload)
    }

    @Test func aSecondHelloAndWrongDirectionsCloseTheConnection() throws {
        #expect(hubReceive(hello + hello).error == .unexpectedMessage(.hello, reason: .handshakeRepeated))
        let result = try Message.result(QueryResult(requestID: 1, entries: ResultEntries())).encoded()
        #expect(hubReceive(hello + result).error == .unexpectedMessage(.result, reason: .wrongDirection))
        let welcome = try Message.welcome(Welcome(policyVersion: 1, partner: "p")).encoded()
        #expect(hubReceive(hello + welcome).error == .unexpectedMessage(.welcome, reason: .wrongDirection))
        #expect(WireError.unexpectedMessage(.hello, reason: .handshakeRepeated).code == .unexpectedMessage)
    }

    @Test func aDuplicateRequestIDInFlightClosesTheConnection() throws {
        var session = ServerSession()
        _ = try session.accept(Hello(software: "t"))
        let frame = RawQuery().frame(requestID: 42)
        try session.admit(frame)
        session.begin(42)
        #expect(wireError { try session.admit(frame) } == .duplicateRequestID(42))
        #expect(WireError.duplicateRequestID(42).errorMessage(requestID: 42).requestID == 0)
        session.finish(42)
        try session.admit(frame)  // answered: the id may be used again
        #expect(session.inFlight.isEmpty)
    }

    @Test func aFrameOverTheAdvertisedLimitIsRefused() {
        var decoder = FrameDecoder(maxPayloadBytes: 65_536)
        let frame = RawFrame(length: 65_537, type: MessageType.query.rawValue, requestID: 1)
        #expect(wireError { _ = try decoder.feed(frame.bytes) } == .frameTooLarge(length: 65_537, limit: 65_536))
        #expect(WireError.frameTooLarge(length: 65_537, limit: 65_536).description
            == "frame payload of 65537 bytes is over the limit of 65536 bytes")
    }

    @Test func aBatchOverTheLimitIsRefusedBeforeItsValuesAreRead() {
        var query = RawQuery()
        query.count = 10_001
        query.values = []  // the claimed values are not even there
        #expect(parse(query.frame()).failure == .batchTooLarge(count: 10_001, limit: 10_000))
        query.count = UInt32.max
        #expect(parse(query.frame()).failure == .batchTooLarge(count: Int(UInt32.max), limit: 10_000))
        // A hub may enforce a partner's smaller limit.
        let three = RawQuery(values: [(0, [0x61]), (0, [0x62]), (0, [0x63])])
        #expect(parse(three.frame(), maxBatchValues: 2).failure == .batchTooLarge(count: 3, limit: 2))
        #expect((try? parse(three.frame(), maxBatchValues: 3).get()) != nil)
        let error = WireError.batchTooLarge(count: 3, limit: 2)
        #expect(error.code == .batchTooLarge && !error.closesConnection)
        #expect(error.errorMessage(requestID: 77) == ErrorMessage(requestID: 77, code: .batchTooLarge,
                                                                  reason: "batch of 3 values is over the limit of 2"))
    }

    @Test func anUnknownIndicatorTypeRefusesTheBatch() {
        let query = RawQuery(values: [(6, Array("DE89370400440532013000".utf8)), (14, [0x61]), (99, [0x62])])
        let error = parse(query.frame()).failure
        #expect(error == .unknownIndicatorType(valueIndex: 1, typeByte: 14))
        #expect(error?.code == .unknownIndicatorType && error?.closesConnection == false)
        // Every type byte 0–13 is accepted; 14–255 are not.
        for byte in UInt8.min...UInt8.max {
            let result = parse(RawQuery(values: [(byte, [0x61])]).frame())
            if byte <= 13 {
                #expect((try? result.get()) != nil, "type \(byte)")
            } else {
                #expect(result.failure == .unknownIndicatorType(valueIndex: 0, typeByte: byte))
            }
        }
    }

    @Test func missingRequestFieldsAreRefusedInOrder() {
        var query = RawQuery()
        query.purpose = []
        query.timeZone = []
        #expect(parse(query.frame()).failure == .missingField(.purpose))
        query.purpose = Array("p".utf8)
        #expect(parse(query.frame()).failure == .missingField(.timeZone))
        query = RawQuery()
        query.legalBasis = []
        #expect(parse(query.frame()).failure == .missingField(.legalBasis))
        query = RawQuery()
        query.reference = []
        let error = parse(query.frame()).failure
        #expect(error == .missingField(.reference))
        #expect(error?.code == .missingField && error?.description == "reference is required")
    }

    @Test func invalidRequestFieldsAreRefused() {
        var query = RawQuery()
        query.priority = 3
        #expect(parse(query.frame()).failure == .invalidPriority(3))
        #expect(WireError.invalidPriority(3).code == .invalidField)
        query = RawQuery()
        query.purpose = [UInt8](repeating: 0x61, count: 257)
        #expect(parse(query.frame()).failure == .invalidField(.purpose, .tooLong(length: 257, limit: 256)))
        query = RawQuery()
        query.reference = [0x41, 0xED, 0xA0, 0x80]  // a surrogate
        #expect(parse(query.frame()).failure == .invalidField(.reference, .invalidUTF8(offset: 1)))
        query = RawQuery()
        query.legalBasis = Array("gdpr\t6".utf8)
        #expect(parse(query.frame()).failure == .invalidField(.legalBasis, .controlCharacter(offset: 4)))
        for bad in ["Berlin time", "+15:00", "+01:60", "+1:00", "1Europe", "Europe/Berlin;", "-"] {
            query = RawQuery()
            query.timeZone = Array(bad.utf8)
            #expect(parse(query.frame()).failure == .invalidField(.timeZone, .malformedTimeZone), "\(bad)")
        }
        for good in ["UTC", "Z", "America/Argentina/Buenos_Aires", "Etc/GMT+5", "+14:00", "-09:30", "+00:00"] {
            query = RawQuery()
            query.timeZone = Array(good.utf8)
            #expect((try? parse(query.frame()).get()) != nil, "\(good)")
        }
        // Text in every script is fine where it is not a time zone.
        query = RawQuery()
        query.reference = Array("Aktenzeichen 4711/25 — Überweisung 🚨".utf8)
        #expect((try? parse(query.frame()).get()) != nil)
    }

    @Test func malformedQueryStructureIsRequestLevel() {
        func failure(_ query: RawQuery) -> WireError? { parse(query.frame()).failure }
        #expect(parse(Frame(type: .query, requestID: 1, payload: [0, 0, 0])).failure
            == .malformedPayload(.query, .truncated(.queryHeader, offset: 0, needed: 16, available: 3)))
        var query = RawQuery()
        query.reserved1 = 1
        #expect(failure(query) == .malformedPayload(.query, .reservedNotZero(.queryHeader)))
        query = RawQuery()
        query.reserved2 = 1
        #expect(failure(query) == .malformedPayload(.query, .reservedNotZero(.queryHeader)))
        query = RawQuery()
        query.lengthOverride = [200, 10, 4, 13]
        query.values = []
        #expect(failure(query)?.code == .malformedRequest)
        query = RawQuery()
        query.count = 2  // one value present
        #expect(failure(query) == .malformedPayload(.query, .truncated(.value(1), offset: 16 + 17 + 10 + 4 + 13 + 12, needed: 1, available: 0)))
        query = RawQuery()
        query.count = 0  // the value is left over
        #expect(failure(query) == .malformedPayload(.query, .trailingBytes(count: 12)))
        var truncated = RawQuery().payload
        truncated.removeLast()
        let error = parse(Frame(type: .query, requestID: 1, payload: truncated)).failure
        #expect(error == .malformedPayload(.query, .truncated(.value(0), offset: 63, needed: 9, available: 8)))
        #expect(error?.code == .malformedRequest && error?.closesConnection == false)
        // A type byte past the end: the truncation is reported, not the type.
        #expect(parse(Frame(type: .query, requestID: 1, payload: RawQuery(values: [(99, [1, 2])]).payload.dropLast()))
            .failure?.code == .malformedRequest)
    }

    @Test func valuesTheHubRefusesPerValueStillParse() throws {
        // Empty and over-long values are the hub's per-value refusals, not frame errors.
        let query = RawQuery(values: [(3, []), (4, [UInt8](repeating: 0x61, count: 4097)), (0, [0xFF, 0xFE])])
        let message = try parse(query.frame()).get()
        guard case .query(let batch) = message else { return }
        #expect(batch.values.map(\.bytes.count) == [0, 4097, 2])
    }

    @Test func malformedResultsAreRefused() {
        func result(_ payload: [UInt8], max: Int = 10_000) -> WireError? {
            parse(Frame(type: .result, requestID: 1, payload: payload), maxBatchValues: max).failure
        }
        #expect(result([1, 0, 0, 0, 3]) == .malformedPayload(.result, .outOfRange(.entryStatus(0), value: 3)))
        #expect(result([1, 0, 0, 0, 2, 6]) == .malformedPayload(.result, .outOfRange(.refusalCode(0), value: 6)))
        #expect(result([1, 0, 0, 0, 2, 0]) == .malformedPayload(.result, .outOfRange(.refusalCode(0), value: 0)))
        #expect(result([1, 0, 0, 0, 1, 0x10]) == .malformedPayload(.result, .reservedNotZero(.entryRevealMask(0))))
        #expect(result([1, 0, 0, 0, 1, 1, 13]) == .malformedPayload(.result, .outOfRange(.category(0), value: 13)))
        #expect(result([1, 0, 0, 0, 1, 2, 101]) == .malformedPayload(.result, .outOfRange(.confidence(0), value: 101)))
        #expect(result([1, 0, 0, 0, 1, 8, 3]) == .malformedPayload(.result, .outOfRange(.action(0), value: 3)))
        #expect(result([1, 0, 0, 0, 1, 4, 1, 2, 3]) == .malformedPayload(.result, .truncated(.entry(0), offset: 6, needed: 4, available: 3)))
        #expect(result([2, 0, 0, 0, 0]) == .malformedPayload(.result, .truncated(.entry(1), offset: 5, needed: 1, available: 0)))
        #expect(result([1, 0, 0, 0, 0, 0]) == .malformedPayload(.result, .trailingBytes(count: 1)))
        #expect(result([3, 0, 0, 0, 0, 0, 0], max: 2) == .malformedPayload(.result, .outOfRange(.entryCount, value: 3)))
        #expect(result([0, 0]) == .malformedPayload(.result, .truncated(.entryCount, offset: 0, needed: 4, available: 2)))
        #expect(WireError.malformedPayload(.result, .trailingBytes(count: 1)).closesConnection)
    }

    @Test func malformedWelcomesPingsAndErrorsAreRefused() throws {
        let welcome = try Message.welcome(Welcome(policyVersion: 1, partner: "p")).encoded()
        func welcomeError(_ patch: (inout [UInt8]) -> Void) -> WireError? {
            var payload = Array(welcome.dropFirst(16))
            patch(&payload)
            return parse(Frame(type: .welcome, requestID: 0, payload: payload)).failure
        }
        #expect(welcomeError { $0[0] = 0 } == .badMagic(.welcome))
        #expect(welcomeError { $0[8] = 0 } == .malformedPayload(.welcome, .outOfRange(.version, value: 0)))
        #expect(welcomeError { $0[10] = 0x10 } == .malformedPayload(.welcome, .reservedNotZero(.revealMask)))
        #expect(welcomeError { $0[15] = 1 } == .malformedPayload(.welcome, .outOfRange(.maxPayload, value: 0x0140_0000)))
        #expect(welcomeError { $0[16] = 0; $0[17] = 0 } == .malformedPayload(.welcome, .outOfRange(.maxBatchValues, value: 0)))
        #expect(welcomeError { $0[22] = 1 } == .malformedPayload(.welcome, .outOfRange(.maxInFlight, value: 65_664)))
        #expect(welcomeError { $0[24] = 0; $0[25] = 0 } == .malformedPayload(.welcome, .outOfRange(.idleTimeout, value: 0)))
        #expect(welcomeError { $0[28] |= 1 } == .malformedPayload(.welcome, .reservedNotZero(.allowedTypes)))
        #expect(welcomeError { $0[40] = 0 } == .malformedPayload(.welcome, .invalidText(.partnerName, .empty)))

        #expect(parse(Frame(type: .ping, requestID: 0, payload: [UInt8](repeating: 0, count: 9))).failure
            == .malformedPayload(.ping, .trailingBytes(count: 1)))
        #expect(parse(Frame(type: .pong, requestID: 0, payload: [1])).failure
            == .malformedPayload(.pong, .truncated(.opaqueBytes, offset: 0, needed: 8, available: 1)))
        #expect(parse(Frame(type: .error, requestID: 0, payload: [0, 0, 0, 0])).failure
            == .malformedPayload(.error, .outOfRange(.errorCode, value: 0)))
        #expect(parse(Frame(type: .error, requestID: 3, payload: [1, 0, 0, 0])).failure
            == .requestIDMustBeZero(.error, requestID: 3))
        #expect(parse(Frame(type: .error, requestID: 0, payload: [100, 0, 0, 0])).failure
            == .requestIDRequired(.error))
        #expect(parse(Frame(type: .error, requestID: 0, payload: [1, 0, 0x01, 0x04])).failure
            == .malformedPayload(.error, .invalidText(.reason, .tooLong(length: 1025, limit: 1024))))
        // Unknown codes are kept (the level follows the number).
        let future = try parse(Frame(type: .error, requestID: 0, payload: [99, 0, 0, 0])).get()
        #expect(future == .error(ErrorMessage(code: ErrorCode(rawValue: 99), reason: "")))
    }

    @Test func aHubSessionAcceptsAWholeConversationInAnyChunking() throws {
        let query = try Message.query(QueryBatch(requestID: 1, fields: sampleFields,
                                                 values: try QueryValues([(nil, "evil.example")]))).encoded()
        let ping = try Message.ping(Ping(opaque: 9)).encoded()
        let stream = hello + query + ping + query.prefix(16).map { $0 } + query.dropFirst(16)
        for chunk in [1, 3, 16, 17, 1000] {
            let (messages, error) = hubReceive(stream, chunk: chunk)
            // The second QUERY reuses id 1, but the test session never began it: no duplicate.
            #expect(error == nil, "chunk \(chunk)")
            #expect(messages.map(\.type) == [.hello, .query, .ping, .query])
        }
    }
}

extension Result {
    var failure: Failure? {
        if case .failure(let error) = self { return error }
        return nil
    }
}

/// Malformed feed payloads: each refused with the field named, request-level.
@Suite struct FeedBadInputTests {
    func parse(_ type: MessageType, _ payload: [UInt8]) -> WireError? {
        wireError { _ = try Message(frame: Frame(type: type, requestID: 3, payload: payload)) }
    }

    var beginPayload: [UInt8] {
        var out = sampleUploadID.bytes
        out.appendLE(UInt32(2))
        out += [1, 0]
        out.appendLE(UInt16(1))
        out.appendLE(UInt16(0))
        out.appendLE(UInt16(0))
        return out + [0x6C]
    }

    @Test func uploadBeginFieldsAreCheckedInOrder() throws {
        #expect(parse(.uploadBegin, beginPayload) == nil)
        #expect(parse(.uploadBegin, Array(beginPayload.prefix(27)))
            == .malformedPayload(.uploadBegin, .truncated(.uploadID, offset: 0, needed: 28, available: 27)))
        var zero = beginPayload
        for i in 0..<16 { zero[i] = 0 }
        #expect(parse(.uploadBegin, zero) == .malformedPayload(.uploadBegin, .outOfRange(.uploadID, value: 0)))
        var big = beginPayload
        big.replaceSubrange(16..<20, with: [0x41, 0x42, 0x0F, 0])
        #expect(parse(.uploadBegin, big) == .uploadTooLarge(records: 1_000_001, limit: 1_000_000))
        #expect(parse(.uploadBegin, big)?.code == .uploadTooLarge)
        var empty = beginPayload
        empty.replaceSubrange(16..<20, with: [0, 0, 0, 0])
        #expect(parse(.uploadBegin, empty) == .uploadState(.empty))
        var format = beginPayload
        format[20] = 5
        #expect(parse(.uploadBegin, format) == .malformedPayload(.uploadBegin, .outOfRange(.uploadFormat, value: 5)))
        var flags = beginPayload
        flags[21] = 4
        #expect(parse(.uploadBegin, flags) == .malformedPayload(.uploadBegin, .reservedNotZero(.uploadFlags)))
        var control = beginPayload
        control[28] = 0x07
        #expect(parse(.uploadBegin, control) == .malformedPayload(.uploadBegin, .invalidText(.legalBasis, .controlCharacter(offset: 0))))
        #expect(parse(.uploadBegin, beginPayload + [0]) == .malformedPayload(.uploadBegin, .trailingBytes(count: 1)))
        #expect(parse(.uploadBegin, format)?.code == .malformedRequest)
        #expect(parse(.uploadBegin, format)?.closesConnection == false)
    }

    func chunk(_ records: [[UInt8]], first: UInt32 = 0) -> [UInt8] {
        var out: [UInt8] = []
        out.appendLE(first)
        out.appendLE(UInt32(records.count))
        for record in records { out += record }
        return out
    }

    @Test func recordsAreCheckedFieldByFieldWithUploadWideIndexes() throws {
        let good: [UInt8] = [1, 0x02, 1, 0, 50, 0x61]  // ipv4, confidence 50, value "a"
        #expect(parse(.uploadRecords, chunk([good])) == nil)
        #expect(parse(.uploadRecords, chunk([good, [1, 0x02, 1, 0, 101, 0x61]], first: 7))
            == .malformedPayload(.uploadRecords, .outOfRange(.recordConfidence(8), value: 101)))
        #expect(parse(.uploadRecords, chunk([[1, 0x80, 0, 0]], first: 2))
            == .malformedPayload(.uploadRecords, .reservedNotZero(.recordFields(2))))
        #expect(parse(.uploadRecords, chunk([[1, 0x01, 0, 0, 13]]))
            == .malformedPayload(.uploadRecords, .outOfRange(.recordCategory(0), value: 13)))
        #expect(parse(.uploadRecords, chunk([[1, 0x04, 0, 0, 5]]))
            == .malformedPayload(.uploadRecords, .outOfRange(.recordTLP(0), value: 5)))
        #expect(parse(.uploadRecords, chunk([[1, 0x08, 0, 0, 3]]))
            == .malformedPayload(.uploadRecords, .outOfRange(.recordAction(0), value: 3)))
        #expect(parse(.uploadRecords, chunk([[14, 0, 1, 0, 0x61]], first: 4))
            == .unknownIndicatorType(valueIndex: 4, typeByte: 14))
        #expect(parse(.uploadRecords, chunk([[1, 0x40, 0, 0, 1, 2]]))
            == .malformedPayload(.uploadRecords, .truncated(.recordFields(0), offset: 12, needed: 4, available: 2)))
        #expect(parse(.uploadRecords, chunk([[1, 0, 5, 0, 0x61]]))
            == .malformedPayload(.uploadRecords, .truncated(.record(0), offset: 12, needed: 5, available: 1)))
        #expect(parse(.uploadRecords, chunk([]))
            == .malformedPayload(.uploadRecords, .outOfRange(.recordCount, value: 0)))
        var tooMany: [UInt8] = []
        tooMany.appendLE(UInt32(0))
        tooMany.appendLE(UInt32(10_001))
        #expect(parse(.uploadRecords, tooMany) == .malformedPayload(.uploadRecords, .outOfRange(.recordCount, value: 10_001)))
        #expect(parse(.uploadCommit, [3, 0, 0]) == .malformedPayload(.uploadCommit, .truncated(.recordCount, offset: 0, needed: 4, available: 3)))
        #expect(WireError.malformedPayload(.uploadCommit, .trailingBytes(count: 1)).closesConnection)
    }

    @Test func resultsFromTheHubAreCheckedAndConnectionLevel() throws {
        func result(_ edit: (inout [UInt8]) -> Void) -> WireError? {
            var bytes = try! Message.uploadResult(UploadResult(
                requestID: 3, uploadID: sampleUploadID, uploadNumber: 9, accepted: 1, duplicates: 1, rejected: 2,
                rejections: [Rejection(index: 0, reason: .empty), Rejection(index: 3, reason: .expired)])).encoded()
            bytes.removeFirst(16)
            edit(&bytes)
            return parse(.uploadResult, bytes)
        }
        #expect(result { _ in } == nil)
        #expect(result { $0[20] = 3 } == .malformedPayload(.uploadResult, .reservedNotZero(.resultFlags)))
        #expect(result { $0[20] = 2 } == .malformedPayload(.uploadResult, .outOfRange(.uploadNumber, value: 9)))
        #expect(result { $0[16] = 0 } == .malformedPayload(.uploadResult, .outOfRange(.uploadNumber, value: 0)))
        #expect(result { $0[45] = 0 } == .malformedPayload(.uploadResult, .outOfRange(.rejection(1), value: 0)))
        #expect(result { $0[49] = 8 } == .malformedPayload(.uploadResult, .outOfRange(.rejection(1), value: 8)))
        #expect(result { $0[36] = 3 } == .malformedPayload(.uploadResult, .outOfRange(.counts, value: 3)))
        #expect(result { $0[36] = 3 }?.code == .malformedPayload)
        #expect(result { $0[45] = 4 } == .malformedPayload(.uploadResult, .outOfRange(.rejection(1), value: 4)))
    }

    @Test func withdrawalsAreCheckedLikeQueries() throws {
        #expect(parse(.withdraw, [3, 0, 0, 0]) == .malformedPayload(.withdraw, .outOfRange(.withdrawKind, value: 3)))
        #expect(parse(.withdraw, [2, 0, 0, 0] + [UInt8](repeating: 0, count: 16))
            == .malformedPayload(.withdraw, .outOfRange(.uploadID, value: 0)))
        #expect(parse(.withdraw, [2, 0, 0, 0] + sampleUploadID.bytes) == nil)
        #expect(parse(.withdraw, [1, 0, 0, 0, 0, 0, 0, 0]) == .malformedPayload(.withdraw, .outOfRange(.recordCount, value: 0)))
        #expect(parse(.withdraw, [1, 0, 0, 0, 0x11, 0x27, 0, 0]) == .batchTooLarge(count: 10_001, limit: 10_000))
        #expect(parse(.withdraw, [1, 0, 0, 0, 1, 0, 0, 0, 14, 1, 0, 0x61]) == .unknownIndicatorType(valueIndex: 0, typeByte: 14))
        #expect(parse(.withdraw, [1, 1, 0, 0]) == .malformedPayload(.withdraw, .reservedNotZero(.withdrawKind)))
        #expect(parse(.withdrawResult, [0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 9])
            == .malformedPayload(.withdrawResult, .outOfRange(.rejection(0), value: 9)))
    }
}

extension FeedBadInputTests {
    @Test func uploadBeginTextLengthsAreCheckedBeforeTheReservedBytes() {
        var payload = beginPayload
        payload.replaceSubrange(22..<24, with: [0x2D, 0x01])  // legal basis length 301
        payload[26] = 1                                        // and a reserved byte set
        #expect(parse(.uploadBegin, payload)
            == .malformedPayload(.uploadBegin, .invalidText(.legalBasis, .tooLong(length: 301, limit: 256))))
    }
}
