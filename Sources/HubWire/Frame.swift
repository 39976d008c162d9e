/// One frame: the validated header fields and the payload bytes (docs/PROTOCOL.md, "Frames").
/// Flags and reserved bytes are zero in version 1, so they are not kept.
public struct Frame: Equatable, Sendable {
    public var type: MessageType
    public var requestID: UInt64
    public var payload: [UInt8]

    public init(type: MessageType, requestID: UInt64, payload: [UInt8]) {
        self.type = type
        self.requestID = requestID
        self.payload = payload
    }

    /// The frame as sent: header, then payload.
    public var bytes: [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity(WireFormat.headerSize + payload.count)
        FrameHeader.append(type: type, requestID: requestID, payloadLength: payload.count, to: &out)
        out.append(contentsOf: payload)
        return out
    }
}

/// The 16-byte frame header: reading, checking and writing it.
enum FrameHeader {
    /// Checks a complete header in the order the document gives (length, type, flags and
    /// reserved, request id rule) and returns its fields.
    static func parse(_ header: UnsafeRawBufferPointer, limit: Int, version: UInt16) throws(WireError)
        -> (type: MessageType, requestID: UInt64, length: Int) {
        precondition(header.count >= WireFormat.headerSize)
        let length = Int(UInt32(littleEndian: header.loadUnaligned(
            fromByteOffset: WireFormat.HeaderOffset.payloadLength, as: UInt32.self)))
        if length > limit { throw .frameTooLarge(length: length, limit: limit) }
        let typeByte = header[WireFormat.HeaderOffset.type]
        guard let type = MessageType(rawValue: typeByte) else { throw .unknownMessageType(typeByte) }
        if type.sinceVersion > version { throw .messageTypeNotInVersion(type, version: version) }
        let flags = header[WireFormat.HeaderOffset.flags]
        let reserved = UInt16(littleEndian: header.loadUnaligned(
            fromByteOffset: WireFormat.HeaderOffset.reserved, as: UInt16.self))
        if flags != 0 || reserved != 0 { throw .nonZeroHeaderBits(flags: flags, reserved: reserved) }
        let requestID = UInt64(littleEndian: header.loadUnaligned(
            fromByteOffset: WireFormat.HeaderOffset.requestID, as: UInt64.self))
        try checkRequestID(requestID, for: type)
        return (type, requestID, length)
    }

    /// The request id rule of a type (ERROR's depends on its code and is checked by its parser).
    static func checkRequestID(_ requestID: UInt64, for type: MessageType) throws(WireError) {
        switch type.requestIDRule {
        case .zero: if requestID != 0 { throw .requestIDMustBeZero(type, requestID: requestID) }
        case .nonZero: if requestID == 0 { throw .requestIDRequired(type) }
        case .byErrorCode: break
        }
    }

    /// Appends a header to `out`.
    static func append(type: MessageType, requestID: UInt64, payloadLength: Int, to out: inout [UInt8]) {
        precondition(payloadLength >= 0 && payloadLength <= Int(UInt32.max))
        let length = UInt32(payloadLength)
        for shift in stride(from: 0, to: 32, by: 8) { out.append(UInt8(truncatingIfNeeded: length >> UInt32(shift))) }
        out.append(type.rawValue)
        out.append(0)  // flags
        out.append(0)  // reserved
        out.append(0)
        for shift in stride(from: 0, to: 64, by: 8) { out.append(UInt8(truncatingIfNeeded: requestID >> UInt64(shift))) }
    }

    /// Writes a header at the writer's position.
    static func write(type: MessageType, requestID: UInt64, payloadLength: Int, to writer: inout PayloadWriter) {
        precondition(payloadLength >= 0 && payloadLength <= Int(UInt32.max))
        writer.u32(UInt32(payloadLength))
        writer.u8(type.rawValue)
        writer.u8(0)
        writer.u16(0)
        writer.u64(requestID)
    }
}
