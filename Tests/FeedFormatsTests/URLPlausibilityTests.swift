import Testing
@testable import FeedFormats
import IndicatorKit

/// A feed's `url` value must name a real host: Safe Browsing canonicalisation escapes anything,
/// so text that is not a URL would otherwise be stored as one (real MISP events hold such values).
@Suite struct URLPlausibilityTests {
    @Test func textThatIsNotAURLIsRefusedWithTheHostNamed() throws {
        let feed = "http://evil.example/a\nnot a url at all\nhttp://a b/x\nhttp://%01%80.com/\nhttp://host/x\nhttp://[2001:db8::1]:8080/\n"
        var digester = FeedDigester(key: feedTestKey, defaults: EntryMetadata(), now: 1_763_856_000)
        defer { digester.release() }
        var entries: [FeedDigester.Entry] = []
        try Array(feed.utf8).withUnsafeBufferPointer { (buffer) throws(FeedError) in
            try digester.add(buffer, file: "urls.txt", format: .list, type: .url) { entries.append($0) }
        }
        let report = digester.currentReport
        #expect(report.accepted == 3)
        #expect(entries.count == 3)
        #expect(report.problems.map(\.line) == [2, 3, 4])
        #expect(report.problems.map(\.file) == ["urls.txt", "urls.txt", "urls.txt"])
        #expect(report.problems[0].reason
            == "URL host 'not%20a%20url%20at%20all' is not a host name or address (it holds bytes a host name cannot, shown %-escaped)")
        #expect(report.problems[1].reason.contains("'a%20b'"))
        #expect(report.problems[2].reason.contains("'%01%80.com'"))
    }
}
