import Foundation
import Testing

/// `ihub init` (hub CA) and `ihub partner add|revoke|list`, run as the built binary.
@Suite struct PartnerCommandTests {
    private func permissions(_ path: String) throws -> Int {
        (try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int) ?? -1
    }

    @Test func initCreatesTheHubCAWithPrivateKeys() throws {
        let (keep, data) = try Ihub.initialised()
        defer { withExtendedLifetime(keep) {} }
        #expect(try permissions(data + "/tls") == 0o700)
        #expect(try permissions(data + "/tls/ca.key") == 0o600)
        #expect(try permissions(data + "/tls/server.key") == 0o600)
        #expect(FileManager.default.fileExists(atPath: data + "/tls/ca.crt"))
        #expect(FileManager.default.fileExists(atPath: data + "/digest.key"))

        let temp = try TemporaryDirectory()
        let json = try Ihub.run(["init", temp.path + "/j", "--json"]).json()
        #expect((json["ca_fingerprint"] as? String)?.count == 64)
        #expect(json["key_id"] is String)
        let bad = try Ihub.run(["init", temp.path + "/b", "--hostname", "no_underscores"])
        #expect(bad.status == 2)
        #expect(bad.stderr.contains("--hostname 'no_underscores'"))
        #expect(!FileManager.default.fileExists(atPath: temp.path + "/b"))
    }

    @Test func addWritesAnIdentityDirectoryAndPrintsTheCertificate() throws {
        let (temp, data) = try Ihub.initialised()
        let out = temp.path + "/bank-a"
        let result = try Ihub.run(["partner", "add", "bank-a", "--role", "bank", "--data", data, "--out", out])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("issued partner bank-a (role bank)"))
        #expect(result.stdout.contains("serial 3"))
        #expect(result.stdout.contains("fingerprint sha256:"))
        #expect(try permissions(out + "/partner.key") == 0o600)
        #expect(try permissions(out) == 0o700)
        for file in ["partner.crt", "ca.crt"] { #expect(FileManager.default.fileExists(atPath: out + "/" + file)) }
        #expect(FileManager.default.fileExists(atPath: data + "/tls/partners/bank-a.crt"))

        let json = try Ihub.run(["partner", "add", "isp-1", "--role", "isp", "--days", "30", "--data", data,
                                 "--out", temp.path + "/isp-1", "--json"]).json()
        #expect(json["partner"] as? String == "isp-1")
        #expect(json["role"] as? String == "isp")
        #expect(json["serial"] as? Int == 4)
        #expect((json["fingerprint"] as? String)?.count == 64)
        #expect(try permissions(temp.path + "/isp-1/partner.key") == 0o600)

        let list = try Ihub.run(["partner", "list", "--data", data, "--json"]).jsonLines()
        #expect(list.map { $0["partner"] as? String } == ["bank-a", "isp-1"])
        #expect(list.allSatisfy { $0["revoked_at"] is NSNull })
    }

    @Test func badNamesRolesAndDuplicatesExitTwoWithTheReason() throws {
        let (temp, data) = try Ihub.initialised()
        #expect(try Ihub.run(["partner", "add", "cert-x", "--role", "cert", "--data", data, "--out", temp.path + "/c"]).status == 0)
        let cases: [([String], String)] = [
            (["partner", "add", "Bank-A", "--role", "bank"], "partner name 'Bank-A' must be 1–64 characters"),
            (["partner", "add", "a/b", "--role", "bank"], "partner name 'a/b'"),
            (["partner", "add", String(repeating: "x", count: 65), "--role", "bank"], "must be 1–64 characters"),
            (["partner", "add", "", "--role", "bank"], "partner name ''"),
            (["partner", "add", "ok", "--role", "pirate"], "unknown --role 'pirate'"),
            (["partner", "add", "ok"], "missing --role"),
            (["partner", "add", "ok", "--role", "bank", "--days", "-3"], "--days '-3'"),
            (["partner", "add", "cert-x", "--role", "cert"], "partner 'cert-x' already has a valid certificate (serial 3)"),
            (["partner", "revoke", "nobody"], "no partner named 'nobody'"),
            (["partner", "frobnicate"], "unknown subcommand 'frobnicate'"),
        ]
        for (arguments, message) in cases {
            var full = arguments
            if arguments.count > 2 { full += ["--data", data] }
            if arguments[1] == "add" { full += ["--out", temp.path + "/new-\(UUID().uuidString)"] }
            let result = try Ihub.run(full)
            #expect(result.status == 2, "\(arguments)")
            #expect(result.stderr.contains(message), "\(arguments): \(result.stderr)")
        }
        let missing = try Ihub.run(["partner", "add", "x", "--role", "bank", "--data", temp.path + "/none", "--out", temp.path + "/x"])
        #expect(missing.status == 2)
        #expect(missing.stderr.contains("no hub CA"))
        // The existing identity directory is never overwritten.
        let again = try Ihub.run(["partner", "add", "other", "--role", "bank", "--data", data, "--out", temp.path + "/c"])
        #expect(again.status == 2)
        #expect(again.stderr.contains("partner.key already exists"))
    }

    @Test func revokeIsIdempotentAndAllowsReissue() throws {
        let (temp, data) = try Ihub.initialised()
        #expect(try Ihub.run(["partner", "add", "bank-a", "--role", "bank", "--data", data, "--out", temp.path + "/a"]).status == 0)
        let first = try Ihub.run(["partner", "revoke", "bank-a", "--data", data, "--json"])
        #expect(first.status == 0, "\(first.stderr)")
        let entry = try first.json()
        #expect(entry["serial"] as? Int == 3)
        #expect(entry["already_revoked"] as? Bool == false)
        let second = try Ihub.run(["partner", "revoke", "bank-a", "--data", data])
        #expect(second.status == 0)
        #expect(second.stdout.contains("already revoked (serial 3"))
        let revoked = try String(contentsOfFile: data + "/tls/revoked", encoding: .utf8)
        #expect(revoked.split(separator: "\n").count == 2)   // header + one entry
        #expect(revoked.contains("\t\(entry["fingerprint"] as? String ?? "?")\t"))

        let list = try Ihub.run(["partner", "list", "--data", data])
        #expect(list.stdout.contains("bank-a\tbank\tserial 3\trevoked "))
        let reissue = try Ihub.run(["partner", "add", "bank-a", "--role", "bank", "--data", data, "--out", temp.path + "/b", "--json"])
        #expect(reissue.status == 0, "\(reissue.stderr)")
        #expect(try reissue.json()["serial"] as? Int == 4)
    }
}
