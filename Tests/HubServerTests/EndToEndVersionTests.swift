import Foundation
import HubClient
import HubWire
import Testing

/// The hub speaks versions 1 and 2 (uploads need its live store): a client offering 1–2 gets
/// version 2; a client that speaks only version 1 gets version 1 and works exactly as before,
/// and a version 2 frame on its connection is `unknown_message_type`.
@Suite struct EndToEndVersionTests {
    @Test func aClientOfferingTwoGetsTwo() throws {
        let hub = try EndToEndHub()
        defer { hub.stop() }
        let client = try hub.client()
        defer { client.close() }
        #expect(client.welcome.version == 2)
        var good = try GoodPartner(hub)
        good.check("on a version 2 connection")
    }

    @Test func aVersionOneClientIsServedAsBeforeAndUploadFramesAreRefused() throws {
        let hub = try EndToEndHub()
        defer { hub.stop() }
        let raw = try RawClient(port: hub.port, context: try hub.context(Partner.good))
        let welcome = try raw.hello(maxVersion: 1)
        #expect(welcome.version == 1)
        try raw.send(try RawFrames.query(id: 1, [(.iban, Listed.iban)]))
        let (answer, _) = raw.nextMessage()
        guard case .result(let result)? = answer else {
            Issue.record("expected a RESULT, got \(String(describing: answer))")
            return
        }
        #expect(result.requestID == 1 && result.entries.count == 1)
        let begin = try Message.uploadBegin(UploadBegin(requestID: 2, uploadID: .random(), recordCount: 1)).encoded()
        try raw.send(begin)
        let (error, _) = raw.awaitErrorAndClose()
        #expect(error?.code == .unknownMessageType)
        #expect(error?.reason.contains("protocol version 2") == true)
    }
}
