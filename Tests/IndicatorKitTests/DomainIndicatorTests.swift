import Foundation
import Testing
@testable import IndicatorKit

@Suite("Domain indicator")
struct DomainIndicatorTests {
    typealias T = IDNATestSupport

    static func ok(_ input: String) -> String? { try? T.toASCII(input).get() }
    static func reason(_ input: String) -> String? { T.reason(T.toASCII(input)) }
    static func canonicalReason(_ input: String) -> String? { T.reason(T.canonical(input)) }

    @Test("host names convert to lower-case A-labels without the trailing dot")
    func conversions() {
        #expect(Self.ok("Example.COM.") == "example.com")
        #expect(Self.ok("example.com") == "example.com")
        #expect(Self.ok("ａｂｃ．com") == "abc.com")  // fullwidth letters and dot
        #expect(Self.ok("Bücher.de") == "xn--bcher-kva.de")
        #expect(Self.ok("BU\u{308}CHER.DE") == "xn--bcher-kva.de")  // NFC after mapping
        #expect(Self.ok("XN--BCHER-KVA.de") == "xn--bcher-kva.de")
        #expect(Self.ok("faß.de") == "xn--fa-hia.de")  // non-transitional keeps ß
        #expect(Self.ok("a\u{AD}b.com") == "ab.com")  // soft hyphen is ignored
        #expect(Self.ok("例え.テスト") == "xn--r8jz45g.xn--zckzah")
        #expect(Self.ok("www.xn--fa-hia.de.") == "www.xn--fa-hia.de")
        #expect(Self.ok("a。b｡c") == "a.b.c")
        #expect(Self.ok("1.2.3.4") == "1.2.3.4")  // fine as a host name; the indicator refuses it
    }

    @Test("hyphen rules, with the label named")
    func hyphens() {
        #expect(Self.reason("-abc.com") == "label 1 ('-abc') starts with a hyphen")
        #expect(Self.reason("x.-abc.com") == "label 2 ('-abc') starts with a hyphen")
        #expect(Self.reason("x.abc-.com") == "label 2 ('abc-') ends with a hyphen")
        #expect(Self.reason("ab--c.com")?.hasPrefix("label 1 ('ab--c') has hyphens in the third and fourth positions") == true)
        #expect(Self.reason("-ü.com") == "label 1 ('-ü') starts with a hyphen")
        #expect(Self.reason("ü-.com") == "label 1 ('ü-') ends with a hyphen")
        #expect(Self.ok("a-b.c-d.com") == "a-b.c-d.com")
        #expect(Self.ok("a--b.com") == "a--b.com")  // hyphens in positions 2 and 3 are fine
    }

    @Test("characters outside letters, digits and hyphens are refused (STD3)")
    func std3() {
        #expect(Self.reason("my_host.com")
            == "character '_' (U+005F) is not allowed in label 1 ('my_host'): a host name has only letters, digits and hyphens")
        #expect(Self.reason("a b.com")?.hasPrefix("character ' ' (U+0020) is not allowed in label 1") == true)
        #expect(Self.reason("a\u{A0}b.com")?.hasPrefix("character ' ' (U+0020) is not allowed in label 1") == true)
        #expect(Self.reason("a.b\u{0}c")?.hasPrefix("character (U+0000) is not allowed in label 2 ('b\\u{0000}c')") == true)
        #expect(Self.reason("⑴.com")?.contains("'(' (U+0028) is not allowed in label 1") == true)
    }

    @Test("disallowed characters, combining marks, joiners and the Bidi rule")
    func validity() {
        #expect(Self.reason("a⒈com")?.hasPrefix("disallowed character U+2488 in label 1") == true)
        #expect(Self.reason("x.\u{308}a")?.hasPrefix("label 2 ('\\u{0308}a') begins with the combining mark U+0308") == true)
        #expect(Self.reason("a\u{200C}b.com")?.contains("ZERO WIDTH NON-JOINER (U+200C) in label 1") == true)
        #expect(Self.reason("a\u{200D}b.com")?.contains("ZERO WIDTH JOINER (U+200D) in label 1") == true)
        #expect(Self.ok("a\u{94D}\u{200C}b.com") == "xn--ab-fsf604u.com")  // after a virama: fine
        #expect(Self.reason("0à.\u{5D0}")?.hasPrefix("label 1 ('0à') breaks the Bidi rule (RFC 5893 rule 1)") == true)
        #expect(Self.reason("\u{5D0}a.com")?.contains("(RFC 5893 rule 2)") == true)
        #expect(Self.reason("a\u{5D0}.com")?.contains("(RFC 5893 rule 5)") == true)
        #expect(Self.ok("\u{5D0}\u{5D1}.com") == "xn--4dbc.com")
        #expect(Self.reason("\u{1F600}\u{E000}.com")?.hasPrefix("disallowed character U+E000") == true)
    }

    @Test("A-labels are decoded and checked")
    func aLabels() {
        #expect(Self.reason("xn--zz.com") == "label 1 ('xn--zz') is not valid Punycode (it ends in the middle of a number)")
        #expect(Self.reason("www.xn--zz") == "label 2 ('xn--zz') is not valid Punycode (it ends in the middle of a number)")
        #expect(Self.reason("xn--.com") == "label 1 ('xn--') is not a valid A-label: it decodes to nothing")
        #expect(Self.reason("xn--abc-.com")?.hasPrefix("label 1 ('xn--abc-') is not a valid A-label: it decodes to the ASCII 'abc'") == true)
        #expect(Self.reason("xn--tda\u{FC}.com")?.contains("starts with 'xn--' but contains the non-ASCII character U+00FC") == true)
        // An A-label of an upper-case letter (Ü) decodes to a character that maps, so is invalid.
        #expect(Self.reason("xn--tda.com") == nil)
        #expect(Self.reason("xn--0ca.com") == nil)  // à
        #expect(Self.reason("xn--ssa.com")?.contains("begins with the combining mark U+0308") == true)
        #expect(Self.reason("xn--xn--a--gua.pt")?.contains("hyphens in the third and fourth positions") == true)
        // Non-canonical A-label input is re-encoded: upper-case Punycode digits become lower case.
        #expect(Self.ok("xn--BCHER-KVA.com") == "xn--bcher-kva.com")
    }

    @Test("empty names and empty labels")
    func empties() {
        #expect(Self.reason("") == "name is empty")
        #expect(Self.reason(".") == "name is empty")
        #expect(Self.reason("\u{AD}") == "name is empty once ignored characters are removed")
        #expect(Self.reason("\u{AD}.") == "name is empty once ignored characters are removed")
        #expect(Self.reason("。") == "name is empty")
        #expect(Self.reason(".com") == "label 1 is empty (the name starts with a dot)")
        #expect(Self.reason("a..com") == "label 2 is empty (two dots in a row)")
        #expect(Self.reason("a.com..") == "label 3 is empty (two dots in a row)")
        #expect(Self.reason("ü..com") == "label 2 is empty (two dots in a row)")
        #expect(Self.reason("ü.com..") == "label 3 is empty (two dots in a row)")
        #expect(Self.reason("\u{E0100}.com") == "label 1 is empty (once ignored characters are removed)")
        #expect(Self.reason("a.\u{AD}\u{200B}.com") == "label 2 is empty (once ignored characters are removed)")
    }

    @Test("label limit is 63 bytes and name limit 253, for ASCII and A-labels")
    func lengths() {
        let l63 = String(repeating: "a", count: 63)
        let l64 = String(repeating: "a", count: 64)
        #expect(Self.ok("\(l63).com") == "\(l63).com")
        #expect(Self.reason("\(l64).com") == "label 1 ('\(String(repeating: "a", count: 40))…') is 64 bytes; the limit is 63")
        #expect(Self.reason("x.\(l64)") == "label 2 ('\(String(repeating: "a", count: 40))…') is 64 bytes; the limit is 63")
        // ü + 55 × a encodes as xn-- + 55 a + "-" + 3 digits = 63 bytes; one more a is too long.
        let u55 = "ü" + String(repeating: "a", count: 55)
        let encoded55 = Self.ok(u55 + ".com")
        #expect(encoded55?.count == 67, "\(encoded55 ?? "nil")")
        #expect(Self.reason(u55 + "a.com")?.hasSuffix("is 64 bytes as an A-label; the limit is 63") == true)

        // 253 bytes: 3 × 63 + 61 + 3 dots.
        let name253 = [l63, l63, l63, String(repeating: "b", count: 61)].joined(separator: ".")
        #expect(name253.utf8.count == 253)
        #expect(Self.ok(name253) == name253)
        #expect(Self.ok(name253 + ".") == name253)  // the trailing dot does not count
        let name254 = [l63, l63, l63, String(repeating: "b", count: 62)].joined(separator: ".")
        #expect(Self.reason(name254) == "name is 254 bytes; the limit is 253")
        #expect(Self.reason(name254 + ".") == "name is 254 bytes; the limit is 253")
        let name260 = [l63, l63, l63, String(repeating: "b", count: 60), "example"].joined(separator: ".")
        #expect(Self.reason(name260) == "name is 260 bytes; the limit is 253")
        // Through the general path: a non-ASCII label pushes the name over.
        let name254u = [l63, l63, l63, "xn--tda", String(repeating: "b", count: 54)].joined(separator: ".")
        #expect(name254u.utf8.count == 254)
        let unicode254 = [l63, l63, l63, "ü", String(repeating: "b", count: 54)].joined(separator: ".")
        #expect(Self.reason(unicode254) == "name is 254 bytes; the limit is 253")
    }

    @Test("invalid UTF-8 is refused with the byte position")
    func invalidUTF8() {
        func reason(_ bytes: [UInt8]) -> String? { T.reason(T.toASCII(bytes: bytes)) }
        #expect(reason([0x61, 0xC0, 0xAF]) == "invalid UTF-8 at byte 2 (0xC0): byte that never occurs in UTF-8")
        #expect(reason([0x61, 0x80]) == "invalid UTF-8 at byte 2 (0x80): unexpected continuation byte")
        #expect(reason([0xE0, 0x80, 0xAF]) == "invalid UTF-8 at byte 1 (0xE0): overlong encoding")
        #expect(reason([0xED, 0xA0, 0x80]) == "invalid UTF-8 at byte 1 (0xED): encoded surrogate U+D800")
        #expect(reason([0xF4, 0x90, 0x80, 0x80]) == "invalid UTF-8 at byte 1 (0xF4): code point above U+10FFFF")
        #expect(reason([0x61, 0xE2, 0x82]) == "invalid UTF-8 at byte 2 (0xE2): sequence cut short at the end")
        #expect(reason([0xE2, 0x41, 0x82]) == "invalid UTF-8 at byte 1 (0xE2): incomplete sequence (byte 2 does not continue it)")
    }

    @Test("domain indicators: *. prefix, two labels, no numeric TLD, pointers to other types")
    func indicators() throws {
        let (form, text) = try T.canonical("*.Bücher.de").get()
        #expect(form == CanonicalForm(type: .domain, coversSubdomains: true))
        #expect(text == "xn--bcher-kva.de")
        let (plain, plainText) = try T.canonical("Example.COM.").get()
        #expect(plain == CanonicalForm(type: .domain, coversSubdomains: false))
        #expect(plainText == "example.com")

        #expect(Self.canonicalReason("localhost")?.hasPrefix("'localhost' is a single label, not a public domain name") == true)
        #expect(Self.canonicalReason("*.com")?.hasPrefix("'com' is a single label") == true)
        #expect(Self.canonicalReason("1.2.3.4")?.hasPrefix("the last label '4' is all digits") == true)
        #expect(Self.canonicalReason("1.2.3.4")?.contains("use type ipv4") == true)
        #expect(Self.canonicalReason("http://x.com")?.contains("looks like a URL") == true)
        #expect(Self.canonicalReason("x.com/path")?.contains("use type url") == true)
        #expect(Self.canonicalReason("user@x.com")?.contains("use type email") == true)
        #expect(Self.canonicalReason("x.com:8080")?.contains("port") == true)
        #expect(Self.canonicalReason("2001:db8::1")?.contains("use type ipv6") == true)
        #expect(Self.canonicalReason("*.") == "nothing follows '*.'")
        #expect(Self.canonicalReason("a.*.com")?.contains("wildcard") == true)
        #expect(Self.canonicalReason("**.com")?.contains("wildcard") == true)
        #expect(Self.canonicalReason("-x.com") == "label 1 ('-x') starts with a hyphen")

        // Through the public entry point, which trims whitespace first.
        let result = try Canonicalizer.canonical("  ＷＷＷ．Ｅｘａｍｐｌｅ．ｃｏｍ  ", as: .domain)
        #expect(result.bytes == Array("www.example.com".utf8))
        #expect(throws: IndicatorError.invalid(.domain, reason: "name is 260 bytes; the limit is 253")) {
            _ = try Canonicalizer.canonical(
                [String(repeating: "a", count: 63), String(repeating: "a", count: 63), String(repeating: "a", count: 63),
                 String(repeating: "b", count: 60), "example"].joined(separator: "."), as: .domain)
        }
    }

    @Test("a refused name leaves the writer as it was")
    func writerUntouchedOnError() {
        let buffer = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: 1024)
        defer { buffer.deallocate() }
        for input in ["ok.com.-bad", "ü.com.-bad", "a.xn--zz", "x.com.localhost\u{0}", "1.2.3.4", "localhost"] {
            var writer = ByteWriter(buffer)
            try? writer.append(contentsOf: Array("prefix|".utf8))
            var bytes = Array(input.utf8)
            let threw = bytes.withUnsafeMutableBufferPointer { raw -> Bool in
                do throws(IndicatorError) {
                    _ = try DomainIndicator.canonicalize(UnsafeBufferPointer(raw), into: &writer)
                    return false
                } catch { return true }
            }
            #expect(threw, "\(input)")
            #expect(String(decoding: writer.written, as: UTF8.self) == "prefix|", "\(input)")
        }
    }

    @Test("the ASCII fast path agrees with the general UTS #46 path")
    func fastPathAgreesWithGeneralPath() {
        var generator = IDNATestSupport.Generator(seed: 46)
        let pieces = ["a", "B", "z", "0", "9", "-", ".", "_", "xn--", "XN--", "--", "..", " ", "ab", "q"]
        var agreed = 0
        for round in 0..<4000 {
            let count = round % 10 == 0 ? Int(generator.next() % 200) + 50 : Int(generator.next() % 12) + 1
            var text = ""
            for _ in 0..<count { text += pieces[Int(generator.next() % UInt64(pieces.count))] }
            if round % 7 == 0 { text += "." }
            let fast = T.toASCII(text)
            var bytes = Array(text.utf8)
            let general: Result<String, IndicatorError> = bytes.withUnsafeMutableBufferPointer { raw in
                let buffer = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: 8192)
                defer { buffer.deallocate() }
                var writer = ByteWriter(buffer)
                do throws(IndicatorError) {
                    try IDNA.toASCII(UnsafeBufferPointer(raw), into: &writer)
                    return .success(String(decoding: writer.written, as: UTF8.self))
                } catch { return .failure(error) }
            }
            switch (fast, general) {
            case (.success(let a), .success(let b)): #expect(a == b, "\(text)")
            case (.failure(let a), .failure(let b)): #expect(a == b, "\(text)")
            default: Issue.record("paths disagree on '\(text)': \(fast) vs \(general)")
            }
            agreed += 1
        }
        #expect(agreed == 4000)
    }
}
