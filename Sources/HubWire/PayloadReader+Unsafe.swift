/// A cursor over a payload's bytes for the parsers: explicit little-endian loads
/// (`loadUnaligned` + `init(littleEndian:)`, never binding memory to a struct) and cdb-style
/// bounds checks that cannot overflow (`pos <= size && size - pos >= len`). It lives only inside
/// a `withUnsafeBufferPointer` scope of the payload and must not escape it.
struct PayloadReader {
    let raw: UnsafeRawBufferPointer
    let type: MessageType
    private(set) var pos = 0

    init(_ raw: UnsafeRawBufferPointer, type: MessageType) {
        self.raw = raw
        self.type = type
    }

    var remaining: Int { raw.count - pos }

    /// Whether `length` more bytes are there.
    @inline(__always)
    func has(_ length: Int) -> Bool {
        length >= 0 && pos <= raw.count && raw.count - pos >= length
    }

    @inline(__always)
    private func need(_ length: Int, _ field: WireField) throws(WireError) {
        guard has(length) else {
            throw .malformedPayload(type, .truncated(field, offset: pos, needed: length, available: max(0, remaining)))
        }
    }

    mutating func u8(_ field: WireField) throws(WireError) -> UInt8 {
        try need(1, field)
        defer { pos += 1 }
        return raw[pos]
    }

    mutating func u16(_ field: WireField) throws(WireError) -> UInt16 {
        try need(2, field)
        defer { pos += 2 }
        return UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: pos, as: UInt16.self))
    }

    mutating func u32(_ field: WireField) throws(WireError) -> UInt32 {
        try need(4, field)
        defer { pos += 4 }
        return UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: pos, as: UInt32.self))
    }

    mutating func u64(_ field: WireField) throws(WireError) -> UInt64 {
        try need(8, field)
        defer { pos += 8 }
        return UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: pos, as: UInt64.self))
    }

    /// The next `length` bytes, as a view into the payload.
    mutating func bytes(_ length: Int, _ field: WireField) throws(WireError) -> UnsafeRawBufferPointer {
        try need(length, field)
        defer { pos += length }
        return UnsafeRawBufferPointer(rebasing: raw[pos..<(pos + length)])
    }

    /// Text of `length` bytes that must be well-formed, control-free UTF-8.
    mutating func text(_ length: Int, _ field: WireField) throws(WireError) -> String {
        let view = try bytes(length, field)
        if let fault = TextRules.fault(in: view) { throw .malformedPayload(type, .invalidText(field, fault)) }
        return String(decoding: view, as: UTF8.self)
    }

    /// The payload must end here.
    func end() throws(WireError) {
        if remaining != 0 { throw .malformedPayload(type, .trailingBytes(count: remaining)) }
    }
}

/// Explicit little-endian stores into caller memory for the encoders. Every write is
/// bounds-checked against the buffer (an encoder sizes the buffer first, so a failure here is
/// a programmer error and traps).
struct PayloadWriter {
    let raw: UnsafeMutableRawBufferPointer
    private(set) var pos: Int

    init(_ raw: UnsafeMutableRawBufferPointer, at pos: Int = 0) {
        self.raw = raw
        self.pos = pos
    }

    @inline(__always)
    private func room(_ length: Int) {
        precondition(pos <= raw.count && raw.count - pos >= length, "encoder sized its buffer wrongly")
    }

    mutating func u8(_ value: UInt8) {
        room(1)
        raw[pos] = value
        pos += 1
    }

    mutating func u16(_ value: UInt16) {
        room(2)
        raw.storeBytes(of: value.littleEndian, toByteOffset: pos, as: UInt16.self)
        pos += 2
    }

    mutating func u32(_ value: UInt32) {
        room(4)
        raw.storeBytes(of: value.littleEndian, toByteOffset: pos, as: UInt32.self)
        pos += 4
    }

    mutating func u64(_ value: UInt64) {
        room(8)
        raw.storeBytes(of: value.littleEndian, toByteOffset: pos, as: UInt64.self)
        pos += 8
    }

    mutating func bytes(_ source: UnsafeRawBufferPointer) {
        room(source.count)
        if let base = source.baseAddress, source.count > 0 {
            (raw.baseAddress! + pos).copyMemory(from: base, byteCount: source.count)
        }
        pos += source.count
    }

    mutating func bytes(_ source: ArraySlice<UInt8>) {
        source.withUnsafeBytes { bytes($0) }
    }

    mutating func text(_ string: String) {
        var string = string
        string.withUTF8 { bytes(UnsafeRawBufferPointer($0)) }
    }
}
