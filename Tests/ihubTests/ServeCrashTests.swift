import Foundation
import Testing

/// `ihub serve --audit-sync interval:…` (docs/AUDIT-LOG.md, "Writing"): an answer leaves only
/// after its record was written, so SIGKILL of the server right after the answers arrive —
/// long before the next `fdatasync` — leaves every answered request's record in the file, and
/// the next start continues the chain.
@Suite struct ServeCrashTests {
    static let partner = "bank-crash"

    /// `ihub serve` with `--audit-sync sync`; returns the process and the port.
    static func serve(data: String, policies: String, log: String, sync: String) throws -> (Process, UInt16) {
        let serve = try ServeProcess.start(data: data, policies: policies, log: log, options: ["--audit-sync", sync])
        return (serve.process, serve.port)
    }

    @Test func killMinus9RightAfterTheAnswersLosesNoAnsweredRecord() throws {
        let temp = try TemporaryDirectory()
        let directory = try ServeDirectory(temp, partners: [(Self.partner, "bank", """
            {
              "partner": "\(Self.partner)",
              "role": "bank",
              "version": 1,
              "types": ["ipv4", "domain"],
              "categories": ["unspecified", "phishing", "malware", "c2", "botnet", "fraud", "mule-account",
                             "scam", "spam", "ransomware", "exploit", "scanning", "hijacked"],
              "purposes": ["payment-screening"],
              "legal_bases": ["gdpr-6-1-f"],
              "required_fields": ["purpose", "legal_basis", "reference"],
              "reveal": [],
              "max_batch": 100,
              "rate": { "per_second": 100000, "burst": 100000 },
              "daily_quota": 100000000,
              "tlp_ceiling": "red",
              "priorities": ["routine"]
            }

            """)], seed: "listed.example\n198.51.100.7\n")
        let (data, policies, identity) = (directory.data, directory.policies, directory.identity(of: Self.partner))

        // No fdatasync after the first for a minute: the records are only written.
        let (server, port) = try Self.serve(data: data, policies: policies, log: temp.path + "/serve.log",
                                            sync: "interval:60000")
        let requests = 6
        var answered: [String] = []
        for index in 0..<requests {
            let reference = "CRASH-\(index)"
            let result = try Ihub.run(["query", "--hub", "127.0.0.1:\(port)", "--identity", identity,
                                       "--purpose", "payment-screening", "--legal-basis", "gdpr-6-1-f", "--ref", reference,
                                       "--json", index % 2 == 0 ? "listed.example" : "unlisted.example"])
            if (try? result.jsonLines().count) == 1 { answered.append(reference) }
        }
        kill(server.processIdentifier, SIGKILL)
        server.waitUntilExit()
        #expect(answered.count == requests)
        let serveLog = try String(contentsOfFile: temp.path + "/serve.log", encoding: .utf8)
        #expect(serveLog.contains("event=audit_opened"))
        #expect(serveLog.contains("sync=interval:60000"))

        let segment = try String(contentsOfFile: data + "/audit/000001.log", encoding: .utf8)
        let lines = segment.split(separator: "\n", omittingEmptySubsequences: false)
        #expect(lines.last == "", "the file ends with a complete line")
        for reference in answered {
            #expect(lines.contains { $0.contains(#""reference":"\#(reference)""#) }, "record of \(reference) lost")
        }

        // The next start continues the chain after the last written record.
        let (again, _) = try Self.serve(data: data, policies: policies, log: temp.path + "/serve2.log", sync: "group")
        kill(again.processIdentifier, SIGTERM)
        again.waitUntilExit()
        let againLog = try String(contentsOfFile: temp.path + "/serve2.log", encoding: .utf8)
        #expect(againLog.contains("sync=group"))
        #expect(againLog.contains("next_seq=\(lines.count)"), "\(againLog)")
    }

    @Test func aBadAuditSyncSettingIsRefused() throws {
        let result = try Ihub.run(["serve", "--data", "/nonexistent", "--policies", "/nonexistent",
                                   "--listen", "127.0.0.1:0", "--audit-sync", "sometimes"])
        #expect(result.status != 0)
        #expect(result.stderr.contains("--audit-sync: 'sometimes'"))
    }
}
