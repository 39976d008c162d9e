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
