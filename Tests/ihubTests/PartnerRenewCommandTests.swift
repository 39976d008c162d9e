import Foundation
import Testing

/// `ihub partner renew`, `ihub partner revoke --previous`, the expiry columns of `partner list`
/// and the `certificate_expiring` warnings of `ihub serve` (docs/PKI.md, "Renewal").
@Suite struct PartnerRenewCommandTests {
    private func add(_ name: String, _ data: String, _ out: String, days: Int? = nil) throws {
        let result = try Ihub.run(["partner", "add", name, "--role", "bank", "--data", data, "--out", out]
            + (days.map { ["--days", String($0)] } ?? []))
        #expect(result.status == 0, "\(result.stderr)")
    }

    @Test func renewThenRevokePreviousThenRenewAgain() throws {
        let (temp, data) = try Ihub.initialised()
        try add("bank-a", data, temp.path + "/a1")
        let renewed = try Ihub.run(["partner", "renew", "bank-a", "--data", data, "--out", temp.path + "/a2"])
        #expect(renewed.status == 0, "\(renewed.stderr)")
        #expect(renewed.stdout.contains("renewed partner bank-a (role bank)"))
        #expect(renewed.stdout.contains("serial 4\n"))
        #expect(renewed.stdout.contains("the previous certificate (serial 3, valid until "))
        #expect(renewed.stdout.contains("ihub partner revoke bank-a --previous"))
        let permissions = try FileManager.default.attributesOfItem(atPath: temp.path + "/a2/partner.key")[.posixPermissions] as? Int
        #expect(permissions == 0o600)
        #expect(try String(contentsOfFile: temp.path + "/a1/partner.crt", encoding: .utf8)
            == String(contentsOfFile: data + "/tls/partners/bank-a.previous.crt", encoding: .utf8))

        let list = try Ihub.run(["partner", "list", "--data", data, "--json"]).jsonLines()
        #expect(list.map { $0["certificate"] as? String } == ["current", "previous"])
        #expect(list.map { $0["serial"] as? Int } == [4, 3])

        let twice = try Ihub.run(["partner", "renew", "bank-a", "--data", data, "--out", temp.path + "/a3"])
        #expect(twice.status == 2)
        #expect(twice.stderr.contains("still has a valid previous certificate (serial 3)"), "\(twice.stderr)")
        #expect(twice.stderr.contains("'ihub partner revoke bank-a --previous'"))
        #expect(!FileManager.default.fileExists(atPath: temp.path + "/a3/partner.key"))

        let revoked = try Ihub.run(["partner", "revoke", "bank-a", "--previous", "--data", data, "--json"])
        #expect(revoked.status == 0, "\(revoked.stderr)")
        let entry = try revoked.json()
        #expect(entry["certificate"] as? String == "previous")
        #expect(entry["serial"] as? Int == 3)
        #expect(entry["already_revoked"] as? Bool == false)
        #expect(!FileManager.default.fileExists(atPath: data + "/tls/partners/bank-a.previous.crt"))
        let none = try Ihub.run(["partner", "revoke", "bank-a", "--previous", "--data", data])
        #expect(none.status == 2)
        #expect(none.stderr.contains("partner 'bank-a' has no previous certificate"))

        let again = try Ihub.run(["partner", "renew", "bank-a", "--data", data, "--out", temp.path + "/a3", "--days", "10", "--json"])
        #expect(again.status == 0, "\(again.stderr)")
        let json = try again.json()
        #expect(json["serial"] as? Int == 5)
        #expect((json["previous"] as? [String: Any])?["serial"] as? Int == 4)
    }

    @Test func plainRevokeRevokesTheCurrentAndThePreviousCertificate() throws {
        let (temp, data) = try Ihub.initialised()
        try add("bank-a", data, temp.path + "/a1")
        #expect(try Ihub.run(["partner", "renew", "bank-a", "--data", data, "--out", temp.path + "/a2"]).status == 0)
        let result = try Ihub.run(["partner", "revoke", "bank-a", "--data", data])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("revoked partner bank-a's current certificate (serial 4"), "\(result.stdout)")
        #expect(result.stdout.contains("revoked partner bank-a's previous certificate (serial 3"))
        #expect(result.stdout.contains("refuses them from its next reload"))
        let revoked = try String(contentsOfFile: data + "/tls/revoked", encoding: .utf8)
        #expect(revoked.split(separator: "\n").count == 3)   // header + two entries
        let renew = try Ihub.run(["partner", "renew", "bank-a", "--data", data, "--out", temp.path + "/a3"])
        #expect(renew.status == 2)
        #expect(renew.stderr.contains("is revoked, so there is nothing to renew; issue a new one with 'ihub partner add'"))
    }

    @Test func badRenewalsExitTwoNamingTheProblem() throws {
        let (temp, data) = try Ihub.initialised()
        try add("bank-a", data, temp.path + "/a1")
        let cases: [([String], String)] = [
            (["partner", "renew", "nobody", "--data", data, "--out", temp.path + "/n"], "partner 'nobody' has no certificate to renew; issue one with 'ihub partner add'"),
            (["partner", "renew", "bank-a", "--data", data, "--out", temp.path + "/n", "--days", "0"], "--days '0'"),
            (["partner", "renew", "bank-a", "--data", data, "--out", temp.path + "/n", "--role", "isp"], "unknown option --role"),
            (["partner", "renew", "bank-a", "--data", data], "missing --out"),
            (["partner", "renew", "bank-a", "--out", temp.path + "/n"], "missing --data"),
            (["partner", "renew", "bank-a", "--data", data, "--out", temp.path + "/a1"], "partner.key already exists"),
            (["partner", "revoke", "bank-a", "--previous=yes", "--data", data], "--previous takes no value"),
            (["partner", "revoke", "bank-a", "--previous", "--data", data], "partner 'bank-a' has no previous certificate"),
            (["partner", "add", "x.previous", "--role", "bank", "--data", data, "--out", temp.path + "/x"], "may not end in '.previous'"),
        ]
        for (arguments, message) in cases {
            let result = try Ihub.run(arguments)
            #expect(result.status == 2, "\(arguments)")
            #expect(result.stderr.contains(message), "\(arguments): \(result.stderr)")
        }
        #expect(try String(contentsOfFile: data + "/tls/serial", encoding: .utf8) == "4\n")
    }

    @Test func listShowsDaysLeftAndMarksCertificatesExpiringWithinThirtyDays() throws {
        let (temp, data) = try Ihub.initialised()
        try add("bank-a", data, temp.path + "/a1")
        try add("isp-1", data, temp.path + "/i1", days: 10)
        let text = try Ihub.run(["partner", "list", "--data", data])
        #expect(text.status == 0)
        let lines = text.stdout.split(separator: "\n")
        #expect(lines.count == 2)
        #expect(lines[0].hasPrefix("bank-a\tbank\tserial 3\tvalid until "))
        #expect(lines[0].hasSuffix(" (730 days left)"), "\(lines[0])")
        #expect(lines[1].hasSuffix(" (10 days left) EXPIRES WITHIN 30 DAYS"), "\(lines[1])")
        let json = try Ihub.run(["partner", "list", "--data", data, "--json"]).jsonLines()
        #expect(json.map { $0["days_left"] as? Int } == [730, 10])
        #expect(json.map { $0["expiring"] as? Bool } == [false, true])
        #expect(json.allSatisfy { ($0["not_after"] as? String)?.count == 20 })

        #expect(try Ihub.run(["partner", "renew", "isp-1", "--data", data, "--out", temp.path + "/i2"]).status == 0)
        let renewed = try Ihub.run(["partner", "list", "--data", data]).stdout.split(separator: "\n")
        #expect(renewed.count == 3)
        #expect(renewed[1].hasPrefix("isp-1\tbank\tserial 5\tvalid until ") && renewed[1].hasSuffix(" (730 days left)"))
        #expect(renewed[2].hasPrefix("isp-1\tbank\tserial 4 (previous)\tvalid until "))
        #expect(renewed[2].hasSuffix(" EXPIRES WITHIN 30 DAYS"))
    }

    @Test func serveWarnsAboutExpiringCertificatesAtStartAndOnReload() throws {
        let temp = try TemporaryDirectory()
        let policy = ServeDirectory.plainBankPolicy("bank-r")
        let directory = try ServeDirectory(temp, partners: [("bank-r", "bank", policy)])
        let renew = try Ihub.run(["partner", "renew", "bank-r", "--data", directory.data, "--out", temp.path + "/r2", "--days", "10"])
        #expect(renew.status == 0, "\(renew.stderr)")
        let server = try ServeProcess.start(data: directory.data, policies: directory.policies, log: temp.path + "/serve.log")
        defer { server.stop(SIGTERM) }
        let warnings = { server.logText.split(separator: "\n").filter { $0.contains("event=certificate_expiring") } }
        #expect(warnings().count == 1, "\(server.logText)")
        let first = String(warnings().first ?? "")
        #expect(first.contains("level=warn"))
        #expect(first.contains("partner=bank-r certificate=current serial=4 not_after="), "\(first)")
        #expect(first.contains(" days_left=10"), "\(first)")

        // A renewal with 5 days after the previous is revoked: the reload warns about it.
        #expect(try Ihub.run(["partner", "revoke", "bank-r", "--previous", "--data", directory.data]).status == 0)
        #expect(try Ihub.run(["partner", "renew", "bank-r", "--data", directory.data, "--out", temp.path + "/r3",
                              "--days", "5"]).status == 0)
        server.signal(SIGHUP)
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline, !server.logText.contains("event=reloaded") { usleep(10_000) }
        let after = warnings()
        #expect(after.count == 3, "\(server.logText)")
        #expect(after.contains { $0.contains("partner=bank-r certificate=current serial=5 ") && $0.contains(" days_left=5") })
        #expect(after.contains { $0.contains("partner=bank-r certificate=previous serial=4 ") && $0.contains(" days_left=10") })
        #expect(!server.logText.contains("certificate=server"))
    }
}
