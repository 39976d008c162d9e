import Foundation
import Glibc
import HubClient
import HubTLS
import HubWire
import Testing

/// Clients the hub must refuse before any request: no certificate, another CA's certificate,
/// a revoked one, TLS 1.2, bytes that are not TLS, a certificate without a policy. Each is
/// refused (alert, or clean close), logged, never audited (it asked nothing), and the
/// well-behaved partner connected at the same time keeps getting correct answers.
@Suite struct EndToEndTLSTests {
    /// Connects `context` and reads: the hub's refusal arrives as an alert on the first read.
    static func refusal(_ hub: EndToEndHub, _ context: TLSClientContext) throws -> RawClient.Event {
        let client = try RawClient(port: hub.port, context: context)
        // Read before writing (as HubClient does): bytes written to a hub that has refused us
        // and closed make its kernel answer with a reset, which can overtake the alert.
        return client.next()
    }

    @Test func noClientCertificateIsRefusedWithAnAlert() throws {
        let hub = try EndToEndHub()
        var good = try GoodPartner(hub)
        good.check("before")
        let context = try TLSClientContext(testingCA: hub.pki.caCertificatePath, identityDirectory: nil, maximumTLS12: false)
        #expect(try Self.refusal(hub, context) == .failed(.peerAlert("alert certificate required")))
        #expect(hub.log.await("handshake_failed", containing: ["peer presented no certificate"]) != nil)
        good.check("after a client without a certificate")
        #expect(waitUntil { hub.sessions == 1 }, "the refused connection is still counted open")
        try finish(hub, good: good)
    }

    @Test func certificateFromAnotherCAIsRefused() throws {
        let hub = try EndToEndHub()
        var good = try GoodPartner(hub)
        let other = try TempDir()
        try FileManager.default.createDirectory(atPath: other.path + "/data", withIntermediateDirectories: false)
        let otherPKI = try HubPKI.create(dataDirectory: other.path + "/data", hostnames: [])
        // Same partner name as a real one: only the issuer differs.
        _ = try otherPKI.issuePartner(name: Partner.good, role: .bank, identityDirectory: other.path + "/id")
        let context = try TLSClientContext(testingCA: hub.pki.caCertificatePath, identityDirectory: other.path + "/id",
                                           maximumTLS12: false)
        #expect(try Self.refusal(hub, context) == .failed(.peerAlert("alert unknown ca")))
        #expect(hub.log.await("handshake_failed", containing: ["certificate not issued by this hub's CA"]) != nil)
        good.check("after a certificate from another CA")
        #expect(waitUntil { hub.sessions == 1 })
        try finish(hub, good: good)
    }

    @Test func revokedCertificateIsRefusedAfterReloadAndOpenSessionsAreClosed() throws {
        let hub = try EndToEndHub()
        var good = try GoodPartner(hub)
        // The partner about to be revoked has a session open and working.
        let before = try hub.client(Partner.revoked)
        #expect(try before.query(values: GoodPartner.values, fields: GoodPartner.fields) == GoodPartner.expected)

        let (revocation, added) = try hub.pki.revokePartner(name: Partner.revoked)
        #expect(added)
        // Not yet reloaded: the server's context still predates the revocation.
        let early = try hub.client(Partner.revoked)
        early.close()
        try hub.server.reload()  // what SIGHUP does
        #expect(hub.log.await("reloaded", containing: ["revoked=1"]) != nil)

        // The next handshake is refused, through the client library as a partner would see it…
        let error = try #require(throws: ClientError.self) { _ = try hub.client(Partner.revoked) }
        #expect(error == .tls(.peerAlert("alert certificate revoked")))
        #expect(error.exitStatus == 3)
        #expect(hub.log.await("handshake_failed", containing: ["certificate revoked (serial \(revocation.serial)",
                                                               "partner \(Partner.revoked)"]) != nil)
        // …and at the TLS level.
        #expect(try Self.refusal(hub, try hub.context(Partner.revoked)) == .failed(.peerAlert("alert certificate revoked")))

        // The session opened before the revocation is closed by the reload with ERROR `revoked`
        // (docs/PKI.md, "When it takes effect"): a leaked key must not keep a session alive.
        #expect(hub.log.await("session_revoked", containing: ["partner=\(Partner.revoked)",
                                                              "serial=\(revocation.serial)"]) != nil)
        let closed = try #require(throws: ClientError.self) {
            _ = try before.query(values: GoodPartner.values, fields: GoodPartner.fields)
        }
        switch closed {
        case .refusedByHub(let code, let reason):
            #expect(code == .revoked)
            #expect(reason.contains("serial \(revocation.serial) was revoked"))
        default: Issue.record("expected ERROR revoked, got \(closed)")
        }
        good.check("after the revocation and reload")
        before.close()
        let trail = try finish(hub, good: good)
        // One batch of the old session, nothing after the revocation or from refused handshakes.
        #expect(trail.of(Partner.revoked).map(\.decision) == ["accepted"])
    }

    @Test func tls12ClientIsRefused() throws {
        let hub = try EndToEndHub()
        var good = try GoodPartner(hub)
        let context = try TLSClientContext(testingCA: hub.pki.caCertificatePath, identityDirectory: hub.identity(Partner.small),
                                           maximumTLS12: true)
        // A TLS 1.2 client fails its own handshake: the hub answers with a protocol_version alert.
        let fd = try RawSocket.connect(port: hub.port)
        defer { Glibc.close(fd) }
        let connection = try TLSConnection(client: context, socket: fd, serverName: "127.0.0.1")
        var failure: TLSError?
        _ = waitUntil {
            do {
                let progress = try connection.handshake()
                if progress == .complete { return true }
                RawSocket.wait(fd, events: progress == .wantWrite ? Int16(POLLOUT) : Int16(POLLIN), milliseconds: 20)
                return false
            } catch {
                failure = error as? TLSError
                return true
            }
        }
        #expect(failure == .peerAlert("alert protocol version"))
        #expect(hub.log.await("handshake_failed", containing: ["peer offered only TLS 1.2"]) != nil)
        good.check("after a TLS 1.2 client")
        try finish(hub, good: good, noRecordsFor: [Partner.small])
    }

    /// A HELLO frame (docs/PROTOCOL.md, worked example) sent without TLS.
    static let clearHello: [UInt8] = RawFrames.header(length: 29, type: 0x01) + Array("IHUBWIRE".utf8)
        + [1, 0, 1, 0, 15, 0] + Array("ihub-client/0.3".utf8)

    /// 4 KiB of deterministic noise (SplitMix64 from a fixed seed).
    static let noise: [UInt8] = {
        var state: UInt64 = 0x1BAD_5EED
        return (0..<4096).map { _ in
            state &+= 0x9E37_79B9_7F4A_7C15
            var mixed = (state ^ (state >> 30)) &* 0xBF58_476D_1CE4_E5B9
            mixed = (mixed ^ (mixed >> 27)) &* 0x94D0_49BB_1331_11EB
            return UInt8(truncatingIfNeeded: mixed ^ (mixed >> 31))
        }
    }()

    /// The garbage each case sends, by name (names keep the test report readable).
    static let garbage: [String: [UInt8]] = [
        "an HTTP request": Array("GET / HTTP/1.1\r\nHost: hub\r\n\r\n".utf8),
        "a protocol HELLO in the clear": clearHello,
        "random bytes": noise,
        "a TLS record header announcing 64 KiB": [0x16, 0x03, 0x01, 0xFF, 0xFF] + [UInt8](repeating: 0x41, count: 64),
    ]

    @Test(arguments: ["an HTTP request", "a protocol HELLO in the clear", "random bytes",
                      "a TLS record header announcing 64 KiB"])
    func garbageBeforeTheHandshakeIsClosedCleanly(_ what: String) throws {
        let garbage = try #require(Self.garbage[what])
        let hub = try EndToEndHub()
        var good = try GoodPartner(hub)
        let fd = try RawSocket.connect(port: hub.port)
        defer { Glibc.close(fd) }
        try RawSocket.send(fd, garbage)
        let end = RawSocket.awaitClose(fd)
        #expect(end != .open, "\(what): the hub kept the connection open")
        #expect(hub.log.await("handshake_failed") != nil, "\(what): not logged")
        good.check("after \(what)")
        #expect(waitUntil { hub.sessions == 1 })
        try finish(hub, good: good)
    }

    @Test func certificateWithoutPolicyIsNotAuthorised() throws {
        let hub = try EndToEndHub()
        var good = try GoodPartner(hub)
        let error = try #require(throws: ClientError.self) { _ = try hub.client(Partner.unlisted) }
        guard case .refusedByHub(let code, let reason) = error else {
            Issue.record("expected not_authorised, got \(error)")
            return
        }
        #expect(code == .notAuthorised)
        #expect(reason.contains(Partner.unlisted))
        good.check("after an unlisted partner")
        try finish(hub, good: good, noRecordsFor: [Partner.unlisted])
    }
}
