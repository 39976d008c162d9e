import Testing
@testable import FeedFormats
import IndicatorKit

/// The pattern parser against the STIX pattern validator's own cases, and the supported subset.
@Suite struct STIXPatternTests {
    struct Case: CustomTestStringConvertible {
        var list: String
        var pattern: String
        var testDescription: String { "\(list): \(pattern)" }
        var mustBeValid: Bool { list.contains("PASS") || list == "SPEC" }
    }

    /// Every case of the validator's test file and the spec examples.
    static var cases: [Case] {
        var cases: [Case] = []
        if let bytes = try? fixture("cti-pattern-validator_v21_test_patterns.tsv") {
            for line in String(decoding: bytes, as: UTF8.self).split(separator: "\n") where !line.hasPrefix("#") {
                let columns = line.split(separator: "\t", omittingEmptySubsequences: false)
                if columns.count >= 2 { cases.append(Case(list: String(columns[0]), pattern: String(columns[1]))) }
            }
        }
        if let bytes = try? fixture("cti-pattern-validator_v21_spec_examples.txt") {
            for line in String(decoding: bytes, as: UTF8.self).split(separator: "\n") where !line.isEmpty {
                cases.append(Case(list: "SPEC", pattern: String(line)))
            }
        }
        return cases
    }

    @Test func theConformanceFilesAreThere() {
        #expect(Self.cases.count == 17 + 26 + 10 + 11 + 23)
    }

    /// A pattern the validator accepts is never a syntax error for us (accepted, or refused as
    /// unsupported); a pattern it refuses is refused (accepting a value whose canonical form
    /// is then refused counts: `'f00'` is not a SHA-256 hash).
    @Test(arguments: cases)
    func conformance(_ testCase: Case) {
        do {
            let pattern = try STIXPattern(testCase.pattern)
            if !testCase.mustBeValid {
                // Only the invalid-hash case parses: its value must fail canonicalisation.
                #expect(pattern.values.count == 1)
                let value = pattern.values[0]
                let canonical = try? Canonicalizer.canonical(String(decoding: value.bytes, as: UTF8.self), as: value.type)
                #expect(canonical == nil, "invalid pattern accepted: \(testCase.pattern)")
            }
        } catch {
            if testCase.mustBeValid {
                #expect(!error.isSyntaxError, "valid pattern called a syntax error: \(error)")
            }
        }
    }

    func values(_ text: String) throws -> [STIXPattern.Value] {
        try STIXPattern(text).values
    }

    @Test func supportedPathsAndHashSpellings() throws {
        #expect(try values("[ipv4-addr:value = '198.51.100.1']") == [.init(type: .ipv4, bytes: Array("198.51.100.1".utf8))])
        #expect(try values("[ipv6-addr:value = '2001:db8::1']").map(\.type) == [.ipv6])
        #expect(try values("[url:value = 'http://x.example/']").map(\.type) == [.url])
        #expect(try values("[email-addr:value = 'a@x.example']").map(\.type) == [.email])
        for (key, type) in [("MD5", IndicatorType.md5), ("md5", .md5), ("'SHA-1'", .sha1), ("SHA1", .sha1),
                            ("'SHA-256'", .sha256), ("sha256", .sha256), ("SHA256", .sha256), ("'sha-256'", .sha256),
                            ("'SHA-512'", .sha512), ("sha_512", .sha512)] {
            #expect(try values("[file:hashes.\(key) = 'ab']").map(\.type) == [type], "\(key)")
        }
    }

    @Test func orJoinsValuesAtBothLevels() throws {
        let inside = try values("[domain-name:value = 'a.example' OR ipv4-addr:value = '192.0.2.1' OR url:value = 'http://b.example/']")
        #expect(inside.map(\.type) == [.domain, .ipv4, .url])
        let outside = try values("[domain-name:value = 'a.example'] OR ([ipv4-addr:value = '192.0.2.1'])")
        #expect(outside.map { String(decoding: $0.bytes, as: UTF8.self) } == ["a.example", "192.0.2.1"])
    }

    @Test func escapesInStrings() throws {
        #expect(try values(#"[url:value = 'http://x.example/it\'s\\here']"#).map { String(decoding: $0.bytes, as: UTF8.self) }
            == [#"http://x.example/it's\here"#])
        #expect(throws: STIXPattern.PatternError.self) { try STIXPattern(#"[url:value = 'a\nb']"#) }
    }

    func refusal(_ text: String) -> STIXPattern.PatternError? {
        do {
            _ = try STIXPattern(text)
            return nil
        } catch {
            return error
        }
    }

    @Test func unsupportedFormsSayWhy() {
        let cases: [(String, String)] = [
            ("[domain-name:value = 'a.example' AND domain-name:value = 'b.example']", "comparisons joined by AND"),
            ("[ipv4-addr:value = '192.0.2.1'] AND [domain-name:value = 'a.example']", "observations joined by AND"),
            ("[ipv4-addr:value = '192.0.2.1'] FOLLOWEDBY [domain-name:value = 'a.example']", "FOLLOWEDBY"),
            ("[ipv4-addr:value = '192.0.2.1'] WITHIN 5 SECONDS", "WITHIN"),
            ("[ipv4-addr:value = '192.0.2.1'] REPEATS 2 TIMES", "REPEATS"),
            ("[ipv4-addr:value = '192.0.2.1'] START t'2016-06-01T01:30:00Z' STOP t'2016-06-01T02:20:00Z'", "START"),
            ("[ipv4-addr:value != '192.0.2.1']", "operator !="),
            ("[ipv4-addr:value NOT = '192.0.2.1']", "NOT ="),
            ("[ipv4-addr:value ISSUBSET '192.0.2.0/24']", "ISSUBSET"),
            ("[url:value MATCHES '^http']", "MATCHES"),
            ("[domain-name:value LIKE '%.example']", "LIKE"),
            ("[file:name = 'a.exe']", "object path file:name"),
            ("[file:hashes.'SHA3-256' = 'ab']", "hash algorithm 'SHA3-256'"),
            ("[ipv4-addr:value IN ('192.0.2.1', '192.0.2.2')]", "IN"),
        ]
        for (text, reason) in cases {
            let error = refusal(text)
            #expect(error?.isSyntaxError == false, "\(text)")
            #expect(error?.description.contains(reason) == true, "\(text): \(String(describing: error))")
        }
    }

    @Test func syntaxErrorsSayWhere() {
        #expect(refusal("ipv4-addr:value = '1'") == .syntax(at: 0, "expected '[' (an observation expression), found 'ipv4-addr'"))
        #expect(refusal("[ipv4-addr:value = '1'") == .syntax(at: 22, "expected ']' or a comparison joined by AND / OR, found end of pattern"))
        #expect(refusal("[file:hashes.SHA-256 = 'ab']")?.description.contains("quote it") == true)
        #expect(refusal("[ipv4-addr:value = '1'] extra")?.isSyntaxError == true)
        #expect(refusal("[ipv4-addr:value = 'unclosed]")?.isSyntaxError == true)
    }

    @Test func hostilePatternsAreRefusedCleanly() {
        let deep = String(repeating: "(", count: 10_000) + "[a:b = 'c']" + String(repeating: ")", count: 10_000)
        #expect(refusal(deep)?.isSyntaxError == true)
        var generator = SystemRandomNumberGenerator()
        let alphabet = Array("[]()':=.,*ANDORx-09 \\tbh".utf8) + [0xC3, 0xA9]
        for _ in 0..<5_000 {
            let bytes = (0..<Int.random(in: 0..<40, using: &generator)).map { _ in alphabet.randomElement(using: &generator)! }
            _ = refusal(String(decoding: bytes, as: UTF8.self))
        }
    }
}
