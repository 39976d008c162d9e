import Foundation
import Glibc
import HubClient
import HubTLS
import HubWire
import Testing

/// Clients that connect and then do nothing, at each stage (docs/PROTOCOL.md, "Timeouts"):
/// no TLS handshake, no HELLO, nothing after WELCOME. The timeouts are shortened through
/// `SessionLimits`; each test checks the connection is closed no earlier than its timeout,
/// with the documented ERROR when there is TLS to send it over.
@Suite struct EndToEndTimeoutTests {
    @Test func silentTCPClientIsClosedAtTheHandshakeTimeout() throws {
        let hub = try EndToEndHub(limits: testLimits(handshake: 0.5))
        var good = try GoodPartner(hub)
        let started = monotonicSeconds()
        let fd = try RawSocket.connect(port: hub.port)
        defer { Glibc.close(fd) }
        #expect(waitUntil { hub.sessions == 2 }, "the silent connection was never accepted")
        good.check("while a client is silent")
        let end = RawSocket.awaitClose(fd)
        #expect(end == .closed(received: 0), "no TLS yet, so no ERROR: a plain close (got \(end))")
        #expect(monotonicSeconds() - started >= 0.5, "closed before the handshake timeout")
        #expect(hub.log.await("handshake_timeout") != nil)
        #expect(waitUntil { hub.sessions == 1 })
        good.check("after the handshake timeout")
        try finish(hub, good: good)
    }

    @Test func clientThatSendsNoHelloGetsHelloTimeout() throws {
        let hub = try EndToEndHub(limits: testLimits(hello: 0.5))
        var good = try GoodPartner(hub)
        // Taken before the connection, so it is earlier than the hub's end of the handshake.
        let started = monotonicSeconds()
        let client = try RawClient(port: hub.port, context: try hub.context(Partner.small))
        good.check("while a client sends no HELLO")
        let (error, end) = client.awaitErrorAndClose()
        #expect(error?.code == .helloTimeout)
        #expect(end == .closed)
        #expect(monotonicSeconds() - started >= 0.5, "closed before the HELLO timeout")
        #expect(hub.log.await("hello_timeout", containing: ["partner=\(Partner.small)"]) != nil)
        good.check("after the HELLO timeout")
        try finish(hub, good: good, noRecordsFor: [Partner.small])
    }

    @Test func idleClientGetsIdleTimeoutAndPingsKeepItOpen() throws {
        let hub = try EndToEndHub(limits: testLimits(idle: 0.6))
        let client = try RawClient(port: hub.port, context: try hub.context(Partner.small))
        // Taken before the HELLO, so it is earlier than the hub's last frame from this client.
        let started = monotonicSeconds()
        let welcome = try client.hello()
        #expect(welcome.idleTimeoutSeconds == 1)  // advertised, rounded up to whole seconds
        let keptAlive = try hub.client(Partner.good)
        // The library client pings at well under the idle timeout: it stays open throughout.
        var pings = 0
        var result: (error: ErrorMessage?, end: RawClient.Event) = (nil, .timeout)
        while monotonicSeconds() - started < 10 {
            try keptAlive.ping()
            pings += 1
            let event = client.next(timeout: 0.2)
            if case .frame(let frame) = event, case .error(let error) = try Message(frame: frame) {
                result = (error, client.next())
                break
            }
            if event != .timeout {
                result = (nil, event)
                break
            }
        }
        #expect(result.error?.code == .idleTimeout)
        #expect(result.end == .closed)
        #expect(monotonicSeconds() - started >= 0.6, "closed before the idle timeout")
        #expect(pings >= 2)
        #expect(try keptAlive.query(values: GoodPartner.values, fields: GoodPartner.fields) == GoodPartner.expected)
        hub.stop()
        let trail = try hub.audit()
        #expect(trail.of(Partner.small).isEmpty)
        #expect(trail.of(Partner.good).count == 1)
    }
}
