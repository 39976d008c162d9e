import Testing
@testable import FeedFormats
import IndicatorKit

/// The STIX reader on the OASIS and MISP-exported example bundles. Expected counts come from
/// reading the files (see the comments), not from running the reader.
@Suite struct STIXReaderTests {
    func read(_ name: String) throws -> ReadResult {
        try readJSONFeed(try fixture(name), format: .stix, file: name)
    }

    func read(text: String) throws(FeedError) -> ReadResult {
        try readJSONFeed(Array(text.utf8), format: .stix)
    }

    @Test func smallestBundle() throws {
        let result = try read("oasis-examples_indicator-for-c2-ip-address.json")
        #expect(result.records.map(\.value) == ["10.0.0.0"])
        #expect(result.records.first?.type == .ipv4)
        #expect(result.records.first?.path == "$.objects[0].pattern")
        #expect(result.problems.isEmpty)
    }

    /// objects[2] ipv4 and objects[3] file:hashes.'SHA-256'; identity, malware, course-of-action
    /// and relationships carry no indicator.
    @Test func indicatorsWithCourseOfAction() throws {
        let result = try read("oasis-examples_indicators-for-C2-with-COA.json")
        #expect(result.records.map(\.type) == [.ipv4, .sha256])
        #expect(result.problems.isEmpty)
    }

    /// 12 indicators: 4 IPv4 /15 networks, 3 domains, 3 lower-case `file:hashes.md5`, and 2
    /// x509-certificate patterns (unsupported object type, joined by AND).
    @Test func apt1Report() throws {
        let result = try read("oasis-examples_threat-reports_apt1.json")
        #expect(result.records.count == 10)
        #expect(result.records.filter { $0.type == .ipv4 }.map(\.value) == ["223.166.0.0/15", "58.246.0.0/15", "112.64.0.0/15", "139.226.0.0/15"])
        #expect(result.records.filter { $0.type == .md5 }.count == 3)
        #expect(result.problems.map(\.path) == ["$.objects[20].pattern", "$.objects[21].pattern"])
        #expect(result.problems.allSatisfy { $0.reason.hasPrefix("unsupported pattern") })
    }

    /// 25 indicators: 23 of domain/ipv4 comparisons joined by OR (65 values, one of them the
    /// dirty 'domain autuo.xicp.net'), 2 file:name patterns.
    @Test func poisonIvyReport() throws {
        let result = try read("oasis-examples_threat-reports_poisonivy.json")
        #expect(result.records.count == 65)
        #expect(result.problems.map(\.path) == ["$.objects[43].pattern", "$.objects[57].pattern"])
        #expect(result.records.allSatisfy { $0.fields.category == nil })  // malicious-activity, attribution
        let digested = try digest(try fixture("oasis-examples_threat-reports_poisonivy.json"), format: .stix)
        #expect(digested.report.accepted == 64)
        #expect(digested.report.rejected == 3)
        #expect(digested.report.problems.first?.path == "$.objects[42].pattern")
        #expect(Set(digested.entries.map(\.digest)).count == 42)
    }

    /// MISP's STIX export: a domain indicator, a domain AND resolves_to pattern, a file:name.
    @Test func mispExport() throws {
        let result = try read("misp-stix_test_events_collection_stix21.json")
        #expect(result.records.map(\.value) == ["circl.lu"])
        #expect(result.problems.count == 2)
        #expect(result.problems[0].reason.contains("comparisons joined by AND"))
    }

    static let indicator = """
        {"type": "indicator", "spec_version": "2.1", "id": "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
         "created": "2024-01-02T03:04:05.000Z", "modified": "2024-02-03T00:00:00Z",
         "valid_from": "2024-01-01T00:00:00Z", "valid_until": "2030-01-01T00:00:00Z",
         "pattern_type": "stix", "pattern": "[domain-name:value = 'evil.example' OR file:hashes.'SHA-1' = '77b0c41b7d340b8a3d903f21347bbf06aa766b5b']",
         "indicator_types": ["malicious-activity", "compromised"], "confidence": 85,
         "object_marking_refs": ["marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da", "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003"]}
        """

    @Test func metadataIsMapped() throws {
        let result = try read(text: Self.indicator)  // a bare indicator, not in a bundle
        #expect(result.records.count == 2)
        let fields = try #require(result.records.first?.fields)
        #expect(fields.expires == 1_893_456_000)
        #expect(fields.firstSeenDay == 19_723)  // valid_from 2024-01-01
        #expect(fields.lastSeenDay == 19_756)  // modified 2024-02-03
        #expect(fields.confidence == 85)
        #expect(fields.tlp == .amberStrict)  // the strictest of green (TLP 1) and amber+strict (TLP 2)
        #expect(fields.category == .hijacked)
        #expect(result.records.first?.path == "$.pattern")
    }

    @Test func revokedIndicatorsAreWithdrawals() throws {
        let text = #"{"type": "bundle", "id": "bundle--1", "objects": ["# + Self.indicator.replacingOccurrences(of: "\"confidence\"", with: "\"revoked\": true, \"confidence\"") + "]}"
        let result = try read(text: text)
        #expect(result.records.map(\.action) == [.withdraw, .withdraw])
        let digested = try digest(Array(text.utf8), format: .stix)
        #expect(digested.entries.isEmpty)
        #expect(digested.report.withdrawals == 2)
        #expect(digested.report.problems.allSatisfy { $0.reason.contains("withdrawals need the live store (issue 4)") })
    }

    @Test func badIndicatorsAreRefusedWithTheirPath() throws {
        let objects = [
            #"{"type": "indicator", "pattern_type": "sigma", "pattern": "title: x"}"#,
            #"{"type": "indicator", "pattern_type": "stix"}"#,
            #"{"type": "indicator", "pattern": "[ipv4-addr:value = '192.0.2.1']", "confidence": 101}"#,
            #"{"type": "indicator", "pattern": "[ipv4-addr:value = '192.0.2.1']", "pattern": "[ipv4-addr:value = '192.0.2.2']"}"#,
            #"{"type": "indicator", "pattern": "[ipv4-addr:value = '192.0.2.1'", "valid_until": "2030-01-01T00:00:00Z"}"#,
            #"{"type": "indicator", "pattern": "[ipv4-addr:value = '192.0.2.1']", "valid_until": "soon"}"#,
            #"{"type": "indicator", "indicator_types": ["benign"], "pattern": "[ipv4-addr:value = '192.0.2.1']"}"#,
            #""not an object""#,
            #"{"type": "malware", "name": "x"}"#,
        ]
        let text = "{\"type\": \"bundle\", \"objects\": [\n" + objects.joined(separator: ",\n") + "\n]}"
        let result = try read(text: text)
        #expect(result.records.isEmpty)
        #expect(result.problems.map(\.path) == ["$.objects[0].pattern_type", "$.objects[1].pattern", "$.objects[2].confidence",
                                                 "$.objects[3].pattern", "$.objects[4].pattern", "$.objects[5].valid_until",
                                                 "$.objects[7]"])
        #expect(result.problems.map(\.line) == [2, 3, 4, 5, 6, 7, 9])
        #expect(result.problems[3].reason == "field given twice")
        #expect(result.problems[4].reason.hasPrefix("pattern syntax error"))
        #expect(result.skipped == ["STIX indicator_types says benign": 1])
        #expect(result.problems[0].description == "feed.json: $.objects[0].pattern_type: pattern_type \"sigma\" is not supported (only \"stix\")")
    }

    @Test func fileLevelErrors() {
        #expect(throws: FeedError.json(file: "feed.json", line: 1, column: 36, reason: "unexpected end of file, expected a value")) {
            try read(text: #"{"type": "bundle", "objects": [{}, "#)
        }
        #expect(throws: FeedError.notFeed(file: "feed.json", format: .stix, reason: "top-level \"type\" is \"report\", expected \"bundle\" or \"indicator\"")) {
            try read(text: #"{"type": "report"}"#)
        }
        #expect(throws: FeedError.self) { try read(text: "[1, 2]") }
        let deep = "{\"type\": \"bundle\", \"objects\": [" + String(repeating: "[", count: 100) + String(repeating: "]", count: 100) + "]}"
        #expect(throws: FeedError.json(file: "feed.json", line: 1, column: 94, reason: "nested deeper than 64 levels")) {
            try read(text: deep)
        }
    }

    @Test func detection() throws {
        for name in ["oasis-examples_threat-reports_apt1.json", "misp-stix_test_events_collection_stix21.json"] {
            #expect(try fixture(name).withUnsafeBufferPointer { FeedFormat.detect($0) } == .stix)
        }
        #expect(withBytes(Self.indicator) { FeedFormat.detect($0) } == .stix)
        #expect(withBytes(#"{"objects": [], "type": "bundle"}"#) { FeedFormat.detect($0) } == .stix)
        #expect(withBytes(#"{"type": "report"}"#) { FeedFormat.detect($0) } == nil)
    }

    /// Mutated copies of a real bundle (bytes flipped, cut, duplicated) never crash the reader.
    @Test func mutatedBundlesNeverCrash() throws {
        let original = try fixture("oasis-examples_threat-reports_poisonivy.json")
        var generator = SplitMix64(seed: 4)
        let alphabet = Array("{}[]\",:'\\ 0aOR=".utf8) + [0x00, 0xC3, 0xFF]
        for round in 0..<300 {
            var bytes = original
            for _ in 0..<(1 + round % 8) {
                let index = Int(generator.next() % UInt64(bytes.count))
                switch generator.next() % 3 {
                case 0: bytes[index] = alphabet[Int(generator.next() % UInt64(alphabet.count))]
                case 1: bytes.removeSubrange(index..<min(bytes.count, index + Int(generator.next() % 64)))
                default: bytes.insert(contentsOf: bytes[index..<min(bytes.count, index + 40)], at: index)
                }
                if bytes.isEmpty { bytes = original }
            }
            _ = try? digest(bytes, format: .stix)
            _ = try? digest(bytes)
        }
    }
}
