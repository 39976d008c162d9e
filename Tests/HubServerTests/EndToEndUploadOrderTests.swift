import Foundation
import HubClient
import HubServer
import HubWire
import IndicatorKit
import Testing

/// The upload order and state rules (docs/PROTOCOL.md, "Order and state rules") with frames
/// built by hand, a dropped connection and the upload timeout.
@Suite struct EndToEndUploadOrderTests {
    /// The next frame must be an ERROR for `requestID` with `code`.
    static func expectError(_ raw: RawClient, _ requestID: UInt64, _ code: ErrorCode,
                            sourceLocation: SourceLocation = #_sourceLocation) {
        let (message, event) = raw.nextMessage()
        guard case .error(let error)? = message else {
            Issue.record("expected ERROR \(code.name), got \(String(describing: message)) (\(event))", sourceLocation: sourceLocation)
            return
        }
        #expect(error.requestID == requestID && error.code == code, "\(error)", sourceLocation: sourceLocation)
    }

    /// A PING answered by its PONG, with nothing in between: no stray answer was sent.
    static func expectQuiet(_ raw: RawClient, sourceLocation: SourceLocation = #_sourceLocation) throws {
        try raw.send(try Message.ping(Ping(opaque: 77)).encoded())
        let (message, event) = raw.nextMessage()
        guard case .pong(let pong)? = message else {
            Issue.record("expected the PONG, got \(String(describing: message)) (\(event))", sourceLocation: sourceLocation)
            return
        }
        #expect(pong.opaque == 77, sourceLocation: sourceLocation)
    }

    @Test func chunksOutOfOrderRefuseTheUploadAndItsCommitFreesTheId() throws {
        let hub = try EndToEndHub.withSources()
        defer { hub.stop() }
        let raw = try RawClient(port: hub.port, context: try hub.context(Source.a))
        #expect(try raw.hello().version == 2)

        // A chunk that does not start at record 0.
        try raw.send(try UploadFrames.begin(1, count: 2))
        try raw.send(try UploadFrames.records(1, first: 1, ["192.0.2.1"]))
        Self.expectError(raw, 1, .uploadState)
        try raw.send(try UploadFrames.records(1, first: 0, ["192.0.2.1", "192.0.2.2"]))  // dropped
        try raw.send(try UploadFrames.commit(1, count: 2))  // frees the id, no answer
        try Self.expectQuiet(raw)

        // More records than declared.
        try raw.send(try UploadFrames.begin(2, count: 1))
        try raw.send(try UploadFrames.records(2, first: 0, ["192.0.2.3", "192.0.2.4"]))
        Self.expectError(raw, 2, .uploadState)
        try raw.send(try UploadFrames.commit(2, count: 1))
        try Self.expectQuiet(raw)

        // A second BEGIN while one is open; the first goes on.
        try raw.send(try UploadFrames.begin(3, count: 1))
        try raw.send(try UploadFrames.begin(4, count: 1))
        Self.expectError(raw, 4, .uploadState)
        try raw.send(try UploadFrames.commit(4, count: 1))
        try raw.send(try UploadFrames.records(3, first: 0, ["192.0.2.5"]))
        // A COMMIT whose count differs: the ERROR is the answer, nothing is applied.
        try raw.send(try UploadFrames.commit(3, count: 2))
        Self.expectError(raw, 3, .uploadState)
        try Self.expectQuiet(raw)

        // The connection still uploads: the id of a committed upload may be used again.
        try raw.send(try UploadFrames.begin(1, count: 1))
        try raw.send(try UploadFrames.records(1, first: 0, ["192.0.2.6"]))
        try raw.send(try UploadFrames.commit(1, count: 1))
        let (message, event) = raw.nextMessage()
        guard case .uploadResult(let result)? = message else {
            Issue.record("expected UPLOAD_RESULT, got \(String(describing: message)) (\(event))")
            return
        }
        #expect(result.requestID == 1 && result.accepted == 1)
        for value in ["192.0.2.1", "192.0.2.2", "192.0.2.3", "192.0.2.4", "192.0.2.5"] {
            #expect(try hub.lookup(value) == nil, "\(value) of a refused upload is listed")
        }
        #expect(try hub.lookup("192.0.2.6") != nil)

        // Records for no open upload close the connection.
        try raw.send(try UploadFrames.records(9, first: 0, ["192.0.2.7"]))
        let (error, _) = raw.awaitErrorAndClose()
        #expect(error?.code == .unexpectedMessage)
        #expect(hub.server.shared.feeds?.uploadsInProgress == 0)
    }

    /// A COMMIT and a QUERY reusing the refused upload's id arrive before the refusal's ERROR
    /// has been sent (group sync: the ERROR waits for its record's `fdatasync`): the id is still
    /// in flight, so the QUERY is a duplicate (connection closed) — it must not be ended by the
    /// old ERROR, and the hub keeps serving.
    @Test func reusingARefusedUploadsIdBeforeItsErrorIsADuplicate() throws {
        let hub = try EndToEndHub.withSources(auditSync: .group)
        defer { hub.stop() }
        let raw = try RawClient(port: hub.port, context: try hub.context(Source.a))
        _ = try raw.hello()
        var burst = try UploadFrames.begin(5, count: 2)
        burst += try UploadFrames.records(5, first: 1, ["192.0.2.1"])
        burst += try UploadFrames.commit(5, count: 2)
        burst += try RawFrames.query(id: 5, [(.ipv4, "192.0.2.1")])
        try raw.send(burst)
        // The refusal's ERROR may come first or be dropped with the connection; the last
        // ERROR is the connection-level one.
        let (error, end) = raw.awaitErrorAndClose()
        #expect(error?.code == .duplicateRequestID && error?.requestID == 0, "\(String(describing: error))")
        #expect(end == .closed)
        // The hub still serves this source.
        #expect(try hub.push(Source.a, [PushRecord(type: nil, "192.0.2.9")]).result?.accepted == 1)
    }

    @Test func aConnectionDroppedMidUploadLeavesNothing() throws {
        let hub = try EndToEndHub.withSources()
        defer { hub.stop() }
        let id = UploadID.random()
        do {
            let raw = try RawClient(port: hub.port, context: try hub.context(Source.a))
            _ = try raw.hello()
            try raw.send(try UploadFrames.begin(1, id: id, count: 2))
            try raw.send(try UploadFrames.records(1, first: 0, ["198.51.100.50"]))
            try Self.expectQuiet(raw)
            #expect(hub.server.shared.feeds?.uploadsInProgress == 1)
            // A retry on another connection while the first is open: in progress.
            #expect(try hub.push(Source.a, [PushRecord(type: nil, "198.51.100.50")], id: id).refusalCode == .uploadInProgress)
        }  // the raw client is released: its socket closes without a COMMIT
        #expect(waitUntil { hub.server.shared.feeds?.uploadsInProgress == 0 })
        #expect(try hub.lookup("198.51.100.50") == nil)
        #expect(hub.server.live.receipt(of: id) == nil)
        // The id was never applied: the retry applies it now.
        let result = try #require(try hub.push(Source.a, [PushRecord(type: nil, "198.51.100.50")], id: id).result)
        #expect(!result.alreadyApplied && result.accepted == 1)
        #expect(try hub.lookup("198.51.100.50") != nil)
    }

    @Test func anUploadWithoutFramesTimesOut() throws {
        var limits = testLimits()
        limits.uploadTimeout = 0.3
        let hub = try EndToEndHub.withSources(limits: limits)
        defer { hub.stop() }
        let raw = try RawClient(port: hub.port, context: try hub.context(Source.a))
        _ = try raw.hello()
        try raw.send(try UploadFrames.begin(1, count: 2))
        try raw.send(try UploadFrames.records(1, first: 0, ["198.51.100.60"]))
        let (message, _) = raw.nextMessage(timeout: 5)
        guard case .error(let error)? = message else {
            Issue.record("expected the timeout's ERROR, got \(String(describing: message))")
            return
        }
        #expect(error.requestID == 1 && error.code == .uploadState && error.reason.contains("no UPLOAD_RECORDS"))
        try raw.send(try UploadFrames.records(1, first: 1, ["198.51.100.61"]))  // dropped
        try raw.send(try UploadFrames.commit(1, count: 2))  // no answer
        try Self.expectQuiet(raw)
        #expect(try hub.lookup("198.51.100.60") == nil && hub.lookup("198.51.100.61") == nil)
        #expect(hub.log.lines("upload_timeout").count == 1)
    }
}
