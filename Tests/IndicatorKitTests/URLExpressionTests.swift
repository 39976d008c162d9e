import Testing
@testable import IndicatorKit

/// Safe Browsing suffix/prefix expressions: what a URL digest covers and what a query probes.
@Suite struct URLExpressionTests {
    typealias Support = URLTestSupport

    /// The examples of the v4 document's "Suffix/Prefix Expressions" section, in its order.
    @Test func documentExamples() throws {
        #expect(try Support.expressions("http://a.b.c/1/2.html?param=1") == [
            "a.b.c/1/2.html?param=1", "a.b.c/1/2.html", "a.b.c/", "a.b.c/1/",
            "b.c/1/2.html?param=1", "b.c/1/2.html", "b.c/", "b.c/1/",
        ])
        #expect(try Support.expressions("http://a.b.c.d.e.f.g/1.html") == [
            "a.b.c.d.e.f.g/1.html", "a.b.c.d.e.f.g/",
            "c.d.e.f.g/1.html", "c.d.e.f.g/",
            "d.e.f.g/1.html", "d.e.f.g/",
            "e.f.g/1.html", "e.f.g/",
            "f.g/1.html", "f.g/",
        ])
        #expect(try Support.expressions("http://1.2.3.4/1/") == ["1.2.3.4/1/", "1.2.3.4/"])
    }

    @Test func atMostFiveHostsAndSixPaths() throws {
        let all = try Support.expressions("http://a.b.c.d.e.f.g/1/2/3/4/5/6.html?x=1")
        #expect(all.count == 30)
        #expect(Set(all).count == 30)
        #expect(all.first == "a.b.c.d.e.f.g/1/2/3/4/5/6.html?x=1")
        #expect(Array(all.prefix(6)) == [
            "a.b.c.d.e.f.g/1/2/3/4/5/6.html?x=1", "a.b.c.d.e.f.g/1/2/3/4/5/6.html",
            "a.b.c.d.e.f.g/", "a.b.c.d.e.f.g/1/", "a.b.c.d.e.f.g/1/2/", "a.b.c.d.e.f.g/1/2/3/",
        ])
        #expect(Set(all.map { $0.prefix { $0 != "/" } }) == ["a.b.c.d.e.f.g", "c.d.e.f.g", "d.e.f.g", "e.f.g", "f.g"])
    }

    @Test func duplicatesAreDropped() throws {
        // The exact path equals a prefix; no query; an empty query is still a query.
        #expect(try Support.expressions("http://h.example/1/2/") == [
            "h.example/1/2/", "h.example/", "h.example/1/",
        ])
        #expect(try Support.expressions("http://h.example") == ["h.example/"])
        #expect(try Support.expressions("http://h.example/q?") == ["h.example/q?", "h.example/q", "h.example/"])
        // Five components: the exact host is not repeated as its own five-component suffix.
        #expect(try Support.expressions("http://a.b.c.d.e/") == [
            "a.b.c.d.e/", "b.c.d.e/", "c.d.e/", "d.e/",
        ])
        // A single-label host has no suffixes.
        #expect(try Support.expressions("http://localhost/x") == ["localhost/x", "localhost/"])
    }

    @Test func ipHostsGetNoSuffixes() throws {
        #expect(try Support.expressions("http://[2001:db8::1]/a/b") == [
            "[2001:db8::1]/a/b", "[2001:db8::1]/", "[2001:db8::1]/a/",
        ])
        #expect(try Support.expressions("http://0x01020304/a") == ["1.2.3.4/a", "1.2.3.4/"])
        // A name with digit labels is not an address and gets its suffixes.
        #expect(try Support.expressions("http://1.2.3.example/") == ["1.2.3.example/", "2.3.example/", "3.example/"])
    }

    @Test func expressionBodyIsASliceWithoutScheme() throws {
        let canonical = Array(try Support.url("HTTPS://evil.example:443/a?x=1#f").get().utf8)
        canonical.withUnsafeBufferPointer { buffer in
            let body = URLIndicator.expressionBody(buffer)
            #expect(String(decoding: body, as: UTF8.self) == "evil.example/a?x=1")
            #expect(body.baseAddress == buffer.baseAddress! + "https://".utf8.count)
            var first: UnsafeBufferPointer<UInt8>? = nil
            URLIndicator.forEachLookupExpression(buffer) { if first == nil { first = $0 } }
            #expect(first?.baseAddress == body.baseAddress && first?.count == body.count)
        }
        let form = CanonicalForm(type: .url)
        canonical.withUnsafeBufferPointer { buffer in
            #expect(DigestBody.body(of: form, canonical: buffer).count == "evil.example/a?x=1".utf8.count)
        }
    }

    /// End to end with the keyed digest: a listed URL's digest is among the digests a matching
    /// query probes, and not among those of a URL it must not match.
    @Test(arguments: [
        ("http://evil.example/", "https://login.evil.example/account/verify?id=7", true),
        ("http://evil.example/", "http://evil.example.org/", false),
        ("http://1.2.3.4/bins/x.arm", "http://1.2.3.4/bins/x.arm?y=1", true),
        ("http://1.2.3.4/bins/x.arm", "http://0x01020304/bins/./x.arm#top", true),
        ("http://1.2.3.4/bins/x.arm", "http://1.2.3.4/bins/x.arm7", false),
        ("http://1.2.3.4/bins/", "http://1.2.3.4/bins/x.mips", true),
        ("http://1.2.3.4/", "http://1.2.3.5/", false),
        ("http://4.example/", "http://1.2.3.4.example/", true),
        ("ftp://evil.example/kit.zip", "http://evil.example/kit.zip", true),
        ("http://shop.example/pay?id=1", "http://shop.example/pay?id=2", false),
        ("http://shop.example/pay", "http://shop.example/pay?id=2", true),
    ])
    func digestMatching(entry: String, query: String, matches: Bool) throws {
        let key = DigestKey.generate()
        let entryCanonical = Array(try Support.url(entry).get().utf8)
        let entryDigest = entryCanonical.withUnsafeBufferPointer {
            key.digest(CanonicalForm(type: .url), canonical: $0)
        }
        let queryCanonical = Array(try Support.url(query).get().utf8)
        var probes: [IndicatorDigest] = []
        queryCanonical.withUnsafeBufferPointer { buffer in
            URLIndicator.forEachLookupExpression(buffer) { probes.append(key.digest(.url, body: $0)) }
        }
        #expect(probes.contains(entryDigest) == matches)
    }

    /// The expressions of hostile but accepted URLs stay within bounds and are all distinct.
    @Test func hostileExpressions() throws {
        for line in try Support.rawLines("blns.txt") {
            let input = Array("http://".utf8) + line
            guard case .success(let canonical) = Support.canonical(input, as: .url) else { continue }
            let bytes = Array(canonical.utf8)
            var seen: [String] = []
            bytes.withUnsafeBufferPointer { buffer in
                URLIndicator.forEachLookupExpression(buffer) { seen.append(String(decoding: $0, as: UTF8.self)) }
            }
            #expect(seen.count >= 1 && seen.count <= 30)
            #expect(Set(seen).count == seen.count, "\(canonical)")
            #expect(seen.first.map { canonical.hasSuffix($0) } == true)
        }
    }
}
