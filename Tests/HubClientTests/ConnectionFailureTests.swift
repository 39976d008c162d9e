import FakeHub
import HubClient
import HubTLS
import HubWire
import IndicatorKit
import Foundation
import Testing

@Suite struct ConnectionFailureTests {
    @Test func nothingListeningIsCannotConnect() throws {
        let pki = try FakePKI()
        let identity = try pki.issue("bank-a")
        let port = try FakeHub.unusedPort()
        let error = try #require(throws: ClientError.self) {
            try HubClient.connect(host: "127.0.0.1", port: port, identityDirectory: identity)
        }
        guard case .cannotConnect(_, _, let reason) = error else { Issue.record("got \(error)"); return }
        #expect(reason.contains("refused"))
        #expect(error.exitStatus == 3)
    }

    @Test func missingIdentityFilesAreNamed() throws {
        let pki = try FakePKI()
        let identity = try pki.issue("bank-a")
        try FileManager.default.removeItem(atPath: identity + "/partner.key")
        try FileManager.default.removeItem(atPath: identity + "/ca.crt")
        let error = try #require(throws: ClientError.self) {
            try HubClient.connect(host: "127.0.0.1", port: 1, identityDirectory: identity)
        }
        #expect(error.exitStatus == 2)
        #expect(error.description.contains("partner.key"))
        #expect(error.description.contains("ca.crt"))
        #expect(!error.description.contains("partner.crt"))
    }

    @Test func revokedIdentityFailsWithTheTLSReason() throws {
        let pki = try FakePKI()
        let identity = try pki.issue("bank-a")
        try pki.revoke("bank-a")
        let hub = try FakeHub(context: try pki.serverContext())
        defer { hub.stop() }
        let error = try #require(throws: ClientError.self) {
            try HubClient.connect(host: "127.0.0.1", port: hub.port, identityDirectory: identity,
                                  options: HubClient.Options(connectTimeout: 5, ioTimeout: 5))
        }
        #expect(error == .tls(.peerAlert("alert certificate revoked")))
        #expect(error.exitStatus == 3)
    }

    @Test func identityFromAnotherCAFailsTLS() throws {
        let hubPKI = try FakePKI()
        let otherPKI = try FakePKI()
        let identity = try otherPKI.issue("bank-a")
        let hub = try FakeHub(context: try hubPKI.serverContext())
        defer { hub.stop() }
        let error = try #require(throws: ClientError.self) {
            try HubClient.connect(host: "127.0.0.1", port: hub.port, identityDirectory: identity,
                                  options: HubClient.Options(connectTimeout: 5, ioTimeout: 5))
        }
        guard case .tls = error else { Issue.record("got \(error)"); return }
        #expect(error.exitStatus == 3)
    }

    @Test func hubCertificateNotNamingTheHostFailsTLS() throws {
        let setup = try Setup()
        defer { setup.hub.stop() }
        let error = try #require(throws: ClientError.self) { try setup.connect(serverName: "other.example") }
        #expect(error == .tls(.serverNameMismatch(expected: "other.example")))
        #expect(error.exitStatus == 3)
        // The name in the hub's certificate is accepted.
        let client = try setup.connect(serverName: "hub.example")
        client.close()
    }
}
