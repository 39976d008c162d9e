import Foundation
import Testing

@Suite struct InitAndUsageTests {
    @Test func initCreatesPrivateKeyAndRefusesToOverwrite() throws {
        let temp = try TemporaryDirectory()
        let data = temp.path + "/hub"
        let first = try Ihub.run(["init", data])
        #expect(first.status == 0, "\(first.stderr)")
        #expect(first.stdout.contains("key id"))
        let attributes = try FileManager.default.attributesOfItem(atPath: data + "/digest.key")
        #expect((attributes[.posixPermissions] as? Int) == 0o600)
        let directory = try FileManager.default.attributesOfItem(atPath: data)
        #expect((directory[.posixPermissions] as? Int) == 0o700)
        #expect(try Data(contentsOf: URL(fileURLWithPath: data + "/digest.key")).count == 24)

        let again = try Ihub.run(["init", data])
        #expect(again.status == 2)
        #expect(again.stderr.contains(data))
    }

    @Test func keyReadableByOthersIsRefused() throws {
        let temp = try TemporaryDirectory()
        let data = temp.path + "/hub"
        #expect(try Ihub.run(["init", data]).status == 0)
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: data + "/digest.key")
        let lookup = try Ihub.run(["lookup", "--data", data, "192.0.2.1"])
        #expect(lookup.status == 2)
        #expect(lookup.stderr.contains("digest.key"))
        #expect(lookup.stderr.contains("chmod 600"))
    }

    @Test func usageErrorsExitTwoAndSayWhy() throws {
        let cases: [([String], String)] = [
            ([], "usage"),
            (["frobnicate"], "unknown command 'frobnicate'"),
            (["canonical", "--type", "ipv5", "1.2.3.4"], "unknown --type 'ipv5'"),
            (["canonical", "--bogus", "1.2.3.4"], "unknown option --bogus"),
            (["canonical"], "no values given"),
            (["lookup", "1.2.3.4"], "missing --data"),
            (["lookup", "--data", "/nonexistent/ihub", "1.2.3.4"], "/nonexistent/ihub: not a hub data directory"),
            (["ingest", "--data", "/nonexistent/ihub", "--source", "x", "f"], "/nonexistent/ihub: not a hub data directory"),
        ]
        for (arguments, message) in cases {
            let result = try Ihub.run(arguments)
            #expect(result.status == 2, "\(arguments)")
            #expect(result.stderr.contains(message), "\(arguments): \(result.stderr)")
        }
    }
}
