import IndicatorKit

extension Message {
    /// Parses a frame's payload (docs/PROTOCOL.md, "Messages"). Every length is bounds-checked
    /// before it is used, every payload must end exactly after its last field, and the QUERY
    /// checks run in the document's order, so two implementations report the same first error.
    ///
    /// - Parameter maxBatchValues: the batch limit in force (the hub's advertised limit; a
    ///   client passes `WireFormat.maxBatchValues`).
    public init(frame: Frame, maxBatchValues: Int = WireFormat.maxBatchValues) throws(WireError) {
        try FrameHeader.checkRequestID(frame.requestID, for: frame.type)
        let type = frame.type
        let requestID = frame.requestID
        let payload = frame.payload
        self = try payload.withUnsafeBufferPointer { (buffer) throws(WireError) -> Message in
            var reader = PayloadReader(UnsafeRawBufferPointer(buffer), type: type)
            switch type {
            case .hello: return .hello(try Hello.parse(&reader))
            case .welcome: return .welcome(try Welcome.parse(&reader))
            case .ping: return .ping(Ping(opaque: try Self.parseOpaque(&reader)))
            case .pong: return .pong(Pong(opaque: try Self.parseOpaque(&reader)))
            case .error: return .error(try ErrorMessage.parse(&reader, requestID: requestID))
            case .query:
                return .query(try QueryBatch.parse(&reader, payload: payload, requestID: requestID,
                                                   maxBatchValues: maxBatchValues))
            case .result:
                return .result(try QueryResult.parse(&reader, payload: payload, requestID: requestID,
                                                     maxEntries: maxBatchValues))
            case .uploadBegin: return .uploadBegin(try UploadBegin.parse(&reader, requestID: requestID))
            case .uploadRecords: return .uploadRecords(try UploadRecords.parse(&reader, payload: payload, requestID: requestID))
            case .uploadCommit:
                let count = try reader.u32(.recordCount)
                try reader.end()
                return .uploadCommit(UploadCommit(requestID: requestID, recordCount: count))
            case .uploadResult: return .uploadResult(try UploadResult.parse(&reader, requestID: requestID))
            case .withdraw:
                return .withdraw(try WithdrawRequest.parse(&reader, payload: payload, requestID: requestID,
                                                           maxValues: WireFormat.maxWithdrawValues))
            case .withdrawResult: return .withdrawResult(try WithdrawResult.parse(&reader, requestID: requestID))
            }
        }
    }

    /// Decodes exactly one complete frame (header and payload) from `bytes`, with the given
    /// payload limit and protocol version (default: the newest this implementation speaks).
    /// For tests and tools; connections use `FrameDecoder`.
    public init(bytes: [UInt8], maxPayloadBytes: Int = WireFormat.maxPayloadBytes,
                maxBatchValues: Int = WireFormat.maxBatchValues, version: UInt16 = WireFormat.maxVersion) throws(WireError) {
        var decoder = FrameDecoder(maxPayloadBytes: maxPayloadBytes)
        decoder.version = version
        let frames = try decoder.feed(bytes)
        try decoder.finish()
        guard let frame = frames.first else { throw .truncatedFrame(received: 0, expected: WireFormat.headerSize) }
        if frames.count > 1 {
            // More frames follow the first: for a single frame, its payload has trailing bytes.
            throw .malformedPayload(frame.type, .trailingBytes(count: bytes.count - WireFormat.headerSize - frame.payload.count))
        }
        try self.init(frame: frame, maxBatchValues: maxBatchValues)
    }

    private static func parseOpaque(_ reader: inout PayloadReader) throws(WireError) -> UInt64 {
        let opaque = try reader.u64(.opaqueBytes)
        try reader.end()
        return opaque
    }
}

extension Hello {
    static func parse(_ reader: inout PayloadReader) throws(WireError) -> Hello {
        guard reader.has(8), try reader.u64(.magic) == WireFormat.magicWord else { throw .badMagic(.hello) }
        let minVersion = try reader.u16(.minVersion)
        let maxVersion = try reader.u16(.maxVersion)
        if minVersion == 0 { throw .malformedPayload(.hello, .outOfRange(.minVersion, value: 0)) }
        if maxVersion < minVersion { throw .malformedPayload(.hello, .outOfRange(.maxVersion, value: UInt64(maxVersion))) }
        let length = Int(try reader.u16(.softwareName))
        if let fault = TextRules.lengthFault(length, limit: WireFormat.maxNameBytes, required: true) {
            throw .malformedPayload(.hello, .invalidText(.softwareName, fault))
        }
        let software = try reader.text(length, .softwareName)
        try reader.end()
        return Hello(minVersion: minVersion, maxVersion: maxVersion, software: software)
    }
}

extension Welcome {
    static func parse(_ reader: inout PayloadReader) throws(WireError) -> Welcome {
        guard reader.has(8), try reader.u64(.magic) == WireFormat.magicWord else { throw .badMagic(.welcome) }
        func range(_ value: UInt32, _ field: WireField, _ bounds: ClosedRange<Int>) throws(WireError) {
            if !bounds.contains(Int(value)) { throw .malformedPayload(.welcome, .outOfRange(field, value: UInt64(value))) }
        }
        let version = try reader.u16(.version)
        if version == 0 { throw .malformedPayload(.welcome, .outOfRange(.version, value: 0)) }
        let reveal = try reader.u16(.revealMask)
        if reveal & ~UInt16(RevealMask.all.rawValue) != 0 {
            throw .malformedPayload(.welcome, .reservedNotZero(.revealMask))
        }
        let maxPayload = try reader.u32(.maxPayload)
        try range(maxPayload, .maxPayload, WireFormat.handshakePayloadLimit...WireFormat.maxPayloadBytes)
        let maxBatch = try reader.u32(.maxBatchValues)
        try range(maxBatch, .maxBatchValues, 1...WireFormat.maxBatchValues)
        let maxInFlight = try reader.u32(.maxInFlight)
        try range(maxInFlight, .maxInFlight, 1...WireFormat.maxInFlightLimit)
        let idle = try reader.u32(.idleTimeout)
        try range(idle, .idleTimeout, 1...Int(UInt32.max))
        let typeBits = try reader.u32(.allowedTypes)
        guard let allowed = IndicatorTypeSet(rawValue: typeBits) else {
            throw .malformedPayload(.welcome, .reservedNotZero(.allowedTypes))
        }
        let policyVersion = try reader.u64(.policyVersion)
        let length = Int(try reader.u16(.partnerName))
        if let fault = TextRules.lengthFault(length, limit: WireFormat.maxNameBytes, required: true) {
            throw .malformedPayload(.welcome, .invalidText(.partnerName, fault))
        }
        let partner = try reader.text(length, .partnerName)
        try reader.end()
        return Welcome(version: version, reveal: RevealMask(rawValue: UInt8(reveal)), maxPayloadBytes: maxPayload,
                       maxBatchValues: maxBatch, maxInFlight: maxInFlight, idleTimeoutSeconds: idle,
                       allowedTypes: allowed, policyVersion: policyVersion, partner: partner)
    }
}

extension ErrorMessage {
    static func parse(_ reader: inout PayloadReader, requestID: UInt64) throws(WireError) -> ErrorMessage {
        let code = ErrorCode(rawValue: try reader.u16(.errorCode))
        if code.rawValue == 0 { throw .malformedPayload(.error, .outOfRange(.errorCode, value: 0)) }
        let length = Int(try reader.u16(.reason))
        if let fault = TextRules.lengthFault(length, limit: WireFormat.maxReasonBytes, required: false) {
            throw .malformedPayload(.error, .invalidText(.reason, fault))
        }
        let reason = try reader.text(length, .reason)
        try reader.end()
        try checkRequestID(requestID, code: code)
        return ErrorMessage(requestID: requestID, code: code, reason: reason)
    }

    /// Connection-level codes travel with request id 0, request-level codes with a request's.
    static func checkRequestID(_ requestID: UInt64, code: ErrorCode) throws(WireError) {
        if code.closesConnection && requestID != 0 { throw .requestIDMustBeZero(.error, requestID: requestID) }
        if !code.closesConnection && requestID == 0 { throw .requestIDRequired(.error) }
    }
}

extension QueryBatch {
    /// The QUERY checks of docs/PROTOCOL.md, steps 1–5, in order.
    static func parse(_ reader: inout PayloadReader, payload: [UInt8], requestID: UInt64,
                      maxBatchValues: Int) throws(WireError) -> QueryBatch {
        var cache = QueryFieldCache()
        return try parse(&reader, payload: payload, requestID: requestID, maxBatchValues: maxBatchValues, cache: &cache)
    }

    /// The same, with the connection's field cache (`QueryFieldCache`).
    static func parse(_ reader: inout PayloadReader, payload: [UInt8], requestID: UInt64,
                      maxBatchValues: Int, cache: inout QueryFieldCache) throws(WireError) -> QueryBatch {
        // 1. Fixed part.
        guard reader.has(WireFormat.queryFixedBytes) else {
            throw .malformedPayload(.query, .truncated(.queryHeader, offset: 0, needed: WireFormat.queryFixedBytes,
                                                        available: reader.remaining))
        }
        let priorityByte = try reader.u8(.queryHeader)
        if try reader.u8(.queryHeader) != 0 { throw .malformedPayload(.query, .reservedNotZero(.queryHeader)) }
        let lengths = [Int(try reader.u16(.requestFields)), Int(try reader.u16(.requestFields)),
                       Int(try reader.u16(.requestFields)), Int(try reader.u16(.requestFields))]
        if try reader.u16(.queryHeader) != 0 { throw .malformedPayload(.query, .reservedNotZero(.queryHeader)) }
        let count = Int(try reader.u32(.queryHeader))
        // 2. Batch size, before any value is read.
        if count > maxBatchValues { throw .batchTooLarge(count: count, limit: maxBatchValues) }
        // 3. Field lengths, then the field bytes.
        let fields: [RequestField] = [.purpose, .legalBasis, .reference, .timeZone]
        for (length, field) in zip(lengths, fields) where length > WireFormat.maxFieldBytes {
            throw .invalidField(field, .tooLong(length: length, limit: WireFormat.maxFieldBytes))
        }
        let texts = (try reader.bytes(lengths[0], .requestFields), try reader.bytes(lengths[1], .requestFields),
                     try reader.bytes(lengths[2], .requestFields), try reader.bytes(lengths[3], .requestFields))
        // 4. Values: structure and type bytes, in one pass, no allocation.
        let valuesStart = reader.pos
        for index in 0..<count {
            let typeByte = try reader.u8(.value(index))
            let length = Int(try reader.u16(.value(index)))
            if typeByte > WireFormat.maxIndicatorTypeByte {
                // The value's bytes must still be there: a truncated batch is malformed first.
                _ = try reader.bytes(length, .value(index))
                throw .unknownIndicatorType(valueIndex: index, typeByte: typeByte)
            }
            _ = try reader.bytes(length, .value(index))
        }
        try reader.end()
        // 5. Field contents.
        guard let priority = RequestPriority(rawValue: priorityByte) else { throw .invalidPriority(priorityByte) }
        let purpose = try cache.text(0, texts.0, .purpose)
        let legalBasis = try cache.text(1, texts.1, .legalBasis)
        let reference = try cache.text(2, texts.2, .reference)
        let timeZone = try cache.text(3, texts.3, .timeZone)
        let request = RequestFields(purpose: purpose, legalBasis: legalBasis, reference: reference,
                                    priority: priority, timeZone: timeZone)
        let values = QueryValues(validated: payload[valuesStart..<payload.count], count: count)
        return QueryBatch(requestID: requestID, fields: request, values: values)
    }
}

extension QueryResult {
    static func parse(_ reader: inout PayloadReader, payload: [UInt8], requestID: UInt64,
                      maxEntries: Int) throws(WireError) -> QueryResult {
        let count = Int(try reader.u32(.entryCount))
        if count > maxEntries { throw .malformedPayload(.result, .outOfRange(.entryCount, value: UInt64(count))) }
        let entriesStart = reader.pos
        for index in 0..<count {
            switch try reader.u8(.entry(index)) {
            case WireFormat.Status.miss:
                continue
            case WireFormat.Status.refused:
                let code = try reader.u8(.refusalCode(index))
                if ValueRefusal(rawValue: code) == nil {
                    throw .malformedPayload(.result, .outOfRange(.refusalCode(index), value: UInt64(code)))
                }
            case WireFormat.Status.hit:
                let mask = RevealMask(rawValue: try reader.u8(.entryRevealMask(index)))
                if !RevealMask.all.isSuperset(of: mask) {
                    throw .malformedPayload(.result, .reservedNotZero(.entryRevealMask(index)))
                }
                if mask.contains(.category) {
                    let value = try reader.u8(.category(index))
                    if ThreatCategory(rawValue: value) == nil {
                        throw .malformedPayload(.result, .outOfRange(.category(index), value: UInt64(value)))
                    }
                }
                if mask.contains(.confidence) {
                    let value = try reader.u8(.confidence(index))
                    if value > 100 { throw .malformedPayload(.result, .outOfRange(.confidence(index), value: UInt64(value))) }
                }
                if mask.contains(.expires) { _ = try reader.u32(.entry(index)) }
                if mask.contains(.action) {
                    let value = try reader.u8(.action(index))
                    if ActionHint(rawValue: value) == nil {
                        throw .malformedPayload(.result, .outOfRange(.action(index), value: UInt64(value)))
                    }
                }
            case let status:
                throw .malformedPayload(.result, .outOfRange(.entryStatus(index), value: UInt64(status)))
            }
        }
        try reader.end()
        let entries = ResultEntries(validated: payload[entriesStart..<payload.count], count: count)
        return QueryResult(requestID: requestID, entries: entries)
    }
}
