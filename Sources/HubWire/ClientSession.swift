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
    /// Uploads begun and not finished: whether the COMMIT has been sent, and whether a
    /// request-level ERROR has already answered it (before the COMMIT).
    public private(set) var uploads: [UInt64: (committed: Bool, refused: Bool)] = [:]
    /// WITHDRAWs sent and not yet answered.
    public private(set) var withdrawals: Set<UInt64> = []

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
        case .established(let welcome):
            if frame.type.sinceVersion > welcome.version {
                throw .messageTypeNotInVersion(frame.type, version: welcome.version)
            }
            let id = frame.requestID
            switch frame.type {
            case .hello, .query, .uploadBegin, .uploadRecords, .uploadCommit, .withdraw:
                throw .unexpectedMessage(frame.type, reason: .wrongDirection)
            case .welcome: throw .unexpectedMessage(.welcome, reason: .handshakeRepeated)
            case .result:
                if inFlight[id] == nil { throw .unexpectedMessage(.result, reason: .notInFlight(id)) }
            case .uploadResult:
                guard let upload = uploads[id], !upload.refused else {
                    throw .unexpectedMessage(.uploadResult, reason: .notInFlight(id))
                }
                if !upload.committed { throw .unexpectedMessage(.uploadResult, reason: .wrongAnswer(id)) }
            case .withdrawResult:
                if !withdrawals.contains(id) { throw .unexpectedMessage(.withdrawResult, reason: .notInFlight(id)) }
            case .error:
                if id != 0 && inFlight[id] == nil && !withdrawals.contains(id) && !(uploads[id].map { !$0.refused } ?? false) {
                    throw .unexpectedMessage(.error, reason: .notInFlight(id))
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
        try checkFree(query.requestID)
        inFlight[query.requestID] = query.values.count
    }

    /// An UPLOAD_BEGIN is about to be sent.
    public mutating func send(_ begin: UploadBegin) throws(WireError) {
        try checkFree(begin.requestID)
        let open = uploads.values.filter { !$0.committed }.count
        if open >= WireFormat.maxOpenUploads { throw .uploadState(.tooManyOpen(limit: WireFormat.maxOpenUploads)) }
        uploads[begin.requestID] = (committed: false, refused: false)
    }

    /// An UPLOAD_COMMIT is about to be sent (after the upload's records).
    public mutating func send(_ commit: UploadCommit) throws(WireError) {
        guard let upload = uploads[commit.requestID], !upload.committed else {
            throw .unexpectedMessage(.uploadCommit, reason: .notAnOpenUpload(commit.requestID))
        }
        if upload.refused {
            uploads.removeValue(forKey: commit.requestID)
        } else {
            uploads[commit.requestID] = (committed: true, refused: false)
        }
    }

    /// A WITHDRAW is about to be sent.
    public mutating func send(_ withdraw: WithdrawRequest) throws(WireError) {
        try checkFree(withdraw.requestID)
        withdrawals.insert(withdraw.requestID)
    }

    private func checkFree(_ id: UInt64) throws(WireError) {
        if inFlight[id] != nil || uploads[id] != nil || withdrawals.contains(id) { throw .duplicateRequestID(id) }
    }

    /// An UPLOAD_RESULT answers its committed upload.
    public mutating func receive(_ result: UploadResult) {
        uploads.removeValue(forKey: result.requestID)
    }

    /// A WITHDRAW_RESULT answers its withdrawal.
    public mutating func receive(_ result: WithdrawResult) {
        withdrawals.remove(result.requestID)
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
    /// An upload refused before its COMMIT stays registered until the COMMIT is sent.
    public mutating func receive(_ error: ErrorMessage) {
        let id = error.requestID
        guard id != 0 else { return }
        inFlight.removeValue(forKey: id)
        withdrawals.remove(id)
        if let upload = uploads[id] {
            if upload.committed { uploads.removeValue(forKey: id) } else { uploads[id] = (committed: false, refused: true) }
        }
    }
}
