import Foundation
import Testing

/// `ihub push` and `ihub withdraw` against a real `ihub serve` (protocol version 2): the upload
/// is counted, applied once (a retry with the same id is "already applied"), withdrawn by id,
/// and the audit trail holds it without any raw value.
@Suite struct ServePushTests {
    static let partner = "cert-push"

    @Test func pushRetryAndWithdrawThroughTheRealServer() throws {
        let temp = try TemporaryDirectory()
        let directory = try ServeDirectory(temp, partners: [(Self.partner, "cert", """
            {
              "partner": "\(Self.partner)", "role": "cert", "version": 1,
              "types": ["ipv4", "domain"], "categories": ["malware"],
              "purposes": ["incident-response"], "legal_bases": ["nis2-art-11"],
              "max_batch": 100, "rate": { "per_second": 1000, "burst": 1000 }, "daily_quota": 100000,
              "tlp_ceiling": "red", "priorities": ["routine"],
              "upload": {
                "types": ["ipv4", "domain"], "categories": ["malware", "c2"],
                "defaults": { "category": "malware", "confidence": 60, "tlp": "green", "action": "block", "ttl_days": 7 },
                "required_fields": ["legal_basis", "reference"], "max_records": 100, "withdraw": true
              }
            }

            """)], seed: "listed.example\n")
        let (data, policies, identity) = (directory.data, directory.policies, directory.identity(of: Self.partner))
        let (server, port) = try ServeCrashTests.serve(data: data, policies: policies, log: temp.path + "/serve.log",
                                                       sync: "group")
        defer {
            if server.isRunning { kill(server.processIdentifier, SIGKILL) }
            server.waitUntilExit()
        }
        let feed = try temp.file("feed.txt", "pushed-secret.example\n198.51.100.90\npushed-secret.example\nbad..example\n")
        let id = "00112233445566778899aabbccddeeff"
        func push() throws -> [String: Any] {
            let result = try Ihub.run(["push", "--hub", "127.0.0.1:\(port)", "--identity", identity, "--json",
                                       "--legal-basis", "nis2-art-11", "--ref", "CERT-77", "--upload-id", id, feed])
            #expect(result.status == 1, "\(result.stderr)")  // one record refused
            return try result.json()
        }
        let first = try push()
        #expect(first["accepted"] as? Int == 2 && first["duplicates"] as? Int == 1 && first["rejected"] as? Int == 1,
                "\(first)")
        #expect(first["already_applied"] as? Bool == false && (first["upload_number"] as? Int ?? 0) >= 1)
        let again = try push()
        #expect(again["already_applied"] as? Bool == true && again["upload_number"] as? Int == first["upload_number"] as? Int)

        let withdrawn = try Ihub.run(["withdraw", "--hub", "127.0.0.1:\(port)", "--identity", identity, "--json",
                                      "--ref", "W-9", "--upload", id])
        #expect(withdrawn.status == 0, "\(withdrawn.stderr)")
        #expect(try withdrawn.json()["withdrawn"] as? Int == 2, "\(withdrawn.stdout)")

        kill(server.processIdentifier, SIGTERM)
        server.waitUntilExit()
        let audit = try Data(contentsOf: URL(fileURLWithPath: data + "/audit/000001.log"))
        let text = String(decoding: audit, as: UTF8.self)
        #expect(text.components(separatedBy: #""kind":"upload""#).count - 1 == 2)
        #expect(text.contains(#""kind":"withdraw""#))
        let everything = temp.allFileText(under: data) + ((try? String(contentsOfFile: temp.path + "/serve.log", encoding: .utf8)) ?? "")
        #expect(!everything.contains("pushed-secret") && !everything.contains("198.51.100.90"))
    }
}

extension TemporaryDirectory {
    /// Every file's bytes under `directory`, as one lossy string (for "never written" checks).
    func allFileText(under directory: String) -> String {
        var text = ""
        let enumerator = FileManager.default.enumerator(atPath: directory)
        while let name = enumerator?.nextObject() as? String {
            if let data = FileManager.default.contents(atPath: directory + "/" + name) {
                text += String(decoding: data, as: UTF8.self)
            }
        }
        return text
    }
}
