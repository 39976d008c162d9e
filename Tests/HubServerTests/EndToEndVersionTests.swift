import Foundation
import HubClient
import HubWire
import Testing

/// The hub of today speaks protocol version 1 only (uploads need the live store): a client
/// offering 1–2 is welcomed with version 1, `push` says the hub has no uploads before sending
/// anything, and a version 2 frame on the connection is `unknown_message_type`.
@Suite struct EndToEndVersionTests {
    @Test func aVersionOneHubNegotiatesOneAndRefusesUploadFrames() throws {
        let hub = try EndToEndHub()
        defer { hub.stop() }
        let client = try hub.client()
        defer { client.close() }
        #expect(client.welcome.version == 1)
        #expect {
            try client.push(records: [PushRecord(type: .ipv4, "198.51.100.1")], uploadID: .random())
        } throws: { error in
            guard let error = error as? ClientError, case .notSupported = error else { return false }
            return true
        }
        #expect(try client.ping() >= 0)  // nothing was sent: the connection is fine

        let raw = try RawClient(port: hub.port, context: try hub.context(Partner.good))
        _ = try raw.hello()
        let begin = try Message.uploadBegin(UploadBegin(requestID: 1, uploadID: .random(), recordCount: 1)).encoded()
        try raw.send(begin)
        let (error, _) = raw.awaitErrorAndClose()
        #expect(error?.code == .unknownMessageType)
        #expect(error?.reason.contains("protocol version 2") == true)
    }
}
