/// The client's side of one connection's protocol state: the handshake, the requests in flight
/// (with their value counts) and the checks a client makes on what the hub sends. Pure: the
/// client library feeds it frames and registers the QUERYs it sends.
public struct ClientSession: Sendable {
    public enum State: Equatable, Sendable {
        case awaitingWelcome
        case established(Welcome)
    }

    public private(set) var state: State = .awaitingWelcome
    /// Request id → value count of each QUERY sent and not yet answered.
    public private(set) var inFlight: [UInt64: Int] = [:]

    public init() {}

    /// Checks a decoded frame against the state, before its payload is parsed: before WELCOME
    /// only WELCOME or ERROR may arrive; afterwards no HELLO, QUERY or second WELCOME, and a
    /// RESULT must answer a request in flight.
    public func admit(_ frame: Frame) throws(WireError) {
        switch state {
        case .awaitingWelcome:
            guard frame.type == .welcome || frame.type == .error else {
                throw .unexpectedMessage(frame.type, reason: .beforeWelcome)
            }
        case .established:
            switch frame.type {
            case .hello, .query: throw .unexpectedMessage(frame.type, reason: .wrongDirection)
            case .welcome: throw .unexpectedMessage(.welcome, reason: .handshakeRepeated)
            case .result:
                if inFlight[frame.requestID] == nil {
                    throw .unexpectedMessage(.result, reason: .notInFlight(frame.requestID))
                }
            case .error:
                if frame.requestID != 0 && inFlight[frame.requestID] == nil {
                    throw .unexpectedMessage(.error, reason: .notInFlight(frame.requestID))
                }
            case .ping, .pong: break
            }
        }
    }

    /// Records the hub's WELCOME; throws when its version is outside what the client offered.
    public mutating func accept(_ welcome: Welcome, offered: Hello) throws(WireError) {
        precondition(state == .awaitingWelcome, "WELCOME accepted twice")
        guard (offered.minVersion...offered.maxVersion).contains(welcome.version) else {
            throw .malformedPayload(.welcome, .outOfRange(.version, value: UInt64(welcome.version)))
        }
        state = .established(welcome)
    }

    /// A QUERY is about to be sent; throws `duplicateRequestID` when its id is in flight.
    public mutating func send(_ query: QueryBatch) throws(WireError) {
        guard inFlight[query.requestID] == nil else { throw .duplicateRequestID(query.requestID) }
        inFlight[query.requestID] = query.values.count
    }

    /// A parsed RESULT answers its request; throws when its entry count differs from the QUERY's.
    public mutating func receive(_ result: QueryResult) throws(WireError) {
        guard let expected = inFlight.removeValue(forKey: result.requestID) else {
            throw .unexpectedMessage(.result, reason: .notInFlight(result.requestID))
        }
        if result.entries.count != expected {
            throw .unexpectedMessage(.result, reason: .countMismatch(expected: expected, received: result.entries.count))
        }
    }

    /// A request-level ERROR answers its request.
    public mutating func receive(_ error: ErrorMessage) {
        if error.requestID != 0 { inFlight.removeValue(forKey: error.requestID) }
    }
}
