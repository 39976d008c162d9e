import Foundation
import Testing

@Suite struct IngestCommandTests {
    /// A fresh data directory.
    func hub() throws -> (TemporaryDirectory, String) {
        let temp = try TemporaryDirectory()
        let data = temp.path + "/data"
        let result = try Ihub.run(["init", data])
        #expect(result.status == 0, "\(result.stderr)")
        return (temp, data)
    }

    @Test func realCERTFeeds() throws {
        let (temp, data) = try hub()
        defer { withExtendedLifetime(temp) {} }
        let result = try Ihub.run([
            "ingest", "--data", data, "--source", "abuse.ch", "--json",
            fixturePath("feodotracker_ipblocklist.csv"), fixturePath("urlhaus_csv_recent_excerpt.csv"),
            fixturePath("secops_spamhaus_drop_stripped.txt"),
        ])
        #expect(result.status == 0, "\(result.stderr)")
        let report = try result.json()
        #expect(report["accepted"] as? Int == 28 + 2 + 989)
        #expect(report["rejected"] as? Int == 0)
        #expect((report["errors"] as? [Any])?.isEmpty == true)

        let lookup = try Ihub.run([
            "lookup", "--data", data, "--json",
            "192.9.135.73", "1.10.16.5", "http://182.126.120.150:58801/i", "http://182.126.120.150:58801/i?x=1", "192.0.2.1",
        ])
        let answers = try lookup.jsonLines()
        #expect(answers.map { $0["match"] as? Bool } == [true, true, true, true, false])
        #expect(answers[1]["matched"] as? String == "network")
        #expect(answers[2]["category"] as? String == "malware")
        #expect(answers[3]["matched"] as? String == "url_expression")
    }

    @Test func badRecordsAreReportedAndGoodOnesKept() throws {
        let (temp, data) = try hub()
        let first = try temp.file("first.txt", "good-one.example\n")
        #expect(try Ihub.run(["ingest", "--data", data, "--source", "a", first]).status == 0)

        let feed = try temp.file("mixed.txt", "# header\n999.1.1.1\n10.1.2.3/8\nnew-one.example\n\nthis is not anything\ngood-one.example\n")
        let result = try Ihub.run(["ingest", "--data", data, "--source", "a", "--json", feed])
        #expect(result.status == 1)
        let report = try result.json()
        #expect(report["accepted"] as? Int == 1)
        #expect(report["duplicates"] as? Int == 1)
        #expect(report["rejected"] as? Int == 3)
        let errors = try #require(report["errors"] as? [[String: Any]])
        #expect(errors.map { $0["line"] as? Int } == [2, 3, 6])
        #expect(errors.allSatisfy { $0["file"] as? String == feed })
        #expect((errors[1]["reason"] as? String)?.contains("10.0.0.0/8") == true)

        let lookup = try Ihub.run(["lookup", "--data", data, "--json", "good-one.example", "new-one.example"])
        #expect(try lookup.jsonLines().map { $0["match"] as? Bool } == [true, true])
    }

    /// Each ingest is one upload: the next upload number and a fresh upload id, in the report.
    @Test func eachIngestIsOneNumberedUpload() throws {
        let (temp, data) = try hub()
        let feed = try temp.file("feed.txt", "one.example\ntwo.example\none.example\n")
        let first = try Ihub.run(["ingest", "--data", data, "--source", "a", "--json", feed]).json()
        let second = try Ihub.run(["ingest", "--data", data, "--source", "b", "--json", feed]).json()
        #expect(first["upload_number"] as? Int == 1 && second["upload_number"] as? Int == 2)
        let ids = [first["upload_id"] as? String, second["upload_id"] as? String].compactMap { $0 }
        #expect(ids.count == 2 && ids[0] != ids[1] && ids.allSatisfy { $0.count == 32 }, "\(ids)")
        #expect(first["duplicates"] as? Int == 1 && second["duplicates"] as? Int == 3)
        let human = try Ihub.run(["ingest", "--data", data, "--source", "a", feed])
        #expect(human.stdout.contains("; upload 3, id "), "\(human.stdout)")
    }

    @Test func humanReportNamesFileAndLine() throws {
        let (temp, data) = try hub()
        let feed = try temp.file("bad.txt", "evil.example\n300.0.0.1\n")
        let result = try Ihub.run(["ingest", "--data", data, "--source", "a", feed])
        #expect(result.status == 1)
        #expect(result.stdout.contains("accepted 1"))
        #expect(result.stdout.contains("rejected 1"))
        #expect(result.stdout.contains("\(feed):2: invalid ipv4"))
    }

    @Test func fileLevelErrorsChangeNothing() throws {
        let (temp, data) = try hub()
        let good = try temp.file("good.txt", "kept.example\n")
        #expect(try Ihub.run(["ingest", "--data", data, "--source", "a", good]).status == 0)
        let noHeader = try temp.file("nohead.csv", "foo,bar\n1,2\n")
        let binary = temp.url.appendingPathComponent("blob.bin")
        try Data([0x00, 0x01, 0x02, 0x0A]).write(to: binary)
        let cases: [([String], String)] = [
            ([good, temp.path + "/missing.txt"], "missing.txt"),
            (["--format", "csv", noHeader], "nohead.csv:1: CSV header"),
            ([binary.path], "not a text feed"),
            (["--format", "xml", good], "unknown --format 'xml'"),
            (["--confidence", "101", good], "--confidence"),
            (["--tlp", "purple", good], "--tlp"),
            (["--category", "gremlins", good], "--category"),
        ]
        for (extra, message) in cases {
            let result = try Ihub.run(["ingest", "--data", data, "--source", "b"] + extra)
            #expect(result.status == 2, "\(extra)")
            #expect(result.stderr.contains(message), "\(extra): \(result.stderr)")
        }
        let lookup = try Ihub.run(["lookup", "--data", data, "--json", "kept.example"])
        #expect(try lookup.jsonLines().first?["match"] as? Bool == true)
        let bad = try Ihub.run(["ingest", "--data", data, "--source", "bad name!", good])
        #expect(bad.status == 2)
        #expect(bad.stderr.contains("source name"))
    }

    @Test func defaultsAndCoverage() throws {
        let (temp, data) = try hub()
        let feed = try temp.file("f.txt", "*.malware-cdn.example\n203.0.113.0/24\n")
        let result = try Ihub.run([
            "ingest", "--data", data, "--source", "cert", "--category", "phishing", "--confidence", "80",
            "--tlp", "green", "--action", "warn", "--ttl", "30", feed,
        ])
        #expect(result.status == 0, "\(result.stderr)")
        let lookup = try Ihub.run([
            "lookup", "--data", data, "--json",
            "a.b.malware-cdn.example", "malware-cdn.example", "other.example", "203.0.113.77", "203.0.114.1",
        ])
        let answers = try lookup.jsonLines()
        #expect(answers.map { $0["match"] as? Bool } == [true, true, false, true, false])
        #expect(answers[0]["matched"] as? String == "parent")
        #expect(answers[0]["category"] as? String == "phishing")
        #expect(answers[0]["confidence"] as? Int == 80)
        #expect(answers[0]["tlp"] as? String == "green")
        #expect(answers[0]["action"] as? String == "warn")
        #expect(answers[0]["expires"] is String)
    }

    @Test func lookupRefusalsCarryCodeAndReason() throws {
        let (temp, data) = try hub()
        defer { withExtendedLifetime(temp) {} }
        let result = try Ihub.run(["lookup", "--data", data, "--json", "999.1.1.1", "evil.example"])
        #expect(result.status == 1)
        let answers = try result.jsonLines()
        let error = try #require(answers.first?["error"] as? [String: Any])
        #expect(error["code"] as? String == "invalid_value")
        #expect((error["reason"] as? String)?.hasPrefix("invalid ipv4") == true)
        #expect(answers[1]["match"] as? Bool == false)
    }
}
