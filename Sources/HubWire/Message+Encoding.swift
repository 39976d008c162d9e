extension Message {
    /// The whole frame (header + payload), after checking that the message obeys the
    /// document's rules — anything `encode` produces, `Message(frame:)` accepts.
    public func encoded() throws(WireError) -> [UInt8] {
        var out: [UInt8] = []
        try encode(into: &out)
        return out
    }

    /// Appends the frame to `buffer` (one size computation, one resize, one pass of writes;
    /// a QUERY's values are copied with one `memcpy`).
    public func encode(into buffer: inout [UInt8]) throws(WireError) {
        let payload = try payloadCount()
        let start = buffer.count
        buffer.append(contentsOf: repeatElement(0, count: WireFormat.headerSize + payload))
        buffer.withUnsafeMutableBytes { raw in
            var writer = PayloadWriter(raw, at: start)
            FrameHeader.write(type: type, requestID: requestID, payloadLength: payload, to: &writer)
            writePayload(&writer)
        }
    }

    /// The frame's size in bytes, after the same checks as `encode`.
    public func encodedCount() throws(WireError) -> Int {
        WireFormat.headerSize + (try payloadCount())
    }

    /// Writes the frame at the start of caller memory, which must hold at least
    /// `encodedCount()` bytes (a smaller buffer is a programmer error and traps). Returns the
    /// number of bytes written.
    public func encode(into buffer: UnsafeMutableRawBufferPointer) throws(WireError) -> Int {
        let payload = try payloadCount()
        precondition(buffer.count >= WireFormat.headerSize + payload, "buffer smaller than encodedCount()")
        var writer = PayloadWriter(buffer)
        FrameHeader.write(type: type, requestID: requestID, payloadLength: payload, to: &writer)
        writePayload(&writer)
        return writer.pos
    }

    /// Checks the message and returns its payload size.
    func payloadCount() throws(WireError) -> Int {
        try FrameHeader.checkRequestID(requestID, for: type)
        let count: Int
        switch self {
        case .hello(let hello):
            if hello.minVersion == 0 { throw .malformedPayload(.hello, .outOfRange(.minVersion, value: 0)) }
            if hello.maxVersion < hello.minVersion {
                throw .malformedPayload(.hello, .outOfRange(.maxVersion, value: UInt64(hello.maxVersion)))
            }
            count = WireFormat.helloFixedBytes + (try Self.checkName(hello.software, .softwareName, in: .hello))
        case .welcome(let welcome):
            try Self.check(welcome)
            count = WireFormat.welcomeFixedBytes + (try Self.checkName(welcome.partner, .partnerName, in: .welcome))
        case .ping, .pong:
            count = WireFormat.pingBytes
        case .error(let error):
            if error.code.rawValue == 0 { throw .malformedPayload(.error, .outOfRange(.errorCode, value: 0)) }
            try ErrorMessage.checkRequestID(error.requestID, code: error.code)
            let reason = error.reason.utf8.count
            if reason > WireFormat.maxReasonBytes {
                throw .malformedPayload(.error, .invalidText(.reason, .tooLong(length: reason, limit: WireFormat.maxReasonBytes)))
            }
            if let fault = TextRules.fault(in: error.reason) { throw .malformedPayload(.error, .invalidText(.reason, fault)) }
            count = WireFormat.errorFixedBytes + reason
        case .query(let query):
            try query.fields.validate()
            if query.values.count > WireFormat.maxBatchValues {
                throw .batchTooLarge(count: query.values.count, limit: WireFormat.maxBatchValues)
            }
            let fields = query.fields
            count = WireFormat.queryFixedBytes + fields.purpose.utf8.count + fields.legalBasis.utf8.count
                + fields.reference.utf8.count + fields.timeZone.utf8.count + query.values.wireBytes.count
        case .result(let result):
            if result.entries.count > WireFormat.maxBatchValues {
                throw .malformedPayload(.result, .outOfRange(.entryCount, value: UInt64(result.entries.count)))
            }
            count = WireFormat.resultFixedBytes + result.entries.wireBytes.count
        case .uploadBegin, .uploadRecords, .uploadCommit, .uploadResult, .withdraw, .withdrawResult:
            count = try feedPayloadCount()
        }
        if count > WireFormat.maxPayloadBytes { throw .frameTooLarge(length: count, limit: WireFormat.maxPayloadBytes) }
        return count
    }

    private static func checkName(_ name: String, _ field: WireField, in type: MessageType) throws(WireError) -> Int {
        let length = name.utf8.count
        if let fault = TextRules.lengthFault(length, limit: WireFormat.maxNameBytes, required: true)
            ?? TextRules.fault(in: name) {
            throw .malformedPayload(type, .invalidText(field, fault))
        }
        return length
    }

    private static func check(_ welcome: Welcome) throws(WireError) {
        func range(_ value: UInt32, _ field: WireField, _ bounds: ClosedRange<Int>) throws(WireError) {
            if !bounds.contains(Int(value)) { throw .malformedPayload(.welcome, .outOfRange(field, value: UInt64(value))) }
        }
        if welcome.version == 0 { throw .malformedPayload(.welcome, .outOfRange(.version, value: 0)) }
        if !RevealMask.all.isSuperset(of: welcome.reveal) { throw .malformedPayload(.welcome, .reservedNotZero(.revealMask)) }
        try range(welcome.maxPayloadBytes, .maxPayload, WireFormat.handshakePayloadLimit...WireFormat.maxPayloadBytes)
        try range(welcome.maxBatchValues, .maxBatchValues, 1...WireFormat.maxBatchValues)
        try range(welcome.maxInFlight, .maxInFlight, 1...WireFormat.maxInFlightLimit)
        try range(welcome.idleTimeoutSeconds, .idleTimeout, 1...Int(UInt32.max))
    }

    /// Writes the payload of a checked message.
    private func writePayload(_ w: inout PayloadWriter) {
        switch self {
        case .hello(let hello):
            w.u64(WireFormat.magicWord)
            w.u16(hello.minVersion)
            w.u16(hello.maxVersion)
            w.u16(UInt16(hello.software.utf8.count))
            w.text(hello.software)
        case .welcome(let welcome):
            w.u64(WireFormat.magicWord)
            w.u16(welcome.version)
            w.u16(UInt16(welcome.reveal.rawValue))
            w.u32(welcome.maxPayloadBytes)
            w.u32(welcome.maxBatchValues)
            w.u32(welcome.maxInFlight)
            w.u32(welcome.idleTimeoutSeconds)
            w.u32(welcome.allowedTypes.rawValue)
            w.u64(welcome.policyVersion)
            w.u16(UInt16(welcome.partner.utf8.count))
            w.text(welcome.partner)
        case .ping(let ping):
            w.u64(ping.opaque)
        case .pong(let pong):
            w.u64(pong.opaque)
        case .error(let error):
            w.u16(error.code.rawValue)
            w.u16(UInt16(error.reason.utf8.count))
            w.text(error.reason)
        case .query(let query):
            let fields = query.fields
            w.u8(fields.priority.rawValue)
            w.u8(0)
            for text in [fields.purpose, fields.legalBasis, fields.reference, fields.timeZone] {
                w.u16(UInt16(text.utf8.count))
            }
            w.u16(0)
            w.u32(UInt32(query.values.count))
            for text in [fields.purpose, fields.legalBasis, fields.reference, fields.timeZone] { w.text(text) }
            w.bytes(query.values.wireBytes)
        case .result(let result):
            w.u32(UInt32(result.entries.count))
            w.bytes(result.entries.wireBytes)
        case .uploadBegin, .uploadRecords, .uploadCommit, .uploadResult, .withdraw, .withdrawResult:
            writeFeedPayload(&w)
        }
    }
}
