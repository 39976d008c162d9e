import Foundation
import Glibc
import HubTLS
import HubWire
import Testing

/// Frames that break the protocol after a good TLS handshake: too large, truncated, of an
/// unknown type. Each is connection-level (docs/PROTOCOL.md, "Error codes" 1–99): ERROR with
/// request id 0 and a clean close (close_notify), or — when the peer is gone — a log line.
/// None of them is a request, so none is audited; the good partner is unaffected.
@Suite struct EndToEndFrameTests {
    /// Expects ERROR `code` with request id 0, then close_notify.
    static func expectConnectionError(_ client: RawClient, _ code: ErrorCode, _ what: String,
                                      sourceLocation: SourceLocation = #_sourceLocation) {
        let (error, end) = client.awaitErrorAndClose()
        #expect(error?.code == code, "\(what): got \(String(describing: error)), then \(end)", sourceLocation: sourceLocation)
        #expect(error?.requestID == 0, sourceLocation: sourceLocation)
        #expect(end == .closed, "\(what): the hub did not close cleanly (\(end))", sourceLocation: sourceLocation)
    }

    @Test func frameLargerThanTheAdvertisedLimitClosesTheConnection() throws {
        let hub = try EndToEndHub()
        var good = try GoodPartner(hub)
        let client = try RawClient(port: hub.port, context: try hub.context(Partner.small))
        let welcome = try client.hello()
        #expect(welcome.maxPayloadBytes == UInt32(WireFormat.maxPayloadBytes))
        // Only the header: the hub must refuse it before any payload arrives.
        try client.send(RawFrames.header(length: welcome.maxPayloadBytes + 1, type: MessageType.query.rawValue, requestID: 1))
        Self.expectConnectionError(client, .frameTooLarge, "oversized QUERY")
        #expect(hub.log.await("protocol_error", containing: ["code=frame_too_large", "partner=\(Partner.small)"]) != nil)
        good.check("after an oversized frame")
        try finish(hub, good: good, noRecordsFor: [Partner.small])
    }

    @Test func firstFrameLargerThanTheHandshakeLimitClosesTheConnection() throws {
        let hub = try EndToEndHub()
        var good = try GoodPartner(hub)
        let client = try RawClient(port: hub.port, context: try hub.context(Partner.small))
        try client.send(RawFrames.header(length: UInt32(WireFormat.handshakePayloadLimit + 1), type: MessageType.hello.rawValue))
        Self.expectConnectionError(client, .frameTooLarge, "oversized HELLO")
        good.check("after an oversized HELLO")
        try finish(hub, good: good, noRecordsFor: [Partner.small])
    }

    @Test func truncatedFrameThenCloseIsLogged() throws {
        let hub = try EndToEndHub()
        var good = try GoodPartner(hub)
        do {
            let client = try RawClient(port: hub.port, context: try hub.context(Partner.small))
            _ = try client.hello()
            let frame = try RawFrames.query(id: 1, [(.iban, Listed.iban)])
            try client.send(Array(frame.prefix(frame.count - 5)))
            good.check("while a frame is incomplete")
            client.closeNotify()
        }  // the socket is closed here
        #expect(hub.log.await("protocol_error", containing: ["code=truncated_frame", "partner=\(Partner.small)"]) != nil)
        #expect(waitUntil { hub.sessions == 1 }, "the truncated connection is still open")
        good.check("after a truncated frame")
        try finish(hub, good: good, noRecordsFor: [Partner.small])
    }

    @Test func truncatedFrameWithoutCloseTimesOut() throws {
        let hub = try EndToEndHub(limits: testLimits(frame: 0.5))
        var good = try GoodPartner(hub)
        let client = try RawClient(port: hub.port, context: try hub.context(Partner.small))
        _ = try client.hello()
        let frame = try RawFrames.query(id: 1, [(.iban, Listed.iban)])
        let started = monotonicSeconds()
        try client.send(Array(frame.prefix(10)))  // part of the header only
        good.check("while a frame is incomplete")
        Self.expectConnectionError(client, .frameTimeout, "slow sender")
        #expect(monotonicSeconds() - started >= 0.5, "closed before the frame timeout")
        good.check("after a frame timeout")
        try finish(hub, good: good, noRecordsFor: [Partner.small])
    }

    @Test func unknownMessageTypesCloseTheConnection() throws {
        let hub = try EndToEndHub()
        var good = try GoodPartner(hub)
        // Unassigned, version 2's upload types on a version 1 connection, reserved for later
        // feed messages, private mode and the pre-filter, and the top value.
        for type: UInt8 in [0x00, 0x06, 0x12, 0x20, 0x26, 0x2F, 0x30, 0x40, 0x4F, 0x80, 0xFF] {
            let client = try RawClient(port: hub.port, context: try hub.context(Partner.small))
            _ = try client.hello(maxVersion: type == 0x20 ? 1 : 2)
            try client.send(RawFrames.header(length: 0, type: type))
            Self.expectConnectionError(client, .unknownMessageType, "type 0x\(String(type, radix: 16))")
            good.check("after message type 0x\(String(type, radix: 16))")
        }
        // As the very first frame too (before HELLO).
        let first = try RawClient(port: hub.port, context: try hub.context(Partner.small))
        try first.send(RawFrames.header(length: 4, type: 0x21) + [1, 2, 3, 4])
        Self.expectConnectionError(first, .unknownMessageType, "unknown first frame")
        #expect(hub.log.lines("protocol_error", containing: ["code=unknown_message_type"]).count == 12)
        good.check("after unknown message types")
        try finish(hub, good: good, noRecordsFor: [Partner.small])
    }
}
