import Testing
@testable import HubWire
import IndicatorKit

@Suite struct SessionTests {
    let offered = Hello(minVersion: 1, maxVersion: 2, software: "client")
    let welcome = Welcome(version: 1, policyVersion: 3, partner: "bank-north")

    func established() throws -> ClientSession {
        var session = ClientSession()
        try session.admit(Frame(type: .welcome, requestID: 0, payload: []))
        try session.accept(welcome, offered: offered)
        return session
    }

    func query(_ id: UInt64, values: Int) throws -> QueryBatch {
        var batch = QueryValues()
        for i in 0..<values { try batch.append("192.0.2.\(i)", type: .ipv4) }
        return QueryBatch(requestID: id, fields: sampleFields, values: batch)
    }

    @Test func beforeWelcomeOnlyWelcomeOrErrorMayArrive() throws {
        let session = ClientSession()
        try session.admit(Frame(type: .error, requestID: 0, payload: []))
        #expect(wireError { try session.admit(Frame(type: .ping, requestID: 0, payload: [])) }
            == .unexpectedMessage(.ping, reason: .beforeWelcome))
        #expect(wireError { try session.admit(Frame(type: .result, requestID: 1, payload: [])) }
            == .unexpectedMessage(.result, reason: .beforeWelcome))
    }

    @Test func aWelcomeOutsideTheOfferedRangeIsRefused() {
        var session = ClientSession()
        var bad = welcome
        bad.version = 3
        #expect(wireError { try session.accept(bad, offered: offered) }
            == .malformedPayload(.welcome, .outOfRange(.version, value: 3)))
        #expect(session.state == .awaitingWelcome)
    }

    @Test func resultsAnswerRequestsInFlightInAnyOrder() throws {
        var session = try established()
        #expect(session.state == .established(welcome))
        try session.send(try query(1, values: 2))
        try session.send(try query(2, values: 1))
        #expect(wireError { try session.send(try query(1, values: 1)) } == .duplicateRequestID(1))
        // Request 2 is answered first.
        try session.admit(Frame(type: .result, requestID: 2, payload: []))
        try session.receive(QueryResult(requestID: 2, entries: ResultEntries([.miss])))
        #expect(wireError { try session.admit(Frame(type: .result, requestID: 2, payload: [])) }
            == .unexpectedMessage(.result, reason: .notInFlight(2)))
        #expect(wireError { try session.receive(QueryResult(requestID: 1, entries: ResultEntries([.miss]))) }
            == .unexpectedMessage(.result, reason: .countMismatch(expected: 2, received: 1)))
        #expect(session.inFlight.isEmpty)
    }

    @Test func requestLevelErrorsAnswerTheirRequest() throws {
        var session = try established()
        try session.send(try query(5, values: 1))
        let refusal = ErrorMessage(requestID: 5, code: .purposeNotAllowed, reason: "no")
        try session.admit(Frame(type: .error, requestID: 5, payload: []))
        session.receive(refusal)
        #expect(session.inFlight.isEmpty)
        #expect(wireError { try session.admit(Frame(type: .error, requestID: 5, payload: [])) }
            == .unexpectedMessage(.error, reason: .notInFlight(5)))
        try session.admit(Frame(type: .error, requestID: 0, payload: []))
    }

    @Test func aClientRefusesMessagesOnlyItSends() throws {
        let session = try established()
        #expect(wireError { try session.admit(Frame(type: .query, requestID: 1, payload: [])) }
            == .unexpectedMessage(.query, reason: .wrongDirection))
        #expect(wireError { try session.admit(Frame(type: .hello, requestID: 0, payload: [])) }
            == .unexpectedMessage(.hello, reason: .wrongDirection))
        #expect(wireError { try session.admit(Frame(type: .welcome, requestID: 0, payload: [])) }
            == .unexpectedMessage(.welcome, reason: .handshakeRepeated))
        try session.admit(Frame(type: .ping, requestID: 0, payload: []))
    }

    @Test func allowedTypesAreABitmask() {
        let set = IndicatorTypeSet([.email, .iban, .phone])
        #expect(set.rawValue == 0xE0)
        #expect(set.contains(.iban) && !set.contains(.ipv4))
        #expect(set.types == [.email, .iban, .phone])
        #expect(IndicatorTypeSet(rawValue: 1) == nil)
        #expect(IndicatorTypeSet(rawValue: 1 << 14) == nil)
        #expect(IndicatorTypeSet.all.rawValue == 0x3FFE)
    }
}

/// Upload and withdrawal state on both sides (docs/PROTOCOL.md, "Order and state rules").
@Suite struct UploadSessionTests {
    func hub() throws -> ServerSession {
        var session = ServerSession(versions: 1...2)
        _ = try session.accept(Hello(minVersion: 1, maxVersion: 2, software: "c"))
        return session
    }

    func begin(_ id: UInt64, records: UInt32 = 3) -> UploadBegin {
        UploadBegin(requestID: id, uploadID: sampleUploadID, recordCount: records)
    }

    func chunk(_ id: UInt64, first: UInt32, count: Int) throws -> UploadRecords {
        var records = UploadRecords(requestID: id, firstIndex: first)
        for i in 0..<count { try records.append("192.0.2.\(i)", type: .ipv4) }
        return records
    }

    func frame(_ type: MessageType, _ id: UInt64) -> Frame { Frame(type: type, requestID: id, payload: []) }

    @Test func aVersionOneHubRefusesFeedMessages() throws {
        var session = ServerSession()
        #expect(try session.accept(Hello(minVersion: 1, maxVersion: 2, software: "c")) == 1)
        #expect(wireError { try session.admit(frame(.uploadBegin, 1)) } == .messageTypeNotInVersion(.uploadBegin, version: 1))
        var decoder = FrameDecoder(maxPayloadBytes: WireFormat.maxPayloadBytes)
        let bytes = try Message.uploadCommit(UploadCommit(requestID: 1, recordCount: 1)).encoded()
        #expect(wireError { _ = try decoder.feed(bytes) } == .messageTypeNotInVersion(.uploadCommit, version: 1))
        #expect(WireError.messageTypeNotInVersion(.uploadCommit, version: 1).code == .unknownMessageType)
    }

    @Test func anUploadRunsBeginRecordsCommitFinish() throws {
        var session = try hub()
        try session.admit(frame(.uploadBegin, 4))
        try session.open(begin(4))
        #expect(session.openUploads == 1)
        try session.admit(frame(.uploadRecords, 4))
        #expect(try session.receive(chunk(4, first: 0, count: 2)))
        #expect(try session.receive(chunk(4, first: 2, count: 1)))
        try session.admit(frame(.uploadCommit, 4))
        #expect(try session.commit(UploadCommit(requestID: 4, recordCount: 3)))
        #expect(session.openUploads == 0 && session.inFlight == [4])
        // Committed: further chunks for it are not an open upload.
        #expect(wireError { try session.admit(frame(.uploadRecords, 4)) }
            == .unexpectedMessage(.uploadRecords, reason: .notAnOpenUpload(4)))
        session.finish(4)
        #expect(session.inFlight.isEmpty && session.uploads.isEmpty)
    }

    @Test func orderAndCountBreachesAreUploadStateAndRefuseTheUpload() throws {
        var session = try hub()
        try session.open(begin(1))
        #expect(wireError { _ = try session.receive(chunk(1, first: 1, count: 1)) }
            == .uploadState(.chunkOutOfOrder(expected: 0, received: 1)))
        #expect(session.uploads[1] == .refused(answered: false))
        // The server answered the ERROR; later chunks are dropped, the COMMIT frees the id.
        session.finish(1)
        try session.admit(frame(.uploadRecords, 1))
        #expect(try session.receive(chunk(1, first: 1, count: 1)) == false)
        #expect(session.inFlight == [1])
        #expect(try session.commit(UploadCommit(requestID: 1, recordCount: 3)) == false)
        #expect(session.inFlight.isEmpty && session.uploads.isEmpty)

        try session.open(begin(2, records: 2))
        #expect(wireError { _ = try session.receive(chunk(2, first: 0, count: 3)) }
            == .uploadState(.overDeclared(declared: 2, received: 3)))
        session.finish(2)
        _ = try session.commit(UploadCommit(requestID: 2, recordCount: 2))

        try session.open(begin(3, records: 2))
        _ = try session.receive(chunk(3, first: 0, count: 1))
        #expect(wireError { _ = try session.commit(UploadCommit(requestID: 3, recordCount: 2)) }
            == .uploadState(.commitMismatch(declared: 2, received: 1, committed: 2)))
        session.finish(3)  // the ERROR after the COMMIT frees the id at once
        #expect(session.inFlight.isEmpty)
    }

    /// A COMMIT that overtakes its upload's refusal (the ERROR still waits for its audit
    /// record) does not free the id: reusing it before the ERROR is a duplicate, and the
    /// ERROR's `finish` frees it — it must not end another request that took the id.
    @Test func aRefusedUploadsIdStaysInFlightUntilItsErrorIsSent() throws {
        var session = try hub()
        try session.open(begin(7))
        #expect(wireError { _ = try session.receive(chunk(7, first: 2, count: 1)) }
            == .uploadState(.chunkOutOfOrder(expected: 0, received: 2)))
        try session.admit(frame(.uploadCommit, 7))
        #expect(try session.commit(UploadCommit(requestID: 7, recordCount: 3)) == false)
        #expect(session.inFlight == [7] && session.openUploads == 0)
        #expect(wireError { try session.admit(frame(.query, 7)) } == .duplicateRequestID(7))
        #expect(wireError { try session.admit(frame(.uploadCommit, 7)) }
            == .unexpectedMessage(.uploadCommit, reason: .notAnOpenUpload(7)))
        session.finish(7)  // the refusal's ERROR is sent
        #expect(session.inFlight.isEmpty && session.uploads.isEmpty)
        try session.admit(frame(.query, 7))  // now the id may be reused
        session.begin(7)
        #expect(session.inFlight == [7])

        // Refused at UPLOAD_BEGIN (too many open), COMMIT before the ERROR: the same.
        try session.open(begin(8))
        #expect(wireError { try session.open(begin(9)) } == .uploadState(.tooManyOpen(limit: 1)))
        #expect(try session.commit(UploadCommit(requestID: 9, recordCount: 3)) == false)
        #expect(session.inFlight == [7, 8, 9])
        session.finish(9)
        #expect(session.inFlight == [7, 8])
    }

    @Test func oneUploadMayBeOpenAndIdsStayUnique() throws {
        var session = try hub()
        try session.open(begin(1))
        try session.admit(frame(.query, 2))  // queries interleave freely
        #expect(wireError { try session.admit(frame(.uploadBegin, 1)) } == .duplicateRequestID(1))
        #expect(wireError { try session.open(begin(5)) } == .uploadState(.tooManyOpen(limit: 1)))
        #expect(session.uploads[5] == .refused(answered: false) && session.inFlight == [1, 5])
        #expect(wireError { try session.admit(frame(.uploadCommit, 9)) }
            == .unexpectedMessage(.uploadCommit, reason: .notAnOpenUpload(9)))
        #expect(wireError { try session.admit(frame(.uploadResult, 1)) }
            == .unexpectedMessage(.uploadResult, reason: .wrongDirection))
    }

    @Test func theClientTracksUploadsAndWithdrawals() throws {
        var client = ClientSession()
        try client.admit(Frame(type: .welcome, requestID: 0, payload: []))
        try client.accept(Welcome(version: 2, policyVersion: 1, partner: "cert-a"),
                          offered: Hello(minVersion: 1, maxVersion: 2, software: "c"))
        try client.send(begin(1))
        #expect(wireError { try client.send(begin(2)) } == .uploadState(.tooManyOpen(limit: 1)))
        // An UPLOAD_RESULT before the COMMIT breaks the protocol; an ERROR may come any time.
        #expect(wireError { try client.admit(frame(.uploadResult, 1)) }
            == .unexpectedMessage(.uploadResult, reason: .wrongAnswer(1)))
        try client.send(UploadCommit(requestID: 1, recordCount: 3))
        try client.admit(frame(.uploadResult, 1))
        client.receive(UploadResult(requestID: 1, uploadID: sampleUploadID, uploadNumber: 1, accepted: 3,
                                    duplicates: 0, rejected: 0))
        #expect(client.uploads.isEmpty)
        // Refused before its COMMIT: the id stays until the COMMIT is sent.
        try client.send(begin(3))
        try client.admit(frame(.error, 3))
        client.receive(ErrorMessage(requestID: 3, code: .operationNotAllowed, reason: "role bank"))
        #expect(wireError { try client.admit(frame(.uploadResult, 3)) }
            == .unexpectedMessage(.uploadResult, reason: .notInFlight(3)))
        #expect(wireError { try client.send(begin(3)) } == .duplicateRequestID(3))
        try client.send(UploadCommit(requestID: 3, recordCount: 3))
        #expect(client.uploads.isEmpty)
        try client.send(WithdrawRequest(requestID: 4, target: .upload(sampleUploadID)))
        try client.admit(frame(.withdrawResult, 4))
        #expect(wireError { try client.admit(frame(.withdrawResult, 5)) }
            == .unexpectedMessage(.withdrawResult, reason: .notInFlight(5)))
    }
}
