import IndicatorKit

/// Encoding of the feed messages of version 2 (docs/PROTOCOL.md, "Uploads" and "Withdrawals"):
/// the same checks a parser makes, so anything encoded here parses.
extension Message {
    /// Checks a feed message and returns its payload size.
    func feedPayloadCount() throws(WireError) -> Int {
        switch self {
        case .uploadBegin(let begin):
            if begin.recordCount == 0 { throw .uploadState(.empty) }
            if begin.recordCount > WireFormat.maxUploadRecords {
                throw .uploadTooLarge(records: Int(begin.recordCount), limit: WireFormat.maxUploadRecords)
            }
            if !UploadFlags.all.isSuperset(of: begin.flags) { throw .malformedPayload(.uploadBegin, .reservedNotZero(.uploadFlags)) }
            return WireFormat.uploadBeginFixedBytes + (try Self.checkText(begin.legalBasis, .legalBasis, in: .uploadBegin))
                + (try Self.checkText(begin.reference, .reference, in: .uploadBegin))
        case .uploadRecords(let records):
            try Self.checkChunkCount(records.count)
            return WireFormat.uploadRecordsFixedBytes + records.wireBytes.count
        case .uploadCommit:
            return WireFormat.uploadCommitBytes
        case .uploadResult(let result):
            try result.check()
            return WireFormat.uploadResultFixedBytes + result.rejections.count * WireFormat.rejectionBytes
        case .withdraw(let request):
            var count = WireFormat.withdrawFixedBytes + (try Self.checkText(request.reference, .reference, in: .withdraw))
            switch request.target {
            case .values(let values):
                if values.isEmpty { throw .malformedPayload(.withdraw, .outOfRange(.recordCount, value: 0)) }
                if values.count > WireFormat.maxWithdrawValues {
                    throw .batchTooLarge(count: values.count, limit: WireFormat.maxWithdrawValues)
                }
                count += 4 + values.wireBytes.count
            case .upload:
                count += 16
            }
            return count
        case .withdrawResult(let result):
            try Self.checkRejections(result.refusals, total: Int(result.refusals.count), in: .withdrawResult)
            return WireFormat.withdrawResultFixedBytes + result.refusals.count * WireFormat.rejectionBytes
        default:
            preconditionFailure("not a feed message")
        }
    }

    static func checkChunkCount(_ count: Int) throws(WireError) {
        if count == 0 || count > WireFormat.maxChunkRecords {
            throw .malformedPayload(.uploadRecords, .outOfRange(.recordCount, value: UInt64(count)))
        }
    }

    /// An optional text field (0–256 bytes, UTF-8 without control characters); its length.
    static func checkText(_ text: String, _ field: WireField, in type: MessageType) throws(WireError) -> Int {
        let length = text.utf8.count
        if let fault = TextRules.lengthFault(length, limit: WireFormat.maxUploadTextBytes, required: false)
            ?? TextRules.fault(in: text) {
            throw .malformedPayload(type, .invalidText(field, fault))
        }
        return length
    }

    /// Listed rejections: at most the limit, indexes rising, below `total` records.
    static func checkRejections(_ rejections: [Rejection], total: Int, in type: MessageType) throws(WireError) {
        if rejections.count > WireFormat.maxListedRejections {
            throw .malformedPayload(type, .outOfRange(.counts, value: UInt64(rejections.count)))
        }
        var previous: Int64 = -1
        for (i, rejection) in rejections.enumerated() {
            if Int64(rejection.index) <= previous {
                throw .malformedPayload(type, .outOfRange(.rejection(i), value: UInt64(rejection.index)))
            }
            previous = Int64(rejection.index)
        }
        _ = total
    }

    /// Writes the payload of a checked feed message.
    func writeFeedPayload(_ w: inout PayloadWriter) {
        switch self {
        case .uploadBegin(let begin):
            w.id(begin.uploadID)
            w.u32(begin.recordCount)
            w.u8(begin.format.rawValue)
            w.u8(begin.flags.rawValue)
            w.u16(UInt16(begin.legalBasis.utf8.count))
            w.u16(UInt16(begin.reference.utf8.count))
            w.u16(0)
            w.text(begin.legalBasis)
            w.text(begin.reference)
        case .uploadRecords(let records):
            w.u32(records.firstIndex)
            w.u32(UInt32(records.count))
            w.bytes(records.wireBytes)
        case .uploadCommit(let commit):
            w.u32(commit.recordCount)
        case .uploadResult(let result):
            w.id(result.uploadID)
            w.u32(result.uploadNumber)
            w.u8((result.alreadyApplied ? UploadResult.Flag.alreadyApplied : 0) | (result.discarded ? UploadResult.Flag.discarded : 0))
            w.u8(0)
            w.u16(0)
            w.u32(result.accepted)
            w.u32(result.duplicates)
            w.u32(result.rejected)
            w.u32(UInt32(result.rejections.count))
            for rejection in result.rejections { w.rejection(rejection) }
        case .withdraw(let request):
            switch request.target {
            case .values: w.u8(WithdrawRequest.Kind.values)
            case .upload: w.u8(WithdrawRequest.Kind.upload)
            }
            w.u8(0)
            w.u16(UInt16(request.reference.utf8.count))
            w.text(request.reference)
            switch request.target {
            case .values(let values):
                w.u32(UInt32(values.count))
                w.bytes(values.wireBytes)
            case .upload(let id):
                w.id(id)
            }
        case .withdrawResult(let result):
            w.u32(result.withdrawn)
            w.u32(result.notFound)
            w.u32(UInt32(result.refusals.count))
            for rejection in result.refusals { w.rejection(rejection) }
        default:
            preconditionFailure("not a feed message")
        }
    }
}

extension UploadResult {
    /// The rules a parser checks (docs/PROTOCOL.md, UPLOAD_RESULT).
    func check() throws(WireError) {
        func bad(_ field: WireField, _ value: UInt64) -> WireError { .malformedPayload(.uploadResult, .outOfRange(field, value: value)) }
        if alreadyApplied && discarded { throw .malformedPayload(.uploadResult, .reservedNotZero(.resultFlags)) }
        if discarded ? uploadNumber != 0 : (uploadNumber == 0 || uploadNumber > WireFormat.maxUploadNumber) {
            throw bad(.uploadNumber, UInt64(uploadNumber))
        }
        let total = UInt64(accepted) + UInt64(duplicates) + UInt64(rejected)
        if total == 0 || total > UInt64(WireFormat.maxUploadRecords) { throw bad(.counts, total) }
        if rejections.count > Int(rejected) || (alreadyApplied && !rejections.isEmpty) {
            throw bad(.counts, UInt64(rejections.count))
        }
        try Message.checkRejections(rejections, total: Int(total), in: .uploadResult)
        if let last = rejections.last, UInt64(last.index) >= total { throw bad(.rejection(rejections.count - 1), UInt64(last.index)) }
    }
}

extension PayloadWriter {
    mutating func id(_ id: UploadID) {
        id.bytes.withUnsafeBytes { bytes($0) }
    }

    mutating func rejection(_ rejection: Rejection) {
        u32(rejection.index)
        u8(rejection.reason.rawValue)
    }
}
