import Foundation
import Glibc
import HubTLS
import Testing

/// Real TLS 1.3 handshakes over non-blocking `socketpair(2)` sockets, driven by a poll loop.
@Suite struct HandshakeTests {
    @Test func mutualHandshakeYieldsThePartnerIdentity() throws {
        let hub = try TestHub()
        let (directory, issued) = try hub.issue("bank-a", role: .bank)
        let (pair, server, client, result) = try connect(try hub.pki.serverContext(), try hub.client(directory))
        #expect(result.serverError == nil)
        #expect(result.clientError == nil)
        #expect(server.state == .established)
        #expect(client.state == .established)
        #expect(server.protocolVersion == "TLSv1.3")
        let peer = try #require(server.peer)
        #expect(peer.name == "bank-a")
        #expect(peer.role == .bank)
        #expect(peer.serial == issued.identity.serial)
        #expect(peer.fingerprint.count == 32)
        #expect(peer == issued.identity)
        // The fingerprint is SHA-256 of the DER certificate, independently computed here.
        #expect(peer.fingerprintHex == (try derFingerprint(directory + "/partner.crt")))
        #expect(client.peer == nil)
        _ = pair
    }

    @Test func everyRoleAndEveryServerNameConnects() throws {
        let hub = try TestHub(hostnames: ["hub.example"])
        let context = try hub.pki.serverContext()
        for (index, role) in PartnerRole.allCases.enumerated() {
            let (directory, _) = try hub.issue("p\(index)", role: role)
            let client = try hub.client(directory)
            for name in ["localhost", "127.0.0.1", "::1", "hub.example", "HUB.example"] {
                let (_, server, _, result) = try connect(context, client, serverName: name)
                #expect(result.serverError == nil && result.clientError == nil, "\(role) \(name): \(String(describing: result))")
                #expect(server.peer?.role == role)
            }
        }
    }

    @Test func clientWithoutCertificateIsRefused() throws {
        let hub = try TestHub()
        let client = try TLSClientContext(testingCA: hub.pki.caCertificatePath, identityDirectory: nil, maximumTLS12: false)
        let (pair, server, connection, result) = try connect(try hub.pki.serverContext(), client)
        #expect(result.serverError == .noPeerCertificate)
        #expect(result.serverError?.description == "peer presented no certificate")
        #expect(server.state == .failed)
        #expect(server.peer == nil)
        let clientError = result.clientError ?? readUntilFailure(connection, socket: pair.client)
        #expect(clientError == .peerAlert("alert certificate required"))
    }

    @Test func certificateFromAnotherCAIsRefused() throws {
        let hub = try TestHub()
        let other = try TestHub()
        let (directory, _) = try other.issue("bank-a")
        // The client trusts our hub (so the client side is fine) but holds the other CA's certificate.
        let client = try TLSClientContext(testingCA: hub.pki.caCertificatePath, identityDirectory: directory, maximumTLS12: false)
        let (pair, server, connection, result) = try connect(try hub.pki.serverContext(), client)
        guard case .untrustedCertificate(let subject, let issuer) = result.serverError else {
            Issue.record("expected untrustedCertificate, got \(String(describing: result.serverError))")
            return
        }
        #expect(subject == "CN=bank-a, OU=bank, O=IndicatorHub")
        #expect(issuer.hasPrefix("CN=IndicatorHub CA hub.example"))
        #expect(result.serverError!.description.hasPrefix("certificate not issued by this hub's CA"))
        #expect(server.peer == nil)
        let clientError = result.clientError ?? readUntilFailure(connection, socket: pair.client)
        #expect(clientError == .peerAlert("alert unknown ca"))

        // And the partner's own identity, pointed at the wrong hub, refuses that hub.
        let (_, _, _, reverse) = try connect(try hub.pki.serverContext(), try other.client(directory))
        guard case .untrustedCertificate = reverse.clientError else {
            Issue.record("client should refuse a hub from another CA, got \(String(describing: reverse.clientError))")
            return
        }
    }

    @Test func revocationAppliesToTheNextContextAndSparesEstablishedConnections() throws {
        let hub = try TestHub()
        let (directory, issued) = try hub.issue("bank-a")
        let client = try hub.client(directory)
        let before = try hub.pki.serverContext()
        let (pair, server, connection, first) = try connect(before, client)
        #expect(first.serverError == nil && first.clientError == nil)

        let (entry, _) = try hub.pki.revokePartner(name: "bank-a", now: 1_795_428_000)
        let after = try hub.pki.serverContext()
        #expect(after.revokedCount == 1)
        let (refusedPair, _, refusedClient, refused) = try connect(after, client)
        #expect(refused.serverError == .revoked(serial: issued.identity.serial, partner: "bank-a", revokedAt: "2026-11-23T10:00:00Z"))
        #expect(refused.serverError?.description
            == "certificate revoked (serial \(entry.serial), partner bank-a, revoked 2026-11-23T10:00:00Z)")
        #expect((refused.clientError ?? readUntilFailure(refusedClient, socket: refusedPair.client)) == .peerAlert("alert certificate revoked"))

        // The connection made before the revocation keeps working, both ways.
        let ping = Array("still here".utf8)
        #expect(try transfer(ping, from: connection, writerSocket: pair.client, to: server, readerSocket: pair.server).received == ping)
        #expect(try transfer(ping, from: server, writerSocket: pair.server, to: connection, readerSocket: pair.client).received == ping)
        // The old context is a snapshot: it still holds the old list (the server swaps it on reload).
        let (_, _, _, old) = try connect(before, client)
        #expect(old.serverError == nil)
    }

    @Test func clientLimitedToTLS12IsRefused() throws {
        let hub = try TestHub()
        let (directory, _) = try hub.issue("isp-1", role: .isp)
        let client = try TLSClientContext(testingCA: hub.pki.caCertificatePath, identityDirectory: directory, maximumTLS12: true)
        let (_, server, _, result) = try connect(try hub.pki.serverContext(), client)
        #expect(result.serverError == .protocolVersion(offered: "TLS 1.2"))
        #expect(result.serverError?.description == "peer offered only TLS 1.2 (the hub requires TLS 1.3)")
        #expect(result.clientError == .peerAlert("alert protocol version"))
        #expect(server.state == .failed)
    }

    @Test func expiredCertificateIsRefused() throws {
        let hub = try TestHub()
        // Issued in 2020 for one day.
        let (directory, issued) = try hub.issue("bank-old", days: 1, now: 1_577_836_800)
        #expect(issued.identity.notAfter == "2020-01-02T00:00:00Z")
        let (pair, _, connection, result) = try connect(try hub.pki.serverContext(), try hub.client(directory))
        #expect(result.serverError == .expired(subject: "CN=bank-old, OU=bank, O=IndicatorHub", notAfter: "2020-01-02T00:00:00Z"))
        #expect((result.clientError ?? readUntilFailure(connection, socket: pair.client)) == .peerAlert("alert certificate expired"))
    }

    @Test func serverCertificateForAnotherHostIsRefusedByTheClient() throws {
        let hub = try TestHub(hostnames: ["hub.example"])
        let (directory, _) = try hub.issue("bank-a")
        let client = try hub.client(directory)
        for name in ["other.example", "192.0.2.1", "::2"] {
            let (_, server, connection, result) = try connect(try hub.pki.serverContext(), client, serverName: name)
            #expect(result.clientError == .serverNameMismatch(expected: name), "\(name)")
            #expect(connection.state == .failed)
            #expect(server.state != .established)
        }
    }

    @Test func garbageBeforeTheHandshakeIsAnErrorNotACrash() throws {
        let hub = try TestHub()
        let context = try hub.pki.serverContext()
        var state: UInt32 = 0x9E37_79B9
        let noise = (0..<4096).map { _ -> UInt8 in
            state ^= state << 13; state ^= state >> 17; state ^= state << 5   // xorshift32, fixed seed
            return UInt8(truncatingIfNeeded: state)
        }
        let cases: [(String, [UInt8], TLSError?)] = [
            ("HTTP", Array("GET / HTTP/1.1\r\nHost: hub\r\n\r\n".utf8), .notTLS(reason: "peer sent an HTTP request")),
            ("POST", Array("POST /q HTTP/1.0\r\n\r\n".utf8), .notTLS(reason: "peer sent an HTTP request")),
            ("CONNECT", Array("CONNECT hub:443 HTTP/1.1\r\n\r\n".utf8), .notTLS(reason: "peer sent an HTTP proxy (CONNECT) request")),
            ("SSH", Array("SSH-2.0-OpenSSH_9.6\r\n".utf8), nil),
            ("noise", noise, nil),
            ("zeros", [UInt8](repeating: 0, count: 64), nil),
            ("huge record", [0x16, 0x03, 0x01, 0xFF, 0xFF] + [UInt8](repeating: 0x41, count: 100), nil),
            ("alert record", [0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x28], nil),
            ("truncated hello", [0x16, 0x03, 0x01, 0x00, 0x40, 0x01, 0x00, 0x00, 0x3C, 0x03, 0x03], .unexpectedEOF(duringHandshake: true)),
            ("nothing", [], .unexpectedEOF(duringHandshake: true)),
        ]
        for (label, bytes, expected) in cases {
            let pair = SocketPair()
            let server = try TLSConnection(server: context, socket: pair.server)
            pair.sendRaw(bytes)
            pair.closeClient()
            let result = driveHandshake(server: server, client: nil, pair: pair)
            let error = try #require(result.serverError, "\(label)")
            if let expected {
                #expect(error == expected, "\(label): \(error)")
            } else if case .notTLS(let reason) = error {
                #expect(!reason.isEmpty, "\(label)")
            } else {
                Issue.record("\(label): expected notTLS, got \(error)")
            }
            #expect(server.state == .failed, "\(label)")
            #expect(server.peer == nil, "\(label)")
        }
        // The same context keeps serving a well-behaved partner.
        let (directory, _) = try hub.issue("bank-a")
        let (_, server, _, result) = try connect(context, try hub.client(directory))
        #expect(result.serverError == nil && result.clientError == nil)
        #expect(server.peer?.name == "bank-a")
    }

    @Test func serverCertificateUsedAsAClientIdentityIsRefused() throws {
        let hub = try TestHub()
        // Signed by the hub CA, but for serverAuth only and with no partner role.
        let directory = hub.temp.path + "/stolen"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: false)
        try FileManager.default.copyItem(atPath: hub.pki.serverKeyPath, toPath: directory + "/partner.key")
        try FileManager.default.copyItem(atPath: hub.pki.serverCertificatePath, toPath: directory + "/partner.crt")
        try FileManager.default.copyItem(atPath: hub.pki.caCertificatePath, toPath: directory + "/ca.crt")
        let (_, server, _, result) = try connect(try hub.pki.serverContext(), try hub.client(directory))
        #expect(result.serverError == .certificateRejected(subject: "CN=hub.example, O=IndicatorHub", reason: "unsuitable certificate purpose"))
        #expect(server.peer == nil)
    }

    @Test func badHostNameForTheClientIsRefusedUpFront() throws {
        let hub = try TestHub()
        let (directory, _) = try hub.issue("bank-a")
        let pair = SocketPair()
        let client = try hub.client(directory)
        for name in ["bad\u{0}name", "", "a b", "-x.example", "1.2.3.4.5"] {
            #expect(throws: TLSError.invalidServerName(name)) {
                _ = try TLSConnection(client: client, socket: pair.client, serverName: name)
            }
        }
    }

    @Test func peerClosingMidHandshakeIsAnError() throws {
        let hub = try TestHub()
        let (directory, _) = try hub.issue("bank-a")
        let pair = SocketPair()
        let client = try TLSConnection(client: try hub.client(directory), socket: pair.client, serverName: "localhost")
        #expect(try client.handshake() == .wantRead)   // ClientHello sent
        pair.closeServer()
        let result = driveHandshake(server: nil, client: client, pair: pair)
        // Unread data makes the close a reset on Linux; either way it is a clean, named error.
        let expected: [TLSError] = [.unexpectedEOF(duringHandshake: true), .system(operation: "handshake", errno: ECONNRESET)]
        #expect(expected.contains(try #require(result.clientError)))
        #expect(client.state == .failed)
    }

    @Test func callsInTheWrongStateThrowInsteadOfTrapping() throws {
        let hub = try TestHub()
        let pair = SocketPair()
        let server = try TLSConnection(server: try hub.pki.serverContext(), socket: pair.server)
        var buffer = [UInt8](repeating: 0, count: 16)
        #expect(throws: TLSError.invalidState(operation: "read", state: "handshaking")) {
            try buffer.withUnsafeMutableBytes { raw in _ = try server.read(into: raw) }
        }
        #expect(throws: TLSError.invalidState(operation: "write", state: "handshaking")) {
            try buffer.withUnsafeBytes { raw in _ = try server.write(raw) }
        }
        #expect(throws: TLSError.invalidState(operation: "shutdown", state: "handshaking")) { try server.shutdown() }
    }

    /// SHA-256 of the DER inside a PEM file, computed by coreutils' `sha256sum`, not OpenSSL.
    private func derFingerprint(_ path: String) throws -> String {
        let pem = try String(contentsOfFile: path, encoding: .utf8)
        let body = pem.split(separator: "\n").filter { !$0.hasPrefix("-----") }.joined()
        let der = try #require(Data(base64Encoded: body))
        let derPath = path + ".der"
        try der.write(to: URL(fileURLWithPath: derPath))
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/sha256sum")
        process.arguments = [derPath]
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return String(text.prefix(64))
    }
}
