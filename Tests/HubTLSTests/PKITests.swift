import Foundation
import HubTLS
import Testing

@Suite struct PKITests {
    @Test func createWritesTheDocumentedLayoutWithPrivateKeys() throws {
        let hub = try TestHub()
        let tls = hub.data + "/tls"
        #expect(try mode(tls) == 0o700)
        #expect(try mode(tls + "/ca.key") == 0o600)
        #expect(try mode(tls + "/server.key") == 0o600)
        #expect(try mode(tls + "/partners") == 0o700)
        #expect(try mode(tls + "/ca.crt") == 0o644)
        #expect(try String(contentsOfFile: tls + "/serial", encoding: .utf8) == "3\n")
        #expect(try String(contentsOfFile: tls + "/revoked", encoding: .utf8).hasPrefix("# IndicatorHub revocation list v1"))
        let names = try FileManager.default.contentsOfDirectory(atPath: tls).sorted()
        #expect(names == ["ca.crt", "ca.key", "partners", "revoked", "serial", "server.crt", "server.key"])
        #expect(!(try FileManager.default.contentsOfDirectory(atPath: hub.data)).contains { $0.contains(".tmp-") })
        #expect(try String(contentsOfFile: tls + "/ca.key", encoding: .utf8).hasPrefix("-----BEGIN PRIVATE KEY-----"))
    }

    @Test func caIsASelfSignedP256AuthorityForTenYears() throws {
        let hub = try TestHub()
        let ca = try CertificateSummary.read(hub.pki.caCertificatePath)
        #expect(ca.isCA)
        #expect(ca.subject == ca.issuer)
        #expect(ca.subject.contains("IndicatorHub CA hub.example"))
        #expect(ca.keyUsage.sorted() == ["cRLSign", "keyCertSign"])
        #expect(ca.keyType == "EC P-256")
        #expect(ca.serial == 1)
        let years = try years(from: ca.notBefore, to: ca.notAfter)
        #expect(years > 9.99 && years < 10.02)
    }

    @Test func serverCertificateNamesLoopbackAndTheGivenHost() throws {
        let hub = try TestHub(hostnames: ["Hub.Example", "192.0.2.7"])
        let server = try CertificateSummary.read(hub.pki.serverCertificatePath)
        #expect(!server.isCA)
        #expect(server.extendedKeyUsage == ["serverAuth"])
        #expect(server.issuer == (try CertificateSummary.read(hub.pki.caCertificatePath)).subject)
        for host in ["localhost", "127.0.0.1", "::1", "hub.example", "192.0.2.7"] {
            #expect(server.hostMatches(host), "\(host)")
        }
        for host in ["other.example", "10.0.0.1", "::2", "example"] {
            #expect(!server.hostMatches(host), "\(host)")
        }
    }

    @Test func createRefusesAnExistingPKIAndBadHostNames() throws {
        let hub = try TestHub()
        #expect(throws: PKIError.alreadyInitialised(path: hub.data + "/tls")) {
            try HubPKI.create(dataDirectory: hub.data, hostnames: [])
        }
        let temp = try TemporaryDirectory()
        for bad in ["bad_name", "-lead.example", "a..b", "x,DNS:evil.example", "1.2.3.999", "::g", ""] {
            #expect(throws: PKIError.badHostname(bad)) { try HubPKI.create(dataDirectory: temp.path, hostnames: [bad]) }
        }
        #expect(!FileManager.default.fileExists(atPath: temp.path + "/tls"))
        #expect(throws: PKIError.notInitialised(dataDirectory: temp.path)) { try HubPKI.open(dataDirectory: temp.path) }
    }

    @Test func partnerIdentityDirectoryAndRecord() throws {
        let hub = try TestHub()
        let (directory, issued) = try hub.issue("bank-a", role: .bank)
        #expect(issued.identity.name == "bank-a")
        #expect(issued.identity.role == .bank)
        #expect(issued.identity.serial == 3)
        #expect(issued.identity.fingerprintHex.count == 64)
        #expect(issued.revocation == nil)
        #expect(try mode(directory) == 0o700)
        #expect(try mode(directory + "/partner.key") == 0o600)
        #expect(try Data(contentsOf: URL(fileURLWithPath: directory + "/ca.crt"))
            == Data(contentsOf: URL(fileURLWithPath: hub.pki.caCertificatePath)))
        let certificate = try CertificateSummary.read(directory + "/partner.crt")
        #expect(certificate.subject == "CN=bank-a, OU=bank, O=IndicatorHub")
        #expect(certificate.extendedKeyUsage == ["clientAuth"])
        #expect(!certificate.isCA)
        #expect(try years(from: certificate.notBefore, to: certificate.notAfter) * 365.25 > 729.9)
        #expect(try Data(contentsOf: URL(fileURLWithPath: directory + "/partner.crt"))
            == Data(contentsOf: URL(fileURLWithPath: hub.data + "/tls/partners/bank-a.crt")))
        #expect(try String(contentsOfFile: hub.pki.serialPath, encoding: .utf8) == "4\n")

        let (_, second) = try hub.issue("isp-1", role: .isp, days: 30)
        #expect(second.identity.serial == 4)
        #expect(try hub.pki.partners().map(\.identity.name) == ["bank-a", "isp-1"])
    }

    @Test func badNamesDuplicatesAndExistingIdentitiesAreRefused() throws {
        let hub = try TestHub()
        for bad in ["", "Bank", "a/b", "..", ".", "a b", String(repeating: "x", count: 65), "é"] {
            #expect(throws: PKIError.badPartnerName(bad)) {
                try hub.pki.issuePartner(name: bad, role: .bank, identityDirectory: hub.temp.path + "/x")
            }
        }
        #expect(throws: PKIError.badValidity(days: 0)) {
            try hub.pki.issuePartner(name: "ok", role: .bank, days: 0, identityDirectory: hub.temp.path + "/x")
        }
        let (directory, first) = try hub.issue("bank-a")
        #expect(throws: PKIError.partnerExists(name: "bank-a", serial: first.identity.serial)) { try hub.issue("bank-a") }
        #expect(throws: PKIError.identityExists(path: directory + "/partner.key")) {
            try hub.pki.issuePartner(name: "other", role: .cert, identityDirectory: directory)
        }
        // A revoked partner may be issued a new certificate, with a new serial.
        _ = try hub.pki.revokePartner(name: "bank-a")
        let (_, again) = try hub.issue("bank-a")
        #expect(again.identity.serial > first.identity.serial)
        #expect(try hub.pki.partners().first?.revocation == nil)
    }

    @Test func revocationIsRecordedIdempotentAndNamed() throws {
        let hub = try TestHub()
        let (_, issued) = try hub.issue("cert-x", role: .cert)
        #expect(throws: PKIError.unknownPartner(name: "nobody")) { try hub.pki.revokePartner(name: "nobody") }
        let (entry, added) = try hub.pki.revokePartner(name: "cert-x", now: 1_795_428_000)
        #expect(added)
        #expect(entry.serial == issued.identity.serial)
        #expect(entry.fingerprintHex == issued.identity.fingerprintHex)
        #expect(entry.revokedAtText == "2026-11-23T10:00:00Z")
        let (again, addedAgain) = try hub.pki.revokePartner(name: "cert-x")
        #expect(!addedAgain)
        #expect(again == entry)
        #expect(try hub.pki.revocations().entries == [entry])
        let text = try String(contentsOfFile: hub.pki.revokedPath, encoding: .utf8)
        #expect(text.hasSuffix("\(entry.serial)\t\(entry.fingerprintHex)\t2026-11-23T10:00:00Z\tcert-x\n"))
        #expect(try hub.pki.partners().first?.revocation == entry)
    }

    @Test func corruptRevocationListIsRefusedWithTheLine() throws {
        let hub = try TestHub()
        let header = "# IndicatorHub revocation list v1: serial, sha256 fingerprint, revoked at, partner\n"
        let good = "3\t" + String(repeating: "ab", count: 32) + "\t2026-11-23T10:00:00Z\tbank-a\n"
        let cases: [(String, PKIError)] = [
            ("garbage\n", .corrupt(path: hub.pki.revokedPath, line: 1, reason: "expected the header line '\(header.dropLast())'")),
            (header + good + "x\ty\n", .corrupt(path: hub.pki.revokedPath, line: 3, reason: "expected 4 TAB-separated fields, found 2")),
            (header + good.replacingOccurrences(of: "3\t", with: "0\t"),
             .corrupt(path: hub.pki.revokedPath, line: 2, reason: "serial '0' is not a positive integer")),
            (header + good.replacingOccurrences(of: "2026-11-23T10", with: "2026-13-23T10"),
             .corrupt(path: hub.pki.revokedPath, line: 2, reason: "time '2026-13-23T10:00:00Z' is not YYYY-MM-DDTHH:MM:SSZ")),
            (header + String(good.dropLast()), .corrupt(path: hub.pki.revokedPath, line: 2, reason: "last line is not terminated (truncated write?)")),
        ]
        for (contents, expected) in cases {
            try contents.write(toFile: hub.pki.revokedPath, atomically: false, encoding: .utf8)
            #expect(throws: expected) { try hub.pki.revocations() }
            #expect(throws: expected) { try hub.pki.serverContext() }
        }
        try (header + good).write(toFile: hub.pki.revokedPath, atomically: false, encoding: .utf8)
        #expect(try hub.pki.revocations().entries.count == 1)
    }

    @Test func keysReadableByOthersAreRefused() throws {
        let hub = try TestHub()
        let (directory, _) = try hub.issue("bank-a")
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: hub.pki.serverKeyPath)
        #expect(throws: PKIError.keyFileMode(path: hub.pki.serverKeyPath, mode: 0o644)) { try hub.pki.serverContext() }
        try FileManager.default.setAttributes([.posixPermissions: 0o640], ofItemAtPath: directory + "/partner.key")
        #expect(throws: PKIError.keyFileMode(path: directory + "/partner.key", mode: 0o640)) {
            try TLSClientContext(identityDirectory: directory)
        }
        #expect(PKIError.keyFileMode(path: "/x/ca.key", mode: 0o644).description == "/x/ca.key: mode 0644 lets group or others read a private key; chmod 600 /x/ca.key")
    }

    private func years(from start: String, to end: String) throws -> Double {
        let formatter = ISO8601DateFormatter()
        let from = try #require(formatter.date(from: start))
        let to = try #require(formatter.date(from: end))
        return to.timeIntervalSince(from) / (365.25 * 86400)
    }
}
