import HubTLS
public import HubWire

/// An upload the fake hub applied: whose it is, what it held, and its first answer.
struct AppliedUpload {
    var owner: String
    var records: [UploadRecordCopy]
    var result: UploadResult
    var values: Set<[UInt8]>
}

/// One record as received, for comparing a retry's content with the first attempt's.
struct UploadRecordCopy: Equatable {
    var type: UInt8
    var value: [UInt8]
    var fields: UploadFields
}

/// The fake hub's side of uploads and withdrawals on one connection (docs/PROTOCOL.md,
/// "Uploads"): the role check, atomic apply at COMMIT, idempotent retries by upload id,
/// `upload_id_reused`, strict uploads, withdrawals of the partner's own values only, and a
/// connection dropped mid-upload when the behaviour asks for it. `bad…` values are refused
/// (`invalid_value`); a value repeated inside an upload is a duplicate.
struct FeedConnectionState {
    let role: PartnerRole?
    var requestID: UInt64 = 0
    var begin: UploadBegin?
    var refused = false
    var records: [UploadRecordCopy] = []
    var chunks = 0

    init(role: PartnerRole?) { self.role = role }

    /// Handles one feed message; false when the connection is to be dropped.
    mutating func handle(_ message: Message, hub: FakeHub, connection: FakeConnection) -> Bool {
        hub.locked { hub._uploadFrames.append(message.type) }
        let partner = connection.tls.peer?.name ?? "?"
        switch message {
        case .uploadBegin(let begin):
            self.begin = begin
            requestID = begin.requestID
            records = []
            chunks = 0
            refused = false
            if role != hub.behaviour.uploadRole {
                refuse(.operationNotAllowed, "role \(role?.rawValue ?? "?") may not upload", connection)
            } else if let known = hub.locked({ hub._uploads[begin.uploadID] }), known.owner != partner {
                refuse(.uploadIDReused, "upload id \(begin.uploadID) was used before", connection)
            }
        case .uploadRecords(let chunk):
            guard chunk.requestID == requestID, !refused else { return true }
            for record in chunk {
                records.append(UploadRecordCopy(type: record.type?.rawValue ?? 0, value: Array(record.value), fields: record.fields))
            }
            chunks += 1
            let drop = hub.locked { () -> Bool in
                guard hub._uploadsDropped < hub.behaviour.dropUploads, chunks >= hub.behaviour.dropAfterChunks else { return false }
                hub._uploadsDropped += 1
                return true
            }
            if drop { return false }
        case .uploadCommit(let commit):
            guard commit.requestID == requestID, let begin else { return true }
            defer { self.begin = nil }
            if refused { return true }
            connection.send(apply(begin, partner: partner, hub: hub))
        case .withdraw(let request):
            connection.send(withdraw(request, partner: partner, hub: hub))
        default:
            break
        }
        return true
    }

    private mutating func refuse(_ code: ErrorCode, _ reason: String, _ connection: FakeConnection) {
        refused = true
        connection.send(.error(ErrorMessage(requestID: requestID, code: code, reason: reason)))
    }

    private func apply(_ begin: UploadBegin, partner: String, hub: FakeHub) -> Message {
        hub.locked { () -> Message in
            if hub._busyAnswered < hub.behaviour.busyCommits {
                hub._busyAnswered += 1
                return .error(ErrorMessage(requestID: requestID, code: .uploadInProgress,
                                           reason: "upload \(begin.uploadID) is still being applied"))
            }
            if let known = hub._uploads[begin.uploadID] {
                guard known.records == records else {
                    return .error(ErrorMessage(requestID: requestID, code: .uploadIDReused,
                                               reason: "upload id \(begin.uploadID) was used before with other content"))
                }
                var again = known.result
                again.requestID = requestID
                again.alreadyApplied = true
                again.rejections = []
                return .uploadResult(again)
            }
            var seen = Set<[UInt8]>()
            var accepted: UInt32 = 0
            var duplicates: UInt32 = 0
            var rejections: [Rejection] = []
            for (index, record) in records.enumerated() {
                if record.value.starts(with: Array("bad".utf8)) {
                    rejections.append(Rejection(index: UInt32(index), reason: .invalidValue))
                } else if seen.insert(record.value).inserted {
                    accepted += 1
                } else {
                    duplicates += 1
                }
            }
            let discarded = begin.flags.contains(.strict) && !rejections.isEmpty
            let result = UploadResult(requestID: requestID, uploadID: begin.uploadID,
                                      uploadNumber: discarded ? 0 : hub._nextUploadNumber, discarded: discarded,
                                      accepted: accepted, duplicates: duplicates, rejected: UInt32(rejections.count),
                                      rejections: rejections)
            if !discarded {
                hub._nextUploadNumber += 1
                hub._uploads[begin.uploadID] = AppliedUpload(owner: partner, records: records, result: result, values: seen)
            }
            return .uploadResult(result)
        }
    }

    private func withdraw(_ request: WithdrawRequest, partner: String, hub: FakeHub) -> Message {
        func error(_ code: ErrorCode, _ reason: String) -> Message {
            .error(ErrorMessage(requestID: request.requestID, code: code, reason: reason))
        }
        if role != hub.behaviour.uploadRole { return error(.operationNotAllowed, "role \(role?.rawValue ?? "?") may not withdraw") }
        return hub.locked { () -> Message in
            switch request.target {
            case .upload(let id):
                guard var upload = hub._uploads[id], upload.owner == partner else {
                    return error(.unknownUpload, "you have no upload with id \(id)")
                }
                let count = UInt32(upload.values.count)
                upload.values = []
                hub._uploads[id] = upload
                return .withdrawResult(WithdrawResult(requestID: request.requestID, withdrawn: count, notFound: 0))
            case .values(let values):
                var result = WithdrawResult(requestID: request.requestID, withdrawn: 0, notFound: 0)
                for (index, value) in values.enumerated() {
                    let bytes = Array(value.bytes)
                    if bytes.starts(with: Array("bad".utf8)) {
                        result.refusals.append(Rejection(index: UInt32(index), reason: .invalidValue))
                        continue
                    }
                    // Only this partner's own reports: another source's listing is "not found".
                    if let id = hub._uploads.first(where: { $0.value.owner == partner && $0.value.values.contains(bytes) })?.key {
                        hub._uploads[id]!.values.remove(bytes)
                        result.withdrawn += 1
                    } else {
                        result.notFound += 1
                    }
                }
                return .withdrawResult(result)
            }
        }
    }
}

extension FakeHub {
    /// Upload ids the fake hub has applied.
    public var appliedUploads: Int { locked { _uploads.count } }
    /// Connections dropped mid-upload on purpose.
    public var uploadsDropped: Int { locked { _uploadsDropped } }
    /// Every feed frame received, in order (all connections).
    public var uploadFrames: [MessageType] { locked { _uploadFrames } }
    /// The values listed by `partner`'s applied uploads that are still live.
    public func liveValues(of partner: String) -> Set<String> {
        locked {
            Set(_uploads.values.filter { $0.owner == partner }.flatMap { $0.values.map { String(decoding: $0, as: UTF8.self) } })
        }
    }
}
