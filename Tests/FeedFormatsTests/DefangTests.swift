import Testing
@testable import FeedFormats
import IndicatorKit

/// Defanged values: refanged only when the upload says so, otherwise refused with a hint.
@Suite struct DefangTests {
    static let feed = "hxxp://evil[.]example/a\nhXXps://b(.)example/\nc[dot]example\nuser[@]d[.]example\n192[.]0[.]2[.]1\n2001:db8[:]:1\nclean.example\n"

    @Test func refangedWhenTheUploadIsDefanged() throws {
        let result = try digest(Array(Self.feed.utf8), defanged: true)
        #expect(result.report.problems == [])
        #expect(result.report.accepted == 7)
        let expected = ["http://evil.example/a", "https://b.example/", "c.example", "user@d.example", "192.0.2.1",
                        "2001:db8::1", "clean.example"].map { value in
            let (form, bytes) = try! Canonicalizer.canonical(value)
            return bytes.withUnsafeBufferPointer { feedTestKey.digest(form, canonical: $0) }
        }
        #expect(result.entries.map(\.digest) == expected)
    }

    @Test func refusedWithAHintOtherwise() throws {
        let result = try digest(Array(Self.feed.utf8))
        #expect(result.report.accepted == 1)
        #expect(result.report.problems.map(\.line) == [1, 2, 3, 4, 5, 6])
        #expect(result.report.problems[0].reason == "looks defanged ('hxxp://'); if the upload is defanged, pass --defanged")
        #expect(result.report.problems[1].reason.contains("'hXXp://'"))
        #expect(result.report.problems[2].reason.contains("'[dot]'"))
    }

    @Test func bracketsThatAreNotMarkersStay() throws {
        let result = try digest(Array("http://[2001:db8::1]/x\n".utf8))
        #expect(result.report.problems == [])
        #expect(result.report.accepted == 1)
    }
}
