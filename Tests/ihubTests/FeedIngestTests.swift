import Foundation
import Testing

/// `ihub ingest` with STIX, MISP (files and feed directories), defanged lists and `--strict`.
@Suite struct FeedIngestTests {
    func hub() throws -> (TemporaryDirectory, String) {
        let temp = try TemporaryDirectory()
        let data = temp.path + "/data"
        let result = try Ihub.run(["init", data])
        #expect(result.status == 0, "\(result.stderr)")
        return (temp, data)
    }

    func matches(_ data: String, _ values: [String]) throws -> [Bool?] {
        try Ihub.run(["lookup", "--data", data, "--json"] + values).jsonLines().map { $0["match"] as? Bool }
    }

    /// 65 values in 23 usable indicators (43 distinct, one of them 'domain autuo.xicp.net'),
    /// two file:name indicators.
    @Test func stixBundle() throws {
        let (temp, data) = try hub()
        defer { withExtendedLifetime(temp) {} }
        let file = fixturePath("oasis-examples_threat-reports_poisonivy.json")
        let result = try Ihub.run(["ingest", "--data", data, "--source", "cert", "--json", file])
        #expect(result.status == 1)
        let report = try result.json()
        #expect(report["accepted"] as? Int == 42)
        #expect(report["duplicates"] as? Int == 22)
        #expect(report["rejected"] as? Int == 3)
        let errors = try #require(report["errors"] as? [[String: Any]])
        #expect(errors.map { $0["path"] as? String } == ["$.objects[42].pattern", "$.objects[43].pattern", "$.objects[57].pattern"])
        #expect((errors[1]["reason"] as? String)?.hasPrefix("unsupported pattern: object path file:name") == true)
        #expect(try matches(data, ["www.webserver.dynssl.com", "202.65.222.45", "autuo.xicp.net"]) == [true, true, false])

        let human = try Ihub.run(["ingest", "--data", data, "--source", "cert", "--format", "stix", file])
        #expect(human.stdout.contains("\(file): $.objects[43].pattern: unsupported pattern"))
    }

    /// 43 ip-dst (to_ids) in ip-port objects and 15 hashes; 38 attributes of other types.
    @Test func mispEventFile() throws {
        let (temp, data) = try hub()
        defer { withExtendedLifetime(temp) {} }
        let result = try Ihub.run(["ingest", "--data", data, "--source", "circl", "--json", fixturePath("pymisp_to_delete3_ip-dst.json")])
        #expect(result.status == 0, "\(result.stderr)")
        let report = try result.json()
        #expect(report["accepted"] as? Int == 58)
        #expect(report["skipped"] as? Int == 38)
        #expect((report["skipped_reasons"] as? [String: Int])?["MISP type port"] == 24)
        #expect(try matches(data, ["64.183.173.170", "995"]) == [true, nil])
    }

    @Test func mispFeedDirectory() throws {
        let (temp, data) = try hub()
        let feed = temp.path + "/feed"
        try FileManager.default.createDirectory(atPath: feed, withIntermediateDirectories: true)
        let uuid = "57c4445b-c548-4654-af0b-4be3950d210f"
        try FileManager.default.copyItem(atPath: fixturePath("pymisp_circl-osint-feed-event_\(uuid).json"),
                                         toPath: feed + "/\(uuid).json")
        try Data(#"{"\#(uuid)": {"info": "Ransomware - Xorist", "timestamp": "1472541011"}}"#.utf8)
            .write(to: URL(fileURLWithPath: feed + "/manifest.json"))
        let result = try Ihub.run(["ingest", "--data", data, "--source", "circl", "--json", feed])
        #expect(result.status == 0, "\(result.stderr)")
        let report = try result.json()
        #expect(report["accepted"] as? Int == 3)
        #expect(report["skipped"] as? Int == 6)
        let lookup = try Ihub.run(["lookup", "--data", data, "--json", "0749bae92ca336a02c83d126e04ec628"]).jsonLines()
        #expect(lookup.first?["match"] as? Bool == true)
        #expect(lookup.first?["tlp"] as? String == "clear")  // the event's tlp:white

        // The manifest itself stands for its directory; a directory without one is refused.
        let again = try Ihub.run(["ingest", "--data", data, "--source", "circl", "--json", feed + "/manifest.json"])
        #expect(try again.json()["duplicates"] as? Int == 3)
        let empty = temp.path + "/empty"
        try FileManager.default.createDirectory(atPath: empty, withIntermediateDirectories: true)
        let refused = try Ihub.run(["ingest", "--data", data, "--source", "circl", empty])
        #expect(refused.status == 2)
        #expect(refused.stderr.contains("without manifest.json"))
    }

    @Test func defangedLists() throws {
        let (temp, data) = try hub()
        let feed = try temp.file("defanged.txt", "hxxp://evil[.]example/login\n198[.]51[.]100[.]7\nplain.example\n")
        let plain = try Ihub.run(["ingest", "--data", data, "--source", "cert", "--json", feed])
        #expect(plain.status == 1)
        let report = try plain.json()
        #expect(report["accepted"] as? Int == 1)
        let errors = try #require(report["errors"] as? [[String: Any]])
        #expect(errors.map { $0["line"] as? Int } == [1, 2])
        #expect(errors.allSatisfy { ($0["reason"] as? String)?.contains("pass --defanged") == true })

        let refanged = try Ihub.run(["ingest", "--data", data, "--source", "cert", "--defanged", "--json", feed])
        #expect(refanged.status == 0, "\(refanged.stdout)")
        #expect(try matches(data, ["http://evil.example/login", "198.51.100.7"]) == [true, true])
    }

    @Test func strictRefusesTheWholeUpload() throws {
        let (temp, data) = try hub()
        let feed = try temp.file("mixed.txt", "good.example\n999.1.1.1\n")
        let strict = try Ihub.run(["ingest", "--data", data, "--source", "cert", "--strict", "--json", feed])
        #expect(strict.status == 1)
        let report = try strict.json()
        #expect(report["written"] as? Bool == false)
        #expect(report["accepted"] as? Int == 0)
        #expect(report["rejected"] as? Int == 1)
        #expect(try matches(data, ["good.example"]) == [false])

        let human = try Ihub.run(["ingest", "--data", data, "--source", "cert", "--strict", feed])
        #expect(human.stdout.contains("--strict: nothing written"))

        let lenient = try Ihub.run(["ingest", "--data", data, "--source", "cert", "--json", feed])
        #expect(lenient.status == 1)
        #expect(try matches(data, ["good.example"]) == [true])

        let clean = try temp.file("clean.txt", "also-good.example\n")
        #expect(try Ihub.run(["ingest", "--data", data, "--source", "cert", "--strict", clean]).status == 0)
    }

    @Test func brokenJSONChangesNothing() throws {
        let (temp, data) = try hub()
        let good = try temp.file("good.txt", "kept.example\n")
        #expect(try Ihub.run(["ingest", "--data", data, "--source", "a", good]).status == 0)
        let cut = try temp.file("cut.json", "{\"type\": \"bundle\", \"objects\": [\n{\"type\": \"indicator\", \"pattern\": \"[domain-name:value = 'new.example']\"},\n{\"type\"")
        let deep = try temp.file("deep.json", "{\"Event\": {\"Attribute\": " + String(repeating: "[", count: 5_000) + "}}")
        let cases: [([String], String)] = [
            ([cut], "cut.json:3:8: not valid JSON"),
            ([deep], "deep.json:1:87: not valid JSON: nested deeper than 64 levels"),
            (["--format", "misp", fixturePath("oasis-examples_threat-reports_poisonivy.json")], "not a MISP feed"),
            ([try temp.file("odd.json", "{\"type\": \"report\"}")], "cannot tell the feed format"),
        ]
        for (extra, message) in cases {
            let result = try Ihub.run(["ingest", "--data", data, "--source", "a"] + extra)
            #expect(result.status == 2, "\(extra)")
            #expect(result.stderr.contains(message), "\(extra): \(result.stderr)")
        }
        #expect(try matches(data, ["kept.example", "new.example"]) == [true, false])
    }
}
