import IndicatorKit

// Parsing of the feed messages of version 2 (docs/PROTOCOL.md, "Uploads" and "Withdrawals").
// Fields are checked in the order they appear, so two implementations report the same first
// error; every length is bounds-checked before use and every payload must end after its last
// field.

extension PayloadReader {
    mutating func uploadID(_ type: MessageType) throws(WireError) -> UploadID {
        let view = try bytes(16, .uploadID)
        guard let id = UploadID(bytes: Array(view)) else {
            throw .malformedPayload(type, .outOfRange(.uploadID, value: 0))
        }
        return id
    }

    /// An optional text field whose length was read before.
    mutating func optionalText(_ length: Int, _ field: WireField) throws(WireError) -> String {
        if let fault = TextRules.lengthFault(length, limit: WireFormat.maxUploadTextBytes, required: false) {
            throw .malformedPayload(type, .invalidText(field, fault))
        }
        return try text(length, field)
    }

    /// Listed rejections: indexes strictly rising, codes `RecordRefusal`s.
    mutating func rejections(_ count: Int) throws(WireError) -> [Rejection] {
        var list: [Rejection] = []
        list.reserveCapacity(min(count, remaining / WireFormat.rejectionBytes))
        var previous: Int64 = -1
        for i in 0..<count {
            let index = try u32(.rejection(i))
            let code = try u8(.rejection(i))
            if Int64(index) <= previous { throw .malformedPayload(type, .outOfRange(.rejection(i), value: UInt64(index))) }
            guard let reason = RecordRefusal(rawValue: code) else {
                throw .malformedPayload(type, .outOfRange(.rejection(i), value: UInt64(code)))
            }
            previous = Int64(index)
            list.append(Rejection(index: index, reason: reason))
        }
        return list
    }
}

extension UploadBegin {
    static func parse(_ reader: inout PayloadReader, requestID: UInt64) throws(WireError) -> UploadBegin {
        guard reader.has(WireFormat.uploadBeginFixedBytes) else {
            throw .malformedPayload(.uploadBegin, .truncated(.uploadID, offset: 0, needed: WireFormat.uploadBeginFixedBytes,
                                                             available: reader.remaining))
        }
        let id = try reader.uploadID(.uploadBegin)
        let count = try reader.u32(.recordCount)
        if count == 0 { throw .uploadState(.empty) }
        if count > WireFormat.maxUploadRecords { throw .uploadTooLarge(records: Int(count), limit: WireFormat.maxUploadRecords) }
        let formatByte = try reader.u8(.uploadFormat)
        guard let format = UploadFormat(rawValue: formatByte) else {
            throw .malformedPayload(.uploadBegin, .outOfRange(.uploadFormat, value: UInt64(formatByte)))
        }
        let flags = UploadFlags(rawValue: try reader.u8(.uploadFlags))
        if !UploadFlags.all.isSuperset(of: flags) { throw .malformedPayload(.uploadBegin, .reservedNotZero(.uploadFlags)) }
        let legalLength = Int(try reader.u16(.legalBasis))
        let referenceLength = Int(try reader.u16(.reference))
        for (length, field) in [(legalLength, WireField.legalBasis), (referenceLength, .reference)] {
            if let fault = TextRules.lengthFault(length, limit: WireFormat.maxUploadTextBytes, required: false) {
                throw .malformedPayload(.uploadBegin, .invalidText(field, fault))
            }
        }
        if try reader.u16(.uploadFlags) != 0 { throw .malformedPayload(.uploadBegin, .reservedNotZero(.uploadFlags)) }
        let legalBasis = try reader.optionalText(legalLength, .legalBasis)
        let reference = try reader.optionalText(referenceLength, .reference)
        try reader.end()
        return UploadBegin(requestID: requestID, uploadID: id, recordCount: count, format: format, flags: flags,
                           legalBasis: legalBasis, reference: reference)
    }
}

extension UploadRecords {
    static func parse(_ reader: inout PayloadReader, payload: [UInt8], requestID: UInt64) throws(WireError) -> UploadRecords {
        let first = try reader.u32(.firstIndex)
        let count = Int(try reader.u32(.recordCount))
        try Message.checkChunkCount(count)
        let start = reader.pos
        for i in 0..<count {
            let index = Int(first) + i  // upload-wide, as the client and the hub's answers number records
            let typeByte = try reader.u8(.record(index))
            let mask = try reader.u8(.recordFields(index))
            let length = Int(try reader.u16(.record(index)))
            if mask & ~UploadFields.Bit.all != 0 { throw .malformedPayload(.uploadRecords, .reservedNotZero(.recordFields(index))) }
            func range(_ field: WireField, _ value: UInt8, _ ok: Bool) throws(WireError) {
                if !ok { throw .malformedPayload(.uploadRecords, .outOfRange(field, value: UInt64(value))) }
            }
            if mask & UploadFields.Bit.category != 0 {
                let value = try reader.u8(.recordCategory(index))
                try range(.recordCategory(index), value, ThreatCategory(rawValue: value) != nil)
            }
            if mask & UploadFields.Bit.confidence != 0 {
                let value = try reader.u8(.recordConfidence(index))
                try range(.recordConfidence(index), value, value <= 100)
            }
            if mask & UploadFields.Bit.tlp != 0 {
                let value = try reader.u8(.recordTLP(index))
                try range(.recordTLP(index), value, TLP(rawValue: value) != nil)
            }
            if mask & UploadFields.Bit.action != 0 {
                let value = try reader.u8(.recordAction(index))
                try range(.recordAction(index), value, ActionHint(rawValue: value) != nil)
            }
            let dates = UploadFields.width(of: mask & (UploadFields.Bit.firstSeen | UploadFields.Bit.lastSeen | UploadFields.Bit.expires))
            _ = try reader.bytes(dates, .recordFields(index))
            _ = try reader.bytes(length, .record(index))
            if typeByte > WireFormat.maxIndicatorTypeByte {
                throw .unknownIndicatorType(valueIndex: index, typeByte: typeByte)
            }
        }
        try reader.end()
        return UploadRecords(requestID: requestID, firstIndex: first, validated: payload[start..<payload.count], count: count)
    }
}

extension UploadResult {
    static func parse(_ reader: inout PayloadReader, requestID: UInt64) throws(WireError) -> UploadResult {
        let id = try reader.uploadID(.uploadResult)
        let number = try reader.u32(.uploadNumber)
        let flags = try reader.u8(.resultFlags)
        let reserved1 = try reader.u8(.resultFlags)
        let reserved2 = try reader.u16(.resultFlags)
        if flags & ~(Flag.alreadyApplied | Flag.discarded) != 0 || reserved1 != 0 || reserved2 != 0 {
            throw .malformedPayload(.uploadResult, .reservedNotZero(.resultFlags))
        }
        let accepted = try reader.u32(.counts)
        let duplicates = try reader.u32(.counts)
        let rejected = try reader.u32(.counts)
        let listed = Int(try reader.u32(.counts))
        if listed > min(Int(rejected), WireFormat.maxListedRejections) {
            throw .malformedPayload(.uploadResult, .outOfRange(.counts, value: UInt64(listed)))
        }
        let rejections = try reader.rejections(listed)
        try reader.end()
        let result = UploadResult(requestID: requestID, uploadID: id, uploadNumber: number,
                                  alreadyApplied: flags & Flag.alreadyApplied != 0, discarded: flags & Flag.discarded != 0,
                                  accepted: accepted, duplicates: duplicates, rejected: rejected, rejections: rejections)
        try result.check()
        return result
    }
}

extension WithdrawRequest {
    static func parse(_ reader: inout PayloadReader, payload: [UInt8], requestID: UInt64,
                      maxValues: Int) throws(WireError) -> WithdrawRequest {
        let kind = try reader.u8(.withdrawKind)
        if kind != Kind.values && kind != Kind.upload {
            throw .malformedPayload(.withdraw, .outOfRange(.withdrawKind, value: UInt64(kind)))
        }
        if try reader.u8(.withdrawKind) != 0 { throw .malformedPayload(.withdraw, .reservedNotZero(.withdrawKind)) }
        let referenceLength = Int(try reader.u16(.reference))
        let reference = try reader.optionalText(referenceLength, .reference)
        if kind == Kind.upload {
            let id = try reader.uploadID(.withdraw)
            try reader.end()
            return WithdrawRequest(requestID: requestID, reference: reference, target: .upload(id))
        }
        let count = Int(try reader.u32(.recordCount))
        if count == 0 { throw .malformedPayload(.withdraw, .outOfRange(.recordCount, value: 0)) }
        if count > maxValues { throw .batchTooLarge(count: count, limit: maxValues) }
        let start = reader.pos
        for index in 0..<count {
            let typeByte = try reader.u8(.value(index))
            let length = Int(try reader.u16(.value(index)))
            _ = try reader.bytes(length, .value(index))
            if typeByte > WireFormat.maxIndicatorTypeByte { throw .unknownIndicatorType(valueIndex: index, typeByte: typeByte) }
        }
        try reader.end()
        return WithdrawRequest(requestID: requestID, reference: reference,
                               target: .values(QueryValues(validated: payload[start..<payload.count], count: count)))
    }
}

extension WithdrawResult {
    static func parse(_ reader: inout PayloadReader, requestID: UInt64) throws(WireError) -> WithdrawResult {
        let withdrawn = try reader.u32(.counts)
        let notFound = try reader.u32(.counts)
        let count = Int(try reader.u32(.counts))
        if count > WireFormat.maxListedRejections {
            throw .malformedPayload(.withdrawResult, .outOfRange(.counts, value: UInt64(count)))
        }
        let refusals = try reader.rejections(count)
        try reader.end()
        return WithdrawResult(requestID: requestID, withdrawn: withdrawn, notFound: notFound, refusals: refusals)
    }
}
