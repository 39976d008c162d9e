import Testing
@testable import FeedFormats
import IndicatorKit

@Suite struct ListReaderTests {
    func records(_ text: String, type: IndicatorType? = nil) -> [(Int, String)] {
        withBytes(text) { bytes in
            var found: [(Int, String)] = []
            ListReader.read(bytes, type: type) { found.append(($0.line, String(decoding: $0.value, as: UTF8.self))) }
            return found
        }
    }

    @Test func skipsCommentsAndBlankLinesKeepingLineNumbers() {
        let found = records("# banner\n\n1.2.3.4\n; other\n// c-style\n  evil.example  \n")
        #expect(found.map(\.0) == [3, 6])
        #expect(found.map(\.1) == ["1.2.3.4", "evil.example"])
    }

    @Test func cutsTrailingCommentsOnlyAfterBlanks() {
        let found = records("1.10.16.0/20 ; SBL256894\nhttp://x.example/a#frag\nx.example\t# note\n")
        #expect(found.map(\.1) == ["1.10.16.0/20", "http://x.example/a#frag", "x.example"])
    }

    @Test func handlesCRLFAndByteOrderMarkAndMissingFinalNewline() {
        let found = records("\u{FEFF}a.example\r\nb.example\r\nc.example")
        #expect(found.map(\.1) == ["a.example", "b.example", "c.example"])
        #expect(found.map(\.0) == [1, 2, 3])
    }

    @Test func keepsInnerWhitespace() {
        #expect(records("DE89 3704 0044 0532 0130 00\n").map(\.1) == ["DE89 3704 0044 0532 0130 00"])
    }

    @Test func readsSpamhausDropWithTrailingSpaces() throws {
        let bytes = try fixture("secops_spamhaus_drop_stripped.txt")
        var values: [String] = []
        bytes.withUnsafeBufferPointer { buffer in
            ListReader.read(buffer, type: nil) { values.append(String(decoding: $0.value, as: UTF8.self)) }
        }
        #expect(values.count == 989)
        #expect(values.first == "1.10.16.0/20")
        #expect(values.allSatisfy { !$0.hasSuffix(" ") && $0.contains("/") })
    }

    @Test func detectsListFormat() throws {
        let bytes = try fixture("secops_spamhaus_drop_stripped.txt")
        #expect(bytes.withUnsafeBufferPointer { FeedFormat.detect($0) } == .list)
        #expect(withBytes("# x\nevil.example\n") { FeedFormat.detect($0) } == .list)
    }
}
