import Foundation
public import HubTLS

/// A hub PKI in a fresh temporary directory (removed on release), with helpers to issue and
/// revoke partner identities — what `ihub init` and `ihub partner add` would have made.
public final class FakePKI: @unchecked Sendable {
    public let directory: String
    public let pki: HubPKI
    private var issued = 0

    public init(hostnames: [String] = ["hub.example"]) throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("fakehub-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory + "/data", withIntermediateDirectories: true)
        pki = try HubPKI.create(dataDirectory: directory + "/data", hostnames: hostnames)
    }

    deinit { try? FileManager.default.removeItem(atPath: directory) }

    /// Issues `name` into a new identity directory and returns its path.
    public func issue(_ name: String, role: PartnerRole = .bank) throws -> String {
        issued += 1
        let path = directory + "/id-\(issued)-\(name)"
        _ = try pki.issuePartner(name: name, role: role, identityDirectory: path)
        return path
    }

    public func revoke(_ name: String) throws { _ = try pki.revokePartner(name: name) }

    /// A server context with the revocation list as it is now.
    public func serverContext() throws -> TLSServerContext { try pki.serverContext() }
}
