import Foundation
import Glibc
import HubTLS
import Testing

/// `HubPKI.renewPartner`, `revokePreviousPartnerCertificate`, the revocation of every
/// certificate a partner holds, and `expiringCertificates` (docs/PKI.md, "Renewal").
@Suite struct RenewalTests {
    /// A fresh directory name under the hub's temporary directory for a renewed identity.
    private func outDirectory(_ hub: TestHub, _ label: String) -> String { hub.temp.path + "/renewed-" + label }

    /// Runs one handshake of `identityDirectory` against `context`; returns the server's error.
    private func handshake(_ context: TLSServerContext, _ identityDirectory: String) throws -> TLSError? {
        let (pair, server, client, result) = try connect(context, try TLSClientContext(identityDirectory: identityDirectory))
        if result.serverError == nil, result.clientError == nil {
            #expect(server.peer?.name != nil)
            return nil
        }
        _ = readUntilFailure(client, socket: pair.client)
        return result.serverError ?? result.clientError
    }

    @Test func renewKeepsTheOldCertificateWorkingUntilThePreviousIsRevoked() throws {
        let hub = try TestHub()
        let (oldDirectory, issued) = try hub.issue("bank-a", role: .isp)
        let out = outDirectory(hub, "1")
        let renewal = try hub.pki.renewPartner(name: "bank-a", identityDirectory: out)
        #expect(renewal.current.identity.serial == issued.identity.serial + 1)
        #expect(renewal.current.identity.name == "bank-a")
        #expect(renewal.current.identity.role == .isp)
        #expect(renewal.current.identity.fingerprint != issued.identity.fingerprint)
        #expect(renewal.previous.identity == issued.identity)
        #expect(renewal.abandoned.isEmpty)
        #expect(try mode(out + "/partner.key") == 0o600)
        #expect(try mode(hub.data + "/tls/partners/bank-a.previous.crt") == 0o644)
        #expect(try Data(contentsOf: URL(fileURLWithPath: out + "/partner.crt"))
            == Data(contentsOf: URL(fileURLWithPath: hub.data + "/tls/partners/bank-a.crt")))
        #expect(try Data(contentsOf: URL(fileURLWithPath: oldDirectory + "/partner.crt"))
            == Data(contentsOf: URL(fileURLWithPath: hub.data + "/tls/partners/bank-a.previous.crt")))
        #expect(!FileManager.default.fileExists(atPath: hub.data + "/tls/partners/bank-a.pending.crt"))
        let listed = try hub.pki.partners()
        #expect(listed.map(\.kind) == [.current, .previous])
        #expect(listed.map(\.identity.serial) == [renewal.current.identity.serial, issued.identity.serial])
        #expect(listed.allSatisfy { $0.revocation == nil })

        // Both identities complete a mutual-TLS handshake with the server context.
        let both = try hub.pki.serverContext()
        #expect(try handshake(both, oldDirectory) == nil)
        #expect(try handshake(both, out) == nil)

        // After revoke --previous the old one is refused, the new one still works.
        let revoked = try hub.pki.revokePreviousPartnerCertificate(name: "bank-a")
        #expect(revoked.kind == .previous)
        #expect(revoked.added)
        #expect(revoked.revocation.serial == issued.identity.serial)
        #expect(!FileManager.default.fileExists(atPath: hub.data + "/tls/partners/bank-a.previous.crt"))
        let after = try hub.pki.serverContext()
        guard case .revoked(let serial, "bank-a", _)? = try handshake(after, oldDirectory) else {
            Issue.record("the previous certificate should be refused as revoked")
            return
        }
        #expect(serial == issued.identity.serial)
        #expect(try handshake(after, out) == nil)
        #expect(try hub.pki.partners().map(\.kind) == [.current])
        #expect(throws: PKIError.noPreviousCertificate(name: "bank-a")) {
            try hub.pki.revokePreviousPartnerCertificate(name: "bank-a")
        }

        // With the previous one revoked, the partner can be renewed again.
        let again = try hub.pki.renewPartner(name: "bank-a", days: 10, identityDirectory: outDirectory(hub, "2"))
        #expect(again.current.identity.serial == renewal.current.identity.serial + 1)
        #expect(again.previous.identity.serial == renewal.current.identity.serial)
    }

    @Test func plainRevokeCutsOffTheCurrentAndThePreviousCertificate() throws {
        let hub = try TestHub()
        let (oldDirectory, issued) = try hub.issue("bank-a")
        let out = outDirectory(hub, "1")
        let renewal = try hub.pki.renewPartner(name: "bank-a", identityDirectory: out)
        let results = try hub.pki.revokePartnerCertificates(name: "bank-a", now: 1_795_428_000)
        #expect(results.map(\.kind) == [.current, .previous])
        #expect(results.map(\.revocation.serial) == [renewal.current.identity.serial, issued.identity.serial])
        #expect(results.allSatisfy { $0.added })
        #expect(try hub.pki.revocations().entries.count == 2)
        #expect(!FileManager.default.fileExists(atPath: hub.data + "/tls/partners/bank-a.previous.crt"))
        let context = try hub.pki.serverContext()
        #expect(try handshake(context, oldDirectory) != nil)
        #expect(try handshake(context, out) != nil)
        // Idempotent, and the name can then be issued afresh with partner add.
        let (entry, added) = try hub.pki.revokePartner(name: "bank-a")
        #expect(entry.serial == renewal.current.identity.serial)
        #expect(!added)
        _ = try hub.issue("bank-a")
    }

    @Test func renewalIsRefusedWhenItWouldForgetOrCannotStart() throws {
        let hub = try TestHub()
        let (_, issued) = try hub.issue("bank-a")
        let renewal = try hub.pki.renewPartner(name: "bank-a", identityDirectory: outDirectory(hub, "1"))
        let serialBefore = try String(contentsOfFile: hub.pki.serialPath, encoding: .utf8)
        #expect(throws: PKIError.previousStillValid(name: "bank-a", serial: issued.identity.serial)) {
            try hub.pki.renewPartner(name: "bank-a", identityDirectory: outDirectory(hub, "2"))
        }
        #expect(PKIError.previousStillValid(name: "bank-a", serial: 3).description
            .contains("revoke it first with 'ihub partner revoke bank-a --previous'"))
        // Nothing was issued or written by the refusals.
        #expect(try String(contentsOfFile: hub.pki.serialPath, encoding: .utf8) == serialBefore)
        #expect(!FileManager.default.fileExists(atPath: outDirectory(hub, "2") + "/partner.key"))
        #expect(try hub.pki.partners().map(\.identity.serial) == [renewal.current.identity.serial, issued.identity.serial])

        #expect(throws: PKIError.nothingToRenew(name: "nobody", revokedSerial: nil)) {
            try hub.pki.renewPartner(name: "nobody", identityDirectory: outDirectory(hub, "3"))
        }
        _ = try hub.issue("isp-1")
        let (revoked, _) = try hub.pki.revokePartner(name: "isp-1")
        #expect(throws: PKIError.nothingToRenew(name: "isp-1", revokedSerial: revoked.serial)) {
            try hub.pki.renewPartner(name: "isp-1", identityDirectory: outDirectory(hub, "4"))
        }
        #expect(PKIError.nothingToRenew(name: "isp-1", revokedSerial: 5).description.contains("'ihub partner add'"))
        #expect(throws: PKIError.badValidity(days: 0)) {
            try hub.pki.renewPartner(name: "isp-1", days: 0, identityDirectory: outDirectory(hub, "5"))
        }
        #expect(throws: PKIError.reservedPartnerName("x.previous")) {
            try hub.pki.issuePartner(name: "x.previous", role: .bank, identityDirectory: outDirectory(hub, "6"))
        }
    }

    @Test func aRenewalInterruptedBeforeItsRenameIsRevokedByTheNextOne() throws {
        let hub = try TestHub()
        let (oldDirectory, issued) = try hub.issue("bank-a")
        // Simulate a crash after the pending certificate and the identity were written and the
        // previous file was copied, before the rename: keep a renewal's certificate as pending
        // and the old one as both current and previous.
        let interrupted = outDirectory(hub, "crash")
        let lost = try hub.pki.renewPartner(name: "bank-a", identityDirectory: interrupted)
        let partners = hub.data + "/tls/partners/"
        #expect(rename(partners + "bank-a.crt", partners + "bank-a.pending.crt") == 0)
        try FileManager.default.copyItem(atPath: partners + "bank-a.previous.crt", toPath: partners + "bank-a.crt")
        #expect(try hub.pki.partners().map(\.kind) == [.current, .pending])
        #expect(try hub.pki.expiringCertificates(within: 3650).compactMap(\.kind) == [.current, .pending])

        let renewal = try hub.pki.renewPartner(name: "bank-a", identityDirectory: outDirectory(hub, "1"))
        #expect(renewal.abandoned.map(\.revocation.serial) == [lost.current.identity.serial])
        #expect(renewal.previous.identity.serial == issued.identity.serial)
        #expect(!FileManager.default.fileExists(atPath: partners + "bank-a.pending.crt"))
        let context = try hub.pki.serverContext()
        #expect(try handshake(context, interrupted) != nil)
        #expect(try handshake(context, oldDirectory) == nil)
        #expect(try handshake(context, outDirectory(hub, "1")) == nil)
    }

    @Test func expiringCertificatesNameTheServerAndUnrevokedPartners() throws {
        let hub = try TestHub()
        let now = Int64(Date().timeIntervalSince1970)
        _ = try hub.issue("bank-a", days: 10, now: now)
        _ = try hub.issue("isp-1", days: 31, now: now)
        _ = try hub.issue("cert-x", days: 5, now: now)
        _ = try hub.pki.revokePartner(name: "cert-x")
        let soon = try hub.pki.expiringCertificates(now: now)
        #expect(soon.map(\.partner) == ["bank-a"])
        #expect(soon.first?.daysLeft == 10)
        #expect(soon.first?.kind == .current)
        // Ten years on, the server certificate (serial 2) comes first and has expired.
        let later = try hub.pki.expiringCertificates(now: now + 3660 * 86_400)
        #expect(later.first?.partner == nil)
        #expect(later.first?.serial == 2)
        #expect((later.first?.daysLeft ?? 0) < 0)
        #expect(later.compactMap(\.partner) == ["bank-a", "isp-1"])
        #expect(HubPKI.daysLeft(until: now + 86_400, now: now) == 1)
        #expect(HubPKI.daysLeft(until: now + 86_401, now: now) == 2)
        #expect(HubPKI.daysLeft(until: now - 86_400, now: now) == -1)
    }
}
