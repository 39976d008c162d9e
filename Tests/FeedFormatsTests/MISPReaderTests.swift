import Foundation
import Testing
@testable import FeedFormats
import IndicatorKit

/// The MISP reader on real CIRCL OSINT events. Expected counts come from reading the files.
@Suite struct MISPReaderTests {
    func read(_ name: String) throws -> ReadResult {
        try readJSONFeed(try fixture(name), format: .misp, file: name)
    }

    func read(text: String) throws(FeedError) -> ReadResult {
        try readJSONFeed(Array(text.utf8), format: .misp)
    }

    /// 11 attributes: md5, sha1, sha256 with to_ids (taken); 2 link, comment, text, filename,
    /// regkey|value (types the hub does not list). Event tag tlp:white.
    @Test func circlFeedEvent() throws {
        let result = try read("pymisp_circl-osint-feed-event_57c4445b-c548-4654-af0b-4be3950d210f.json")
        #expect(result.records.map(\.type) == [.md5, .sha1, .sha256])
        #expect(result.records.map(\.path) == ["$.Event.Attribute[5].value", "$.Event.Attribute[6].value", "$.Event.Attribute[7].value"])
        #expect(result.records.allSatisfy { $0.fields.tlp == .clear })  // the event's Tag comes after its attributes
        // timestamp 1472480395 = 2016-08-29; the event date is 2016-08-29 too.
        #expect(result.records.first?.fields.lastSeenDay == 17_042)
        #expect(result.records.first?.fields.firstSeenDay == 17_042)
        #expect(result.problems.isEmpty)
        #expect(result.skipped == ["MISP type link": 2, "MISP type comment": 1, "MISP type text": 1,
                                   "MISP type filename": 1, "MISP type regkey|value": 1])
    }

    /// 43 `ip-port` objects (ip-dst with to_ids, port without) and 35 attributes: 5 md5, 5 sha1,
    /// 5 sha256, 4 filename, 6 link, 3 regkey, 1 comment.
    @Test func qakbotEmotetEvent() throws {
        let result = try read("pymisp_to_delete3_ip-dst.json")
        #expect(result.records.count == 43 + 15)
        #expect(result.records.filter { $0.type == .ipv4 }.count == 43)
        #expect(result.records.first { $0.type == .ipv4 }?.path == "$.Event.Object[0].Attribute[1].value")
        #expect(result.problems.isEmpty)
        #expect(result.skippedCount == 24 + 4 + 6 + 3 + 1)
        #expect(result.skipped["MISP type port"] == 24)
        let digested = try digest(try fixture("pymisp_to_delete3_ip-dst.json"), format: .misp)
        #expect(digested.report.accepted == 58)
        #expect(digested.report.rejected == 0)
    }

    static func event(_ attributes: [String], tags: String = "") -> String {
        "{\"Event\": {\"info\": \"t\",\n\"Attribute\": [\n" + attributes.joined(separator: ",\n") + "\n]\(tags)}}"
    }

    @Test func typeMappingAndRefusals() throws {
        let text = Self.event([
            #"{"type": "ip-dst|port", "value": "192.0.2.1|443", "to_ids": true}"#,
            #"{"type": "domain|ip", "value": "evil.example|2001:db8::1", "to_ids": true}"#,
            #"{"type": "filename|sha256", "value": "a.exe|b3c4ae251f8094fa15b510051835c657eaef2a6cea46075d3aec964b14a99f68", "to_ids": "1"}"#,
            #"{"type": "iban", "value": "DE89370400440532013000", "to_ids": true, "Tag": [{"name": "tlp:red"}]}"#,
            #"{"type": "btc", "value": "1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2", "to_ids": true}"#,
            #"{"type": "phone-number", "value": "+44 20 7946 0999", "to_ids": true}"#,
            #"{"type": "url", "value": "/wp-content/x.php", "to_ids": true}"#,
            #"{"type": "ip-src|port", "value": "192.0.2.1", "to_ids": true}"#,
            #"{"type": "md5", "value": "0749bae92ca336a02c83d126e04ec628", "to_ids": false}"#,
            #"{"type": "md5", "value": "0749bae92ca336a02c83d126e04ec628", "to_ids": true, "deleted": true}"#,
            #"{"type": "email-src", "value": "a@evil.example", "to_ids": true, "first_seen": "2019-06-12T12:00:00.000000+00:00", "last_seen": "bad"}"#,
            #"{"type": "link", "value": "https://example.com/report", "to_ids": false}"#,
        ], tags: #", "Tag": [{"name": "tlp:amber"}, {"name": "tlp:green"}]"#)
        let result = try read(text: text)
        #expect(result.records.map(\.value) == ["192.0.2.1", "evil.example", "2001:db8::1",
                                                 "b3c4ae251f8094fa15b510051835c657eaef2a6cea46075d3aec964b14a99f68",
                                                 "DE89370400440532013000", "1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2", "+44 20 7946 0999",
                                                 "/wp-content/x.php"])
        #expect(result.records.map(\.type) == [.ipv4, .domain, .ipv6, .sha256, .iban, .wallet, .phone, .url])
        #expect(result.records[0].fields.tlp == .amber)  // the strictest event tag
        #expect(result.records[4].fields.tlp == .red)  // the attribute's own tag
        #expect(result.problems.map(\.description) == [
            "feed.json: $.Event.Attribute[7].value: a ip-src|port value is written 'a|b'; this one has no '|'",
            "feed.json: $.Event.Attribute[10].last_seen: timestamp 'bad' is cut short (expected YYYY-MM-DD[ HH:MM:SS][Z])",
        ])
        #expect(result.skipped == ["MISP to_ids false": 1, "MISP deleted": 1, "MISP type link": 1])
        // The value that is not a URL is refused when it is read as one.
        let digested = try digest(Array(text.utf8), format: .misp)
        #expect(digested.report.accepted == 7)
        #expect(digested.report.problems.map(\.path).first == "$.Event.Attribute[6].value")
    }

    /// Every type the mapping claims exists in MISP's own type list, and the types the issue
    /// names are all mapped.
    @Test func typeTableAgainstDescribeTypes() throws {
        let json = try JSONSerialization.jsonObject(with: Data(try fixture("pymisp_describeTypes.json"))) as? [String: Any]
        let types = Set(try #require((json?["result"] as? [String: Any] ?? json)?["types"] as? [String]))
        #expect(types.count >= 190)
        for name in MISPTypes.mapping.keys {
            #expect(types.contains(name), "\(name) is not a MISP type")
        }
        for name in ["ip-src", "ip-dst", "ip-src|port", "ip-dst|port", "domain", "hostname", "domain|ip", "url",
                     "email-src", "email-dst", "email", "md5", "sha1", "sha256", "sha512", "filename|md5",
                     "filename|sha1", "filename|sha256", "filename|sha512", "iban", "btc", "phone-number"] {
            #expect(MISPTypes.mapping[name] != nil, "\(name) is not mapped")
        }
    }

    @Test func manifest() throws {
        let uuids = try fixture("misp-rfc_sample_manifest.json").withUnsafeBufferPointer { (buffer) throws(FeedError) in
            try MISPReader.manifestEvents(buffer, file: "manifest.json")
        }
        #expect(uuids == ["57c6ac4c-c60c-4f79-a38f-b666950d210f", "5720accd-dd28-45f8-80e5-4605950d210f"])
        #expect(throws: FeedError.notFeed(file: "manifest.json", format: .misp, reason: "manifest key \"../../etc/passwd\" is not an event uuid")) {
            try withBytes(#"{"../../etc/passwd": {}}"#) { (buffer) throws(FeedError) in
                try MISPReader.manifestEvents(buffer, file: "manifest.json")
            }
        }
    }

    @Test func fileLevelErrorsAndDetection() throws {
        #expect(throws: FeedError.notFeed(file: "feed.json", format: .misp,
                                          reason: "no \"Event\" object at the top level (a feed's manifest.json is read by giving its directory)")) {
            try read(text: #"{"response": []}"#)
        }
        #expect(throws: FeedError.self) { try read(text: #"{"Event": {"Attribute": [{"type": "md5",}]}}"#) }
        #expect(try fixture("pymisp_to_delete3_ip-dst.json").withUnsafeBufferPointer { FeedFormat.detect($0) } == .misp)
        #expect(try fixture("misp-rfc_sample_manifest.json").withUnsafeBufferPointer { FeedFormat.detect($0) } == nil)
    }

    @Test func mutatedEventsNeverCrash() throws {
        let original = try fixture("pymisp_to_delete3_ip-dst.json")
        var generator = SplitMix64(seed: 9)
        let alphabet = Array("{}[]\",:|\\ 0a".utf8) + [0x00, 0xC3, 0xFF]
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
            _ = try? digest(bytes, format: .misp)
            _ = try? digest(bytes)
        }
    }
}
