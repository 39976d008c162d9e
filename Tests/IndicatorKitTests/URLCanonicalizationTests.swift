import Foundation
import Testing
@testable import IndicatorKit

/// Safe Browsing URL canonicalisation: the published vectors, browser IPv4-host vectors,
/// refusals with their exact reasons, and hostile input.
@Suite struct URLCanonicalizationTests {
    typealias Support = URLTestSupport

    /// Lines of the vectors file where we deliberately differ from Google's Go client, keyed by
    /// input, with what we produce instead. Each is a documented decision of `URLIndicator`.
    static let goClientDivergences: [String: (ours: String?, why: String)] = [
        // The Go client drops the query string; the v4 document (and we) keep it.
        "http://www.google.com/q?": ("http://www.google.com/q?", "query kept"),
        "http://www.google.com/q?r?": ("http://www.google.com/q?r?", "query kept"),
        "http://www.google.com/q?r?s": ("http://www.google.com/q?r?s", "query kept"),
        "http://evil.com/foo?bar;": ("http://evil.com/foo?bar;", "query kept"),
        "http://www.google.com/q?r?s%3F": ("http://www.google.com/q?r?s?", "query kept"),
        // The Go client escapes with lower-case hex; the v4 document asks for upper case.
        "http://some%1bhost.com/%1b": ("http://some%1Bhost.com/%1B", "upper-case hex"),
        // IPv6 hosts are normalised as the newer Safe Browsing reference asks (Go only lower-cases).
        "http://[::192.9.5.5]/ipng": ("[::c009:505]", "IPv6 normalised"),
        // Go's host-as-IP parser wraps parts modulo 256 and ignores text after a space (a
        // Windows resolver quirk); browsers (and we) do neither.
        "276.2.3": (nil, "refused: part above 255"),
        "10.192.95.89 xy": (nil, "a name, not an address"),
    ]

    @Test func safeBrowsingVectors() throws {
        var checked = 0
        var divergent = 0
        var queryKept = 0  // Go-client lines that drop the query string, which we keep
        var needIDNA = 0
        for line in try Support.rawLines("safebrowsing_canonicalization_vectors.jsonl") where !line.isEmpty {
            let object = try #require(try JSONSerialization.jsonObject(with: Data(line)) as? [String: Any])
            let source = try #require(object["source"] as? String)
            if let host = object["input_host"] as? String {
                // TestParseIPAddress: host-as-IPv4 parsing alone.
                let expected = object["expected_ipv4"] as? String
                var ours: String? = nil
                let bytes = Array(host.utf8)
                let parsed = bytes.withUnsafeBufferPointer { try? URLIndicator.parseIPv4Host($0) }
                if let address = parsed ?? nil {
                    ours = "\(address >> 24).\(address >> 16 & 255).\(address >> 8 & 255).\(address & 255)"
                }
                if let divergence = Self.goClientDivergences[host] {
                    #expect(ours == divergence.ours, "\(host)")
                    #expect(ours != expected, "\(host) is listed as divergent but agrees")
                    divergent += 1
                } else {
                    #expect(ours == expected, "\(host)")
                }
                checked += 1
                continue
            }
            let input: [UInt8]
            if let hex = object["input_bytes_hex"] as? String {
                input = stride(from: 0, to: hex.count, by: 2).map {
                    let start = hex.index(hex.startIndex, offsetBy: $0)
                    return UInt8(hex[start..<hex.index(start, offsetBy: 2)], radix: 16)!
                }
            } else {
                input = Array(try #require(object["input"] as? String).utf8)
            }
            let key = String(decoding: input, as: UTF8.self)
            if input.contains(where: { $0 >= 0x80 }), String(validating: input, as: UTF8.self) != nil,
                !Support.idnaAvailable
            {
                needIDNA += 1
                continue
            }
            let result = Support.canonical(input, as: .url)
            var ours = try? result.get()
            var expected = object["expected"] as? String
            if let expectedHost = object["expected_host"] as? String {
                // TestCanonicalHost: compare only the host.
                expected = (object["fail"] as? Bool == true) ? nil : expectedHost
                ours = ours.map(Self.host(of:))
            }
            if object["fail"] as? Bool == true {
                #expect(ours == nil, "\(key) should be refused (\(source))")
            } else if source.contains("urls_test.go"), let divergence = Self.goClientDivergences[key] {
                #expect(ours == divergence.ours, "\(key): \(divergence.why)")
                #expect(ours != expected, "\(key) is listed as divergent but agrees")
                divergent += 1
                if divergence.why == "query kept" { queryKept += 1 }
            } else {
                #expect(ours == expected, "\(key) (\(source))")
            }
            checked += 1
        }
        #expect(checked + needIDNA == 97)
        #expect(divergent == Self.goClientDivergences.count, "every documented divergence is exercised")
        #expect(queryKept == 5)
        #expect(needIDNA == (Support.idnaAvailable ? 0 : 1))
    }

    /// The host of a canonical URL (between `://` and the path).
    static func host(of canonical: String) -> String {
        let afterScheme = canonical.range(of: "://").map { canonical[$0.upperBound...] } ?? Substring(canonical)
        return String(afterScheme.prefix { $0 != "/" })
    }

    /// Cases of the v4 document that the vectors file does not carry.
    @Test(arguments: [
        ("http://host%23.com/%257Ea%2521b%2540c%2523d%2524e%25f%255E00%252611%252A22%252833%252944_55%252B",
         "http://host%23.com/~a!b@c%23d$e%25f^00&11*22(33)44_55+"),
        ("www.google.com/", "http://www.google.com/"),
        ("www.google.com", "http://www.google.com/"),
        ("http://www.google.com/blah/..", "http://www.google.com/"),
        ("http://host.com//twoslashes?more//slashes", "http://host.com/twoslashes?more//slashes"),
    ])
    func v4DocumentCases(input: String, expected: String) {
        #expect(Support.urlOrNil(input) == expected)
    }

    /// Our own decisions, each a line of `URLIndicator`'s documentation.
    @Test(arguments: [
        ("HTTPS://User:Pass@Evil.Example:8443/A/./b/../C?Q=1#frag", "https://evil.example/A/C?Q=1"),
        ("ftp://files.example/bins/x.arm", "ftp://files.example/bins/x.arm"),
        ("evil.example:8080/x", "http://evil.example/x"),
        ("//evil.example/x", "http://evil.example/x"),
        ("http://evil.example\\a\\b", "http://evil.example/a/b"),
        ("http://evil.example/a/%2e%2E/b", "http://evil.example/b"),
        ("http://evil.example/../../a", "http://evil.example/a"),
        ("http://evil.example/a/.", "http://evil.example/a/"),
        ("http://evil.example/a?b/../c#d", "http://evil.example/a?b/../c"),
        ("http://evil.example/%zz%4", "http://evil.example/%25zz%254"),
        ("http://evil.example/%00%0a", "http://evil.example/%00%0A"),
        ("http://evil.example/é", "http://evil.example/%C3%A9"),
        ("http://evil.example%2Fpath", "http://evil.example/path"),
        ("http://evil.example:/", "http://evil.example/"),
        ("http://0x7f.1/", "http://127.0.0.1/"),
        ("http://0x1.0xg/", "http://0x1.0xg/"),
        ("http://1.2.3.00x0/", "http://1.2.3.00x0/"),
        ("http://017700000001/", "http://127.0.0.1/"),
        ("http://1.2.3.4.:80/", "http://1.2.3.4/"),
        ("http://[2001:0db8:0000::1]/", "http://[2001:db8::1]/"),
        ("http://[::ffff:1.2.3.4]/x", "http://1.2.3.4/x"),
        ("http://[64:ff9b::1.2.3.4]/", "http://1.2.3.4/"),
        ("http://[::]/", "http://[::]/"),
        ("http://[1:0:0:2:0:0:3:4]/", "http://[1::2:0:0:3:4]/"),
        ("http://[1:0:0:2:0:0:0:3]:8080/", "http://[1:0:0:2::3]/"),
        ("http://[1:2:3:4:5:6:7::]/", "http://[1:2:3:4:5:6:7:0]/"),
    ])
    func documentedDecisions(input: String, expected: String) {
        #expect(Support.urlOrNil(input) == expected)
    }

    @Test(arguments: [
        ("javascript:alert(1)", "unsupported scheme 'javascript' (only http, https and ftp URLs are accepted)"),
        ("data:text/html,<script>", "unsupported scheme 'data' (only http, https and ftp URLs are accepted)"),
        ("http://", "missing host after 'http://'"),
        ("http:///x", "missing host after 'http://'"),
        ("https://user@:443/", "missing host after 'https://'"),
        ("http://.../x", "missing host after 'http://'"),
        ("http:evil.example", "'//' expected after 'http:'"),
        ("http://evil.example:http/", "port 'http' is not a decimal number"),
        ("http://evil.example:65536/", "port 65536 is above 65535"),
        ("http://evil.example/\u{0}x", "contains a NUL byte at offset 20 (write %00 if it is meant)"),
        ("#frag", "nothing before the fragment ('#')"),
        ("http://2001:db8::1/", "':' in host (an IPv6 address must be written in brackets)"),
        ("http://[::1/", "IPv6 host has no closing ']'"),
        ("http://[::1]x/", "unexpected characters after the IPv6 host's ']'"),
        ("http://[1::2::3]/", "IPv6 host '[1::2::3]': more than one '::'"),
        ("http://[1:2:3:4:5:6:7]/", "IPv6 host '[1:2:3:4:5:6:7]': fewer than 8 groups and no '::'"),
        ("http://[12345::]/", "IPv6 host '[12345::]': a group has more than 4 hex digits"),
        ("http://[::1.2.3]/", "IPv6 host '[::1.2.3]': embedded IPv4 address has 3 parts, not 4"),
        ("http://[fe80::1%25eth0]/", "IPv6 host '[fe80::1%eth0]': unexpected character at offset 8"),
        ("http://256.0.0.1/", "host '256.0.0.1' ends in a number but part 1 (256) is above 255"),
        ("http://1.2.3.4.5/", "host '1.2.3.4.5' ends in a number but has 5 parts (an IPv4 address has at most 4)"),
        ("http://1.2.3.08/", "host '1.2.3.08' ends in a number but part 4 ('08') is not a decimal, octal or hex number"),
        ("http://1.2.65536/", "host '1.2.65536' ends in a number but its last part does not fit in 2 bytes"),
        ("http://4294967296/", "host '4294967296' ends in a number but part 1 ('4294967296') is above 4294967295"),
        ("http://09.2.3.4/", "host '09.2.3.4' ends in a number but part 1 ('09') is not a decimal, octal or hex number"),
        ("http://1.2.3.0x100000000/", "host '1.2.3.0x100000000' ends in a number but part 4 ('0x100000000') is above 4294967295"),
    ])
    func refusals(input: String, reason: String) {
        #expect(Support.urlReason(input) == reason)
    }

    @Test func lengthLimits() throws {
        // Over the input limit.
        let long = "http://evil.example/" + String(repeating: "a", count: Canonicalizer.maxInputBytes)
        #expect(throws: IndicatorError.tooLong(limit: Canonicalizer.maxInputBytes)) { try Support.url(long).get() }
        // The longest input, every byte escaped (tripled), still fits the scratch space.
        let prefix = "http://evil.example/"
        let worst = Array(prefix.utf8) + [UInt8](repeating: 0xFF, count: Canonicalizer.maxInputBytes - prefix.utf8.count)
        let canonical = try Support.canonical(worst, as: .url).get()
        #expect(canonical.utf8.count == prefix.utf8.count + 3 * (worst.count - prefix.utf8.count))
        // A writer that is too small reports tooLong instead of trapping.
        var storage = [UInt8](repeating: 0, count: 12)
        let input = Array("http://evil.example/abc".utf8)
        storage.withUnsafeMutableBufferPointer { buffer in
            var out = ByteWriter(buffer)
            #expect(throws: IndicatorError.tooLong(limit: Canonicalizer.maxInputBytes)) {
                _ = try input.withUnsafeBufferPointer { (raw) throws(IndicatorError) in
                    try URLIndicator.canonicalize(raw, into: &out)
                }
            }
        }
    }

    /// The unescaping pass reaches the same fixed point as repeated whole-string unescaping.
    @Test func unescapeMatchesRepeatedPasses() {
        var generator = SystemRandomNumberGenerator()
        let alphabet = Array("%%%2534567aAfF".utf8)
        for _ in 0..<5000 {
            let length = Int.random(in: 0...12, using: &generator)
            let input = (0..<length).map { _ in alphabet.randomElement(using: &generator)! }
            var expected = input
            while true {
                let next = Self.unescapeOnce(expected)
                if next == expected { break }
                expected = next
            }
            let ours = [UInt8](unsafeUninitializedCapacity: input.count) { buffer, count in
                count = input.withUnsafeBufferPointer { URLIndicator.unescapeRemovingFragment($0, into: buffer).count }
            }
            #expect(ours == expected, "\(String(decoding: input, as: UTF8.self))")
        }
    }

    /// One left-to-right pass of %XY decoding (the naive reference).
    static func unescapeOnce(_ bytes: [UInt8]) -> [UInt8] {
        var result: [UInt8] = []
        var index = 0
        while index < bytes.count {
            if bytes[index] == UInt8(ascii: "%"), index + 2 < bytes.count,
                let high = URLIndicator.hexValue(bytes[index + 1]), let low = URLIndicator.hexValue(bytes[index + 2])
            {
                result.append(high << 4 | low)
                index += 3
            } else {
                result.append(bytes[index])
                index += 1
            }
        }
        return result
    }

    /// IPv4-looking hosts from the WHATWG URL test data: where browsers accept them we produce
    /// the same dotted quad; where they refuse them, so do we — except that we collapse runs of
    /// dots first, as Safe Browsing asks (`0..0x300` is `0.0x300`).
    @Test func wptIPv4Hosts() throws {
        let cases = try #require(try JSONSerialization.jsonObject(with: Support.fixture("wpt_urltestdata.json")) as? [Any])
        var agreed = 0
        var collapsed = 0
        for case let test as [String: Any] in cases {
            guard let input = test["input"] as? String, input.lowercased().hasPrefix("http"),
                let schemeEnd = input.range(of: "://"), input.utf8.allSatisfy({ $0 < 0x80 })
            else { continue }
            let authority = input[schemeEnd.upperBound...].prefix { !"/?#\\".contains($0) }
            let host = (authority.split(separator: ":", omittingEmptySubsequences: false).first.map(String.init) ?? "")
                .removingPercentEncoding?.lowercased() ?? ""
            guard !authority.contains("["), authority.filter({ $0 == ":" }).count <= 1,
                !host.isEmpty, host.allSatisfy({ "0123456789abcdefx.".contains($0) }),
                host.contains(where: \.isNumber)
            else { continue }
            let ours = Support.urlOrNil(input).map(Self.host(of:))
            if test["failure"] as? Bool == true {
                if host.contains("..") {
                    #expect(ours != nil, "\(input): dots collapse before IPv4 parsing")
                    collapsed += 1
                } else {
                    #expect(ours == nil, "\(input) is refused by browsers")
                    agreed += 1
                }
            } else {
                #expect(ours == test["hostname"] as? String, "\(input)")
                agreed += 1
            }
        }
        #expect(agreed == 37)  // 14 accepted by browsers, 23 refused
        #expect(collapsed == 2)
    }

    /// IDN hosts (run once `DomainIndicator.toASCII` does UTS #46).
    @Test(.enabled(if: URLTestSupport.idnaAvailable, "needs the IDNA implementation of DomainIndicator.toASCII"),
          arguments: [
            ("http://www.ümlat.com/", "http://www.xn--mlat-zra.com/"),
            ("https://%e2%98%83/", "https://xn--n3h/"),
            ("http://０Ｘｃ０．０２５０．０１/", "http://192.168.0.1/"),
            ("http://Bücher.example./a", "http://xn--bcher-kva.example/a"),
          ])
    func internationalHosts(input: String, expected: String) {
        #expect(Support.urlOrNil(input) == expected)
    }

    /// Non-UTF-8 hosts are kept as escaped bytes (Safe Browsing's `http://\x01\x80.com/`).
    @Test func invalidUTF8HostIsEscaped() throws {
        let input: [UInt8] = Array("http://a".utf8) + [0xC3, 0x28] + Array(".com/".utf8)
        #expect(try Support.canonical(input, as: .url).get() == "http://a%C3(.com/")
    }

    /// Canonicalising a canonical URL changes nothing, for every vector that is accepted.
    @Test func idempotent() throws {
        var inputs: [[UInt8]] = []
        for line in try Support.rawLines("safebrowsing_canonicalization_vectors.jsonl") where !line.isEmpty {
            let object = try #require(try JSONSerialization.jsonObject(with: Data(line)) as? [String: Any])
            if let input = object["input"] as? String { inputs.append(Array(input.utf8)) }
        }
        inputs += try Support.rawLines("blns.txt")
        var accepted = 0
        for input in inputs {
            guard let once = try? Support.canonical(input, as: .url).get() else { continue }
            #expect(Support.urlOrNil(once) == once, "\(once)")
            accepted += 1
        }
        #expect(accepted > 300)
    }

    /// Hostile lines never crash; whatever is accepted is printable ASCII with a scheme.
    @Test(arguments: ["blns.txt", "UTF-8-test.txt"])
    func hostileLines(file: String) throws {
        var accepted = 0
        for line in try Support.rawLines(file) {
            for candidate in [line, Array("http://".utf8) + line, Array("http://h.example/".utf8) + line] {
                guard case .success(let canonical) = Support.canonical(candidate, as: .url) else { continue }
                accepted += 1
                #expect(canonical.utf8.allSatisfy { $0 > 0x20 && $0 < 0x7F }, "\(canonical)")
                #expect(["http://", "https://", "ftp://"].contains { canonical.hasPrefix($0) })
            }
        }
        #expect(accepted > 0)
    }
}
