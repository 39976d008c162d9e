import IndicatorKit
import Testing
@testable import HubWire

@Suite struct FrameDecoderTests {
    func stream() throws -> (bytes: [UInt8], frames: [Frame]) {
        var bytes: [UInt8] = []
        var frames: [Frame] = []
        for message in try sampleMessages() {
            let encoded = try message.encoded()
            bytes += encoded
            var decoder = FrameDecoder(maxPayloadBytes: WireFormat.maxPayloadBytes, version: WireFormat.maxVersion)
            frames += try decoder.feed(encoded)
        }
        return (bytes, frames)
    }

    @Test func framesSplitAtEveryByteBoundaryDecodeTheSame() throws {
        let (bytes, frames) = try stream()
        #expect(frames.count == (try sampleMessages()).count)
        // Two pieces, cut at every position.
        for cut in 0...bytes.count {
            var decoder = FrameDecoder(maxPayloadBytes: WireFormat.maxPayloadBytes, version: WireFormat.maxVersion)
            var out = try decoder.feed(Array(bytes[..<cut]))
            out += try decoder.feed(Array(bytes[cut...]))
            try decoder.finish()
            #expect(out == frames, "cut at \(cut)")
        }
    }

    @Test func framesFedOneByteAtATimeDecodeTheSame() throws {
        let (bytes, frames) = try stream()
        var decoder = FrameDecoder(maxPayloadBytes: WireFormat.maxPayloadBytes, version: WireFormat.maxVersion)
        var out: [Frame] = []
        for (index, byte) in bytes.enumerated() {
            out += try decoder.feed([byte])
            if decoder.isAtFrameBoundary { #expect(decoder.bufferedByteCount == 0, "after byte \(index)") }
        }
        try decoder.finish()
        #expect(out == frames)
    }

    @Test func framesFedInRandomChunksDecodeTheSame() throws {
        let (bytes, frames) = try stream()
        var random = SplitMix64(seed: 7)
        for _ in 0..<200 {
            var decoder = FrameDecoder(maxPayloadBytes: WireFormat.maxPayloadBytes, version: WireFormat.maxVersion)
            var out: [Frame] = []
            var pos = 0
            while pos < bytes.count {
                let n = min(bytes.count - pos, Int(random.next() % 40))
                out += try decoder.feed(Array(bytes[pos..<(pos + n)]))
                pos += n
            }
            #expect(out == frames)
        }
    }

    @Test func nextReportsHowManyBytesItUsed() throws {
        let (bytes, frames) = try stream()
        var decoder = FrameDecoder(maxPayloadBytes: WireFormat.maxPayloadBytes, version: WireFormat.maxVersion)
        try bytes.withUnsafeBufferPointer { (all) throws(WireError) in
            let (frame, used) = try decoder.next(from: all)
            #expect(frame == frames[0])
            #expect(used == WireFormat.headerSize + frames[0].payload.count)
        }
    }

    @Test func anOversizedLengthIsRefusedWhenTheHeaderArrives() throws {
        let header = RawFrame(length: 4097, type: MessageType.hello.rawValue).bytes
        var decoder = FrameDecoder()
        // Fifteen bytes: nothing to judge yet.
        #expect(try decoder.feed(Array(header[..<15])).isEmpty)
        #expect(wireError { _ = try decoder.feed([header[15]]) } == .frameTooLarge(length: 4097, limit: 4096))
        // The error is final.
        #expect(wireError { _ = try decoder.feed([0]) } == .frameTooLarge(length: 4097, limit: 4096))
        #expect(wireError { try decoder.finish() } == .frameTooLarge(length: 4097, limit: 4096))

        // After the handshake the limit is the advertised one; u32 max is refused without buffering.
        var session = FrameDecoder(maxPayloadBytes: WireFormat.maxPayloadBytes, version: WireFormat.maxVersion)
        let huge = RawFrame(length: .max, type: MessageType.query.rawValue, requestID: 1).bytes
        #expect(wireError { _ = try session.feed(huge + [1, 2, 3]) }
            == .frameTooLarge(length: Int(UInt32.max), limit: WireFormat.maxPayloadBytes))
        #expect(session.bufferedByteCount == 0)
    }

    @Test func aFrameAtTheLimitIsAccepted() throws {
        var decoder = FrameDecoder()
        let frame = RawFrame(type: MessageType.ping.rawValue, payload: [UInt8](repeating: 7, count: 4096))
        let frames = try decoder.feed(frame.bytes)
        #expect(frames.count == 1 && frames[0].payload.count == 4096)
    }

    @Test func aStreamEndingInsideAFrameIsTruncated() throws {
        let bytes = try Message.ping(Ping(opaque: 1)).encoded()
        for cut in 1..<bytes.count {
            var decoder = FrameDecoder()
            #expect(try decoder.feed(Array(bytes[..<cut])).isEmpty)
            #expect(!decoder.isAtFrameBoundary)
            #expect(decoder.bufferedByteCount == cut)
            let expected = cut < 16 ? WireError.truncatedFrame(received: cut, expected: 16)
                                    : .truncatedFrame(received: cut, expected: 24)
            #expect(wireError { try decoder.finish() } == expected)
            #expect(expected.code == .truncatedFrame)
        }
        var empty = FrameDecoder()
        try empty.finish()
        #expect(try empty.feed([]).isEmpty)
    }

    @Test func headerChecksRunInTheDocumentsOrder() throws {
        func firstError(_ frame: RawFrame, limit: Int = 4096) -> WireError? {
            var decoder = FrameDecoder(maxPayloadBytes: limit)
            return wireError { _ = try decoder.feed(frame.bytes) }
        }
        // Length before type, type before flags, flags before the request id rule.
        #expect(firstError(RawFrame(length: 5000, type: 0xEE, flags: 1, requestID: 5)) == .frameTooLarge(length: 5000, limit: 4096))
        #expect(firstError(RawFrame(type: 0xEE, flags: 1, requestID: 5)) == .unknownMessageType(0xEE))
        #expect(firstError(RawFrame(type: 0x03, flags: 1, requestID: 5)) == .nonZeroHeaderBits(flags: 1, reserved: 0))
        #expect(firstError(RawFrame(type: 0x03, reserved: 0x100)) == .nonZeroHeaderBits(flags: 0, reserved: 0x100))
        #expect(firstError(RawFrame(type: 0x03, requestID: 5, payload: [0, 0, 0, 0, 0, 0, 0, 0]))
            == .requestIDMustBeZero(.ping, requestID: 5))
        #expect(firstError(RawFrame(type: 0x10)) == .requestIDRequired(.query))
        #expect(firstError(RawFrame(type: 0x11)) == .requestIDRequired(.result))
        #expect(WireError.requestIDRequired(.query).code == .malformedFrame)
    }

    @Test func everyUnassignedAndReservedTypeIsUnknown() throws {
        for byte in UInt8.min...UInt8.max where MessageType(rawValue: byte) == nil {
            var decoder = FrameDecoder()
            let error = wireError { _ = try decoder.feed(RawFrame(type: byte, requestID: 1).bytes) }
            #expect(error == .unknownMessageType(byte))
            #expect(error?.code == .unknownMessageType && error?.closesConnection == true)
        }
        #expect(WireError.unknownMessageType(0x26).description.contains("feed messages"))
        #expect(WireError.unknownMessageType(0x30).description.contains("OPRF"))
        #expect(WireError.unknownMessageType(0x99).description == "unknown message type 0x99")
    }

    @Test func anEmptyPayloadFrameCompletesAtItsHeader() throws {
        var decoder = FrameDecoder()
        let frames = try decoder.feed(RawFrame(type: MessageType.ping.rawValue).bytes + [0x08])
        #expect(frames == [Frame(type: .ping, requestID: 0, payload: [])])
        #expect(decoder.bufferedByteCount == 1)
        #expect(parse(frames[0]) == .failure(.malformedPayload(.ping, .truncated(.opaqueBytes, offset: 0, needed: 8, available: 0))))
    }
}
