/// The hub's side of one connection's protocol state (docs/PROTOCOL.md, "Connection
/// lifecycle", "Request ids, pipelining and ordering" and "Uploads"): what may arrive when,
/// version negotiation, the request ids in flight and the state of each upload. Pure: the
/// server feeds it each decoded frame and tells it when a request has been answered.
public struct ServerSession: Sendable {
    public enum State: Equatable, Sendable {
        case awaitingHello
        case established(version: UInt16)
    }

    /// Where an upload (by its request id) stands.
    public enum UploadProgress: Equatable, Sendable {
        /// UPLOAD_BEGIN accepted; `received` of `declared` records have arrived.
        case receiving(declared: Int, received: Int)
        /// Refused with a request-level ERROR before its COMMIT: later UPLOAD_RECORDS are
        /// discarded, and the id stays in flight until the COMMIT has arrived; `answered`: the
        /// ERROR has been sent (`finish`).
        case refused(answered: Bool)
        /// COMMIT received; the id is free once the answer has been sent (`finish`): the hub is
        /// applying the upload, or the COMMIT followed a refusal whose ERROR is still pending.
        case committed
    }

    public private(set) var state: State = .awaitingHello
    /// Requests (queries, uploads, withdrawals) parsed and not yet finished.
    public private(set) var inFlight: Set<UInt64> = []
    /// The uploads among them.
    public private(set) var uploads: [UInt64: UploadProgress] = [:]
    /// The versions this hub speaks. The default is version 1 only: version 2 adds uploads, and
    /// a hub offers it only once it can apply them (`ServerSession(versions: 1...2)`).
    public let versions: ClosedRange<UInt16>

    public init(versions: ClosedRange<UInt16> = WireFormat.minVersion...WireFormat.minVersion) {
        self.versions = versions
    }

    /// The negotiated version (0 before HELLO).
    public var version: UInt16 {
        if case .established(let version) = state { return version }
        return 0
    }

    /// Uploads between UPLOAD_BEGIN and UPLOAD_COMMIT.
    public var openUploads: Int {
        uploads.values.reduce(0) { count, progress in
            switch progress {
            case .receiving, .refused: return count + 1
            case .committed: return count
            }
        }
    }

    /// Checks a decoded frame against the connection's state, before its payload is parsed:
    /// the first frame must be HELLO; after it, no HELLO or hub message may arrive, a new
    /// request must not reuse an id in flight, and UPLOAD_RECORDS and UPLOAD_COMMIT must name an
    /// open upload. Every error here closes the connection.
    public func admit(_ frame: Frame) throws(WireError) {
        switch state {
        case .awaitingHello:
            guard frame.type == .hello else { throw .helloRequired(received: frame.type) }
        case .established(let version):
            if frame.type.sinceVersion > version { throw .messageTypeNotInVersion(frame.type, version: version) }
            switch frame.type {
            case .hello: throw .unexpectedMessage(.hello, reason: .handshakeRepeated)
            case .welcome, .result, .uploadResult, .withdrawResult:
                throw .unexpectedMessage(frame.type, reason: .wrongDirection)
            case .query, .uploadBegin, .withdraw:
                if inFlight.contains(frame.requestID) { throw .duplicateRequestID(frame.requestID) }
            case .uploadRecords, .uploadCommit:
                switch uploads[frame.requestID] {
                case .receiving?, .refused?: break
                case .committed?, nil: throw .unexpectedMessage(frame.type, reason: .notAnOpenUpload(frame.requestID))
                }
            case .ping, .pong, .error: break
            }
        }
    }

    /// Negotiates the version for a parsed HELLO and completes the handshake (the server then
    /// sends WELCOME with this version, raises its decoder's limit and sets its version).
    public mutating func accept(_ hello: Hello) throws(WireError) -> UInt16 {
        precondition(state == .awaitingHello, "HELLO accepted twice")
        guard let version = WireFormat.negotiate(client: hello.minVersion...hello.maxVersion, hub: versions) else {
            throw .unsupportedVersion(clientMin: hello.minVersion, clientMax: hello.maxVersion,
                                      hubMin: versions.lowerBound, hubMax: versions.upperBound)
        }
        state = .established(version: version)
        return version
    }

    /// A parsed QUERY or WITHDRAW is being answered (after `admit` checked its id).
    public mutating func begin(_ requestID: UInt64) {
        let (inserted, _) = inFlight.insert(requestID)
        precondition(inserted && requestID != 0, "request \(requestID) begun twice")
    }

    /// A parsed UPLOAD_BEGIN opens its upload. Its id is in flight from now on, whatever
    /// happens; when this throws (too many uploads open: `upload_state`), the server answers
    /// the ERROR and the upload is `refused` until its COMMIT.
    public mutating func open(_ begin: UploadBegin) throws(WireError) {
        self.begin(begin.requestID)
        if openUploads >= WireFormat.maxOpenUploads {
            uploads[begin.requestID] = .refused(answered: false)
            throw .uploadState(.tooManyOpen(limit: WireFormat.maxOpenUploads))
        }
        uploads[begin.requestID] = .receiving(declared: Int(begin.recordCount), received: 0)
    }

    /// A parsed UPLOAD_RECORDS: true when its records are to be applied, false when the upload
    /// was refused and the chunk is discarded. Throws (`upload_state`) when the chunk does not
    /// follow the records received or goes past the declared count; the upload is then
    /// `refused` and the server answers the ERROR.
    public mutating func receive(_ records: UploadRecords) throws(WireError) -> Bool {
        guard case .receiving(let declared, let received)? = uploads[records.requestID] else { return false }
        if Int(records.firstIndex) != received {
            uploads[records.requestID] = .refused(answered: false)
            throw .uploadState(.chunkOutOfOrder(expected: received, received: Int(records.firstIndex)))
        }
        if received + records.count > declared {
            uploads[records.requestID] = .refused(answered: false)
            throw .uploadState(.overDeclared(declared: declared, received: received + records.count))
        }
        uploads[records.requestID] = .receiving(declared: declared, received: received + records.count)
        return true
    }

    /// A parsed UPLOAD_COMMIT: true when the upload is to be applied and answered (then
    /// `finish` after the answer), false when it had been refused (nothing more is sent; its id
    /// is free again once the refusal's ERROR has been sent, now or at its `finish`). Throws
    /// (`upload_state`) when the count is not the declared and received one; the id is then
    /// free once the server has sent the ERROR.
    public mutating func commit(_ commit: UploadCommit) throws(WireError) -> Bool {
        switch uploads[commit.requestID] {
        case .receiving(let declared, let received)?:
            if Int(commit.recordCount) != declared || received != declared {
                uploads[commit.requestID] = .committed
                throw .uploadState(.commitMismatch(declared: declared, received: received, committed: Int(commit.recordCount)))
            }
            uploads[commit.requestID] = .committed
            return true
        case .refused(answered: false)?:
            // The refusal's ERROR is still pending (e.g. behind its audit record): the id stays
            // in flight until it is sent, so a new request cannot take it over.
            uploads[commit.requestID] = .committed
            return false
        default:
            uploads.removeValue(forKey: commit.requestID)
            inFlight.remove(commit.requestID)
            return false
        }
    }

    /// The request's answer (RESULT, UPLOAD_RESULT, WITHDRAW_RESULT or ERROR) has been sent.
    /// An upload answered before its COMMIT (refused) stays in flight until the COMMIT.
    public mutating func finish(_ requestID: UInt64) {
        precondition(inFlight.contains(requestID), "request \(requestID) was not in flight")
        switch uploads[requestID] {
        case .receiving?, .refused?:
            uploads[requestID] = .refused(answered: true)
        case .committed?:
            uploads.removeValue(forKey: requestID)
            inFlight.remove(requestID)
        case nil:
            inFlight.remove(requestID)
        }
    }
}

extension WireFormat {
    /// The version both sides speak: the highest in both ranges, or nil when they do not overlap.
    public static func negotiate(client: ClosedRange<UInt16>, hub: ClosedRange<UInt16>) -> UInt16? {
        let version = min(client.upperBound, hub.upperBound)
        return version >= max(client.lowerBound, hub.lowerBound) ? version : nil
    }
}
