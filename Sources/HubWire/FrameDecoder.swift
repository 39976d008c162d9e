/// Cuts a byte stream into frames (docs/PROTOCOL.md, "Frames"). Feed it whatever chunks the
/// socket returns — a frame may arrive split over any number of them, and one chunk may hold
/// many frames — and it hands out complete frames.
///
/// It checks each header as soon as its 16 bytes are there (length over `maxPayloadBytes`,
/// unknown type, non-zero flags or reserved bytes, request id rule) before buffering any of the
/// payload, and it never holds more than one header and one payload (at most the limit). The
/// first error is final: the connection must be closed, and every later call throws it again.
public struct FrameDecoder: Sendable {
    /// The payload limit for frames whose header has not been read yet. Starts at the handshake
    /// limit; a hub raises it to the max payload it advertised after sending WELCOME, a client
    /// to `WireFormat.maxPayloadBytes` after receiving WELCOME.
    public var maxPayloadBytes: Int
    /// The connection's protocol version: message types of later versions are refused as
    /// unknown. Starts at 1 (the handshake's messages are the same in every version); each
    /// side sets the negotiated version once WELCOME has been sent or received.
    public var version: UInt16

    /// Header bytes of a frame whose header is still incomplete (capacity 16, reused).
    private var header: [UInt8] = []
    /// The frame whose payload is being collected.
    private var current: (type: MessageType, requestID: UInt64, length: Int)?
    private var payload: [UInt8] = []
    private var failure: WireError?

    public init(maxPayloadBytes: Int = WireFormat.handshakePayloadLimit, version: UInt16 = 1) {
        precondition(maxPayloadBytes >= 0 && maxPayloadBytes <= Int(UInt32.max))
        self.maxPayloadBytes = maxPayloadBytes
        self.version = version
        header.reserveCapacity(WireFormat.headerSize)
    }

    /// No partial frame is buffered.
    public var isAtFrameBoundary: Bool { header.isEmpty && current == nil }

    /// Bytes of the partial frame received so far (header included).
    public var bufferedByteCount: Int {
        current == nil ? header.count : WireFormat.headerSize + payload.count
    }

    /// Consumes bytes from the front of `input` until one frame is complete (returned with the
    /// number of bytes used) or the input is used up (nil, all bytes used).
    public mutating func next(from input: UnsafeBufferPointer<UInt8>) throws(WireError)
        -> (frame: Frame?, consumed: Int) {
        if let failure { throw failure }
        do {
            return try step(input)
        } catch {
            failure = error
            throw error
        }
    }

    /// Feeds a whole chunk, appending every frame it completes to `frames`.
    public mutating func feed(_ input: UnsafeBufferPointer<UInt8>, into frames: inout [Frame]) throws(WireError) {
        var rest = input
        repeat {
            let (frame, consumed) = try next(from: rest)
            if let frame { frames.append(frame) }
            rest = UnsafeBufferPointer(rebasing: rest[consumed...])
        } while !rest.isEmpty
    }

    /// Feeds a whole chunk and returns the frames it completes.
    public mutating func feed(_ bytes: [UInt8]) throws(WireError) -> [Frame] {
        var frames: [Frame] = []
        try bytes.withUnsafeBufferPointer { (input) throws(WireError) in try feed(input, into: &frames) }
        return frames
    }

    /// The stream has ended: throws `truncatedFrame` when it ended inside a frame.
    public func finish() throws(WireError) {
        if let failure { throw failure }
        if let current {
            throw .truncatedFrame(received: WireFormat.headerSize + payload.count,
                                  expected: WireFormat.headerSize + current.length)
        }
        if !header.isEmpty {
            throw .truncatedFrame(received: header.count, expected: WireFormat.headerSize)
        }
    }

    private mutating func step(_ input: UnsafeBufferPointer<UInt8>) throws(WireError) -> (frame: Frame?, consumed: Int) {
        var used = 0
        if current == nil {
            if header.isEmpty && input.count >= WireFormat.headerSize {
                // Fast path: the whole header is in this chunk; read it in place.
                try begin(UnsafeRawBufferPointer(UnsafeBufferPointer(rebasing: input[0..<WireFormat.headerSize])))
                used = WireFormat.headerSize
            } else {
                let take = min(WireFormat.headerSize - header.count, input.count)
                header.append(contentsOf: UnsafeBufferPointer(rebasing: input[0..<take]))
                used = take
                guard header.count == WireFormat.headerSize else { return (nil, used) }
                let copy = header
                header.removeAll(keepingCapacity: true)
                try copy.withUnsafeBufferPointer { (buffer) throws(WireError) in try begin(UnsafeRawBufferPointer(buffer)) }
            }
        }
        guard let frame = current else { return (nil, used) }
        let take = min(frame.length - payload.count, input.count - used)
        if payload.isEmpty && take == frame.length {
            // Fast path: the whole payload is in this chunk; one exact-size copy.
            payload = Array(UnsafeBufferPointer(rebasing: input[used..<(used + take)]))
        } else if take > 0 {
            // Split payload: reserve its exact size once (bounded by the limit checked in begin).
            if payload.isEmpty { payload.reserveCapacity(frame.length) }
            payload.append(contentsOf: UnsafeBufferPointer(rebasing: input[used..<(used + take)]))
        }
        used += take
        guard payload.count == frame.length else { return (nil, used) }
        let complete = Frame(type: frame.type, requestID: frame.requestID, payload: payload)
        payload = []
        current = nil
        return (complete, used)
    }

    /// Checks a complete header; its payload is collected next.
    private mutating func begin(_ raw: UnsafeRawBufferPointer) throws(WireError) {
        current = try FrameHeader.parse(raw, limit: maxPayloadBytes, version: version)
        payload = []
    }
}
