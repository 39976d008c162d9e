import Foundation
import Testing

/// The operator's commands and unsafe permissions (docs/OPERATIONS.md, "Hardening"): the digest
/// key is refused by every command; other findings are warnings on stderr, except that `ihub
/// verify` exits 2 for what `ihub serve` would refuse, and `ihub serve` refuses it.
@Suite struct PermissionCommandTests {
    static func initialised(_ temp: TemporaryDirectory) throws -> String {
        let data = temp.path + "/hub"
        let result = try Ihub.run(["init", data, "--hostname", "hub.example"])
        #expect(result.status == 0, "\(result.stderr)")
        return data
    }

    static func chmod(_ path: String, _ mode: Int) throws {
        try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: path)
    }

    @Test func aDirectoryAsInitMakesItGivesNoWarning() throws {
        let temp = try TemporaryDirectory()
        let data = try Self.initialised(temp)
        let lookup = try Ihub.run(["lookup", "--data", data, "192.0.2.1"])
        #expect(lookup.status == 0, "\(lookup.stderr)")
        #expect(!lookup.stderr.contains("warning"), "\(lookup.stderr)")
        let verify = try Ihub.run(["verify", "--data", data, "--json"])
        #expect(verify.status == 0, "\(verify.stderr)")
        #expect((try verify.json()["permissions"] as? [Any])?.isEmpty == true, "\(verify.stdout)")
    }

    @Test func anOpenDataDirectoryIsAWarningEverywhere() throws {
        let temp = try TemporaryDirectory()
        let data = try Self.initialised(temp)
        try Self.chmod(data, 0o755)
        let lookup = try Ihub.run(["lookup", "--data", data, "192.0.2.1"])
        #expect(lookup.status == 0, "a warning refuses nothing: \(lookup.stderr)")
        #expect(lookup.stderr.contains("ihub: warning: \(data): mode 0755 lets group and others enter a hub data directory; "
            + "chmod 700 \(data)"), "\(lookup.stderr)")
        let verify = try Ihub.run(["verify", "--data", data, "--json"])
        #expect(verify.status == 0, "\(verify.stderr)")
        let findings = try #require(try verify.json()["permissions"] as? [[String: Any]], "\(verify.stdout)")
        #expect(findings.count == 1)
        #expect(findings.first?["path"] as? String == data)
        #expect(findings.first?["mode"] as? String == "0755")
        #expect(findings.first?["level"] as? String == "warn")
        #expect(findings.first?["fix"] as? String == "chmod 700 \(data)")
        let text = try Ihub.run(["verify", "--data", data])
        #expect(text.status == 0 && text.stdout.contains("warning: \(data): mode 0755"), "\(text.stdout)")
    }

    @Test func whatServeRefusesIsAWarningForLookupAndAFailureForVerify() throws {
        let temp = try TemporaryDirectory()
        let data = try Self.initialised(temp)
        try Self.chmod(data + "/tls/server.key", 0o644)
        try Self.chmod(data + "/store", 0o777)
        let lookup = try Ihub.run(["lookup", "--data", data, "192.0.2.1"])
        #expect(lookup.status == 0, "\(lookup.stderr)")
        #expect(lookup.stderr.contains("\(data)/tls/server.key: mode 0644 lets group and others read a secret key; "
            + "chmod 600 \(data)/tls/server.key (ihub serve refuses to start)"), "\(lookup.stderr)")
        #expect(lookup.stderr.contains("chmod 700 \(data)/store"), "\(lookup.stderr)")

        let verify = try Ihub.run(["verify", "--data", data, "--json"])
        #expect(verify.status == 2)
        #expect(verify.stderr.contains("ihub serve would refuse to start"), "\(verify.stderr)")
        #expect(verify.stderr.contains("chmod 600 \(data)/tls/server.key"), "\(verify.stderr)")
        let object = try verify.json()
        #expect(object["ok"] as? Bool == false)
        let findings = try #require(object["permissions"] as? [[String: Any]])
        #expect(findings.map { $0["level"] as? String } == ["refuse", "refuse"], "\(findings)")
    }

    @Test func aDigestKeyOthersMayReadIsRefusedByVerifyToo() throws {
        let temp = try TemporaryDirectory()
        let data = try Self.initialised(temp)
        try Self.chmod(data + "/digest.key", 0o604)
        let verify = try Ihub.run(["verify", "--data", data])
        #expect(verify.status == 2)
        #expect(verify.stderr.contains("\(data)/digest.key: mode 0604 lets others read a secret key; chmod 600 \(data)/digest.key"),
                "\(verify.stderr)")
        let ingest = try Ihub.run(["ingest", "--data", data, "--source", "s", "-"], stdin: "192.0.2.1\n")
        #expect(ingest.status == 2 && ingest.stderr.contains("chmod 600 \(data)/digest.key"), "\(ingest.stderr)")
    }

    @Test func serveRefusesAKeyOthersMayReadBeforeListening() throws {
        let temp = try TemporaryDirectory()
        let data = try Self.initialised(temp)
        let policies = temp.path + "/policies"
        try FileManager.default.createDirectory(atPath: policies, withIntermediateDirectories: true)
        try Self.chmod(data + "/tls/ca.key", 0o640)
        let serve = try Ihub.run(["serve", "--data", data, "--policies", policies, "--listen", "127.0.0.1:0"])
        #expect(serve.status == 2)
        #expect(serve.stderr.contains("level=error event=insecure_permissions path=\(data)/tls/ca.key mode=0640"), "\(serve.stderr)")
        #expect(serve.stderr.contains("chmod 600 \(data)/tls/ca.key"), "\(serve.stderr)")
        #expect(!serve.stderr.contains("listening"), "\(serve.stderr)")
    }
}
