/// The hub's side of one connection's protocol state (docs/PROTOCOL.md, "Connection
/// lifecycle" and "Request ids, pipelining and ordering"): what may arrive when, version
/// negotiation, and the request ids in flight. Pure: the server feeds it each decoded frame
/// and tells it when a request has been answered.
public struct ServerSession: Sendable {
    public enum State: Equatable, Sendable {
        case awaitingHello
        case established(version: UInt16)
    }

    public private(set) var state: State = .awaitingHello
    /// Requests parsed and not yet answered.
    public private(set) var inFlight: Set<UInt64> = []
    /// The versions this hub speaks.
    public let versions: ClosedRange<UInt16>

    public init(versions: ClosedRange<UInt16> = WireFormat.minVersion...WireFormat.maxVersion) {
        self.versions = versions
    }

    /// Checks a decoded frame against the connection's state, before its payload is parsed:
    /// the first frame must be HELLO; after it, no HELLO, WELCOME or RESULT may arrive, and a
    /// QUERY must not reuse an id in flight. Every error here closes the connection.
    public func admit(_ frame: Frame) throws(WireError) {
        switch state {
        case .awaitingHello:
            guard frame.type == .hello else { throw .helloRequired(received: frame.type) }
        case .established:
            switch frame.type {
            case .hello: throw .unexpectedMessage(.hello, reason: .handshakeRepeated)
            case .welcome, .result: throw .unexpectedMessage(frame.type, reason: .wrongDirection)
            case .query:
                if inFlight.contains(frame.requestID) { throw .duplicateRequestID(frame.requestID) }
            case .ping, .pong, .error: break
            }
        }
    }

    /// Negotiates the version for a parsed HELLO and completes the handshake (the server then
    /// sends WELCOME with this version, and raises its decoder's limit).
    public mutating func accept(_ hello: Hello) throws(WireError) -> UInt16 {
        precondition(state == .awaitingHello, "HELLO accepted twice")
        guard let version = WireFormat.negotiate(client: hello.minVersion...hello.maxVersion, hub: versions) else {
            throw .unsupportedVersion(clientMin: hello.minVersion, clientMax: hello.maxVersion,
                                      hubMin: versions.lowerBound, hubMax: versions.upperBound)
        }
        state = .established(version: version)
        return version
    }

    /// A parsed QUERY is being answered (after `admit` checked its id).
    public mutating func begin(_ requestID: UInt64) {
        let (inserted, _) = inFlight.insert(requestID)
        precondition(inserted && requestID != 0, "request \(requestID) begun twice")
    }

    /// The request's RESULT or ERROR has been sent.
    public mutating func finish(_ requestID: UInt64) {
        precondition(inFlight.remove(requestID) != nil, "request \(requestID) was not in flight")
    }
}

extension WireFormat {
    /// The version both sides speak: the highest in both ranges, or nil when they do not overlap.
    public static func negotiate(client: ClosedRange<UInt16>, hub: ClosedRange<UInt16>) -> UInt16? {
        let version = min(client.upperBound, hub.upperBound)
        return version >= max(client.lowerBound, hub.lowerBound) ? version : nil
    }
}
