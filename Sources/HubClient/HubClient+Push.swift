public import HubWire
public import IndicatorKit
import Glibc

/// One record to upload: the value as the feed wrote it, its type (nil: the hub detects) and
/// the metadata the feed gave.
public struct PushRecord: Equatable, Sendable {
    public var type: IndicatorType?
    public var value: [UInt8]
    public var fields: UploadFields

    public init(type: IndicatorType?, value: [UInt8], fields: UploadFields = .none) {
        self.type = type
        self.value = value
        self.fields = fields
    }

    public init(type: IndicatorType?, _ text: String, fields: UploadFields = .none) {
        self.init(type: type, value: Array(text.utf8), fields: fields)
    }
}

/// How the hub answered an upload or a withdrawal.
public enum PushOutcome: Equatable, Sendable {
    /// The upload is durable (or, `discarded`, a strict upload stored nothing).
    case answered(UploadResult)
    /// A request-level ERROR refused the upload (`operation_not_allowed`, `upload_id_reused`, …):
    /// nothing of it was applied.
    case refused(code: ErrorCode, reason: String)
}

public enum WithdrawOutcome: Equatable, Sendable {
    case answered(WithdrawResult)
    case refused(code: ErrorCode, reason: String)
}

extension HubClient {
    /// Uploads `records` as one atomic upload named `uploadID` (docs/PROTOCOL.md, "Uploads"):
    /// UPLOAD_BEGIN, the records in chunks of at most 10,000 within the hub's max payload,
    /// written while answers are read, then UPLOAD_COMMIT; returns when the hub has answered.
    ///
    /// A retry after a transient failure (`ClientError.isTransient`: the outcome is unknown)
    /// must reuse the same `uploadID` — see `push(records:…attempts:connect:)`.
    public func push(records: [PushRecord], format: UploadFormat = .other, uploadID: UploadID,
                     flags: UploadFlags = [], legalBasis: String = "", reference: String = "") throws(ClientError) -> PushOutcome {
        guard welcome.version >= WireFormat.feedVersion else {
            throw .notSupported("the hub speaks protocol version \(welcome.version), which has no uploads (version \(WireFormat.feedVersion) adds them)")
        }
        guard !records.isEmpty, records.count <= WireFormat.maxUploadRecords else {
            throw .invalidUse("an upload holds 1 to \(WireFormat.maxUploadRecords) records (got \(records.count))")
        }
        let transport = try open()
        let requestID = nextRequestID
        nextRequestID += 1
        let begin = UploadBegin(requestID: requestID, uploadID: uploadID, recordCount: UInt32(records.count),
                                format: format, flags: flags, legalBasis: legalBasis, reference: reference)
        do { _ = try Message.uploadBegin(begin).encodedCount() } catch { throw .invalidUse("upload: \(error.description)") }
        do { try session.send(begin) } catch { throw .protocolViolation(error) }
        try transport.queue(.uploadBegin(begin))
        let maxChunkBytes = Int(welcome.maxPayloadBytes) - 8
        var position = 0
        var committed = false
        var outcome: PushOutcome?
        while !(committed && outcome != nil) {
            // Keep the pipe full, but do not buffer more than about 1 MiB of unsent records.
            while !committed && transport.pendingBytes < 1 << 20 {
                if outcome == nil && position < records.count {
                    var chunk = UploadRecords(requestID: requestID, firstIndex: UInt32(position))
                    var bytes = 0
                    while position < records.count && chunk.count < WireFormat.maxChunkRecords {
                        let record = records[position]
                        let size = UploadRecords.encodedSize(valueBytes: record.value.count, fields: record.fields)
                        if size > maxChunkBytes { throw .invalidUse("record \(position) is too long to upload (\(record.value.count) bytes)") }
                        if bytes + size > maxChunkBytes { break }
                        do { try chunk.append(record.value, type: record.type, fields: record.fields) } catch {
                            throw .invalidUse("record \(position): \(error.description)")
                        }
                        bytes += size
                        position += 1
                    }
                    try transport.queue(.uploadRecords(chunk))
                } else {
                    // All records sent — or the hub refused the upload: the COMMIT frees the id.
                    let commit = UploadCommit(requestID: requestID, recordCount: UInt32(records.count))
                    do { try session.send(commit) } catch { throw .protocolViolation(error) }
                    try transport.queue(.uploadCommit(commit))
                    committed = true
                }
            }
            if committed && outcome != nil { break }
            for message in try nextMessages(transport, deadline: Deadline(seconds: options.ioTimeout),
                                            operation: committed ? "the hub's answer to the upload" : "sending the upload") {
                switch message {
                case .uploadResult(let result) where result.requestID == requestID:
                    guard result.uploadID == uploadID else {
                        let error = WireError.unexpectedMessage(.uploadResult, reason: .wrongAnswer(requestID))
                        transport.refuse(error)
                        self.transport = nil
                        throw .protocolViolation(error)
                    }
                    outcome = .answered(result)
                case .error(let error) where error.requestID == requestID:
                    outcome = .refused(code: error.code, reason: error.reason)
                default:
                    continue
                }
            }
        }
        try drain(transport)
        return outcome!
    }

    /// Uploads with retries: connects with `connect`, pushes, and after a transient failure
    /// (connection lost, timed out, refused) or an `upload_in_progress` answer connects again
    /// and sends the same upload with the same `uploadID`, up to `attempts` times, waiting
    /// 0.2 s, 0.4 s, … in between. The hub
    /// answers a retry of an upload it had already applied with the first answer (flagged
    /// `alreadyApplied`), so nothing is applied twice.
    public static func push(records: [PushRecord], format: UploadFormat = .other, uploadID: UploadID,
                            flags: UploadFlags = [], legalBasis: String = "", reference: String = "",
                            attempts: Int = 3,
                            connect: () throws(ClientError) -> HubClient) throws(ClientError) -> PushOutcome {
        var attempt = 1
        while true {
            do {
                let client = try connect()
                defer { client.close() }
                let outcome = try client.push(records: records, format: format, uploadID: uploadID, flags: flags,
                                              legalBasis: legalBasis, reference: reference)
                // The hub is still applying an earlier attempt (its connection was lost after
                // the COMMIT): wait and ask again, it will answer "already applied".
                guard case .refused(.uploadInProgress, _) = outcome, attempt < max(1, attempts) else { return outcome }
            } catch where error.isTransient && attempt < max(1, attempts) {
            }
            usleep(UInt32(200_000) << UInt32(min(attempt - 1, 5)))
            attempt += 1
        }
    }

    /// Withdraws this source's reports of `values` (docs/PROTOCOL.md, "Withdrawals"), in
    /// WITHDRAWs of at most 10,000 values; the counts are summed and refusal indexes refer to
    /// `values`. Stops at the first refused WITHDRAW (earlier ones stay applied).
    public func withdraw(values: [String], type: IndicatorType? = nil, reference: String = "") throws(ClientError) -> WithdrawOutcome {
        guard !values.isEmpty else { throw .invalidUse("no values to withdraw") }
        var total = WithdrawResult(requestID: 0, withdrawn: 0, notFound: 0)
        var start = 0
        while start < values.count {
            let end = min(values.count, start + WireFormat.maxWithdrawValues)
            var batch = QueryValues()
            for index in start..<end {
                do { try batch.append(values[index], type: type) } catch { throw .invalidUse("value \(index): \(error.description)") }
            }
            switch try withdraw(.values(batch), reference: reference) {
            case .refused(let code, let reason): return .refused(code: code, reason: reason)
            case .answered(let result):
                total.withdrawn += result.withdrawn
                total.notFound += result.notFound
                total.refusals += result.refusals.map { Rejection(index: $0.index + UInt32(start), reason: $0.reason) }
            }
            start = end
        }
        return .answered(total)
    }

    /// Withdraws every live report of this source's upload `uploadID`.
    public func withdraw(uploadID: UploadID, reference: String = "") throws(ClientError) -> WithdrawOutcome {
        try withdraw(.upload(uploadID), reference: reference)
    }

    private func withdraw(_ target: WithdrawRequest.Target, reference: String) throws(ClientError) -> WithdrawOutcome {
        guard welcome.version >= WireFormat.feedVersion else {
            throw .notSupported("the hub speaks protocol version \(welcome.version), which has no withdrawals (version \(WireFormat.feedVersion) adds them)")
        }
        let transport = try open()
        let request = WithdrawRequest(requestID: nextRequestID, reference: reference, target: target)
        nextRequestID += 1
        do { _ = try Message.withdraw(request).encodedCount() } catch { throw .invalidUse("withdraw: \(error.description)") }
        do { try session.send(request) } catch { throw .protocolViolation(error) }
        try transport.queue(.withdraw(request))
        while true {
            for message in try nextMessages(transport, deadline: Deadline(seconds: options.ioTimeout), operation: "the hub's answer to the withdrawal") {
                switch message {
                case .withdrawResult(let result) where result.requestID == request.requestID: return .answered(result)
                case .error(let error) where error.requestID == request.requestID:
                    return .refused(code: error.code, reason: error.reason)
                default: continue
                }
            }
        }
    }

    /// Writes what is still queued (a COMMIT after a refusal) before returning.
    private func drain(_ transport: Transport) throws(ClientError) {
        let deadline = Deadline(seconds: options.ioTimeout)
        while transport.pendingBytes > 0 {
            _ = try nextMessages(transport, deadline: deadline, operation: "sending the upload's COMMIT")
        }
    }
}
