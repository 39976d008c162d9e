import Foundation
import Testing
@testable import IndicatorKit

@Suite("IPIndicator")
struct IPIndicatorTests {
    typealias S = TypeTestSupport

    /// Decodes the Python `repr()` string literals of ipv4_edge_vectors.tsv ('…' with \xNN).
    static func pythonLiteral(_ literal: String) -> String {
        var body = Substring(literal)
        if body.hasPrefix("'"), body.hasSuffix("'"), body.count >= 2 { body = body.dropFirst().dropLast() }
        var scalars = String.UnicodeScalarView()
        var i = body.startIndex
        while i < body.endIndex {
            if body[i] == "\\", let x = body.index(i, offsetBy: 1, limitedBy: body.endIndex), x < body.endIndex,
               body[x] == "x", let end = body.index(x, offsetBy: 3, limitedBy: body.endIndex),
               let code = UInt32(body[body.index(after: x)..<end], radix: 16) {
                scalars.append(Unicode.Scalar(code)!)
                i = end
            } else {
                scalars.append(contentsOf: body[i].unicodeScalars)
                i = body.index(after: i)
            }
        }
        return String(scalars)
    }

    @Test("ipv4_edge_vectors.tsv: the strict column, with the hub's documented deviations")
    func ipv4Vectors() throws {
        let rows = try S.tsvRows("ipv4_edge_vectors.tsv")
        #expect(rows.count == 18)
        // Where the hub deliberately differs from CPython's strict parser (column 4 says why):
        let overrides: [String: String?] = [
            " 1.2.3.4 ": "1.2.3.4",  // Canonicalizer trims surrounding whitespace first
            "1.2.3.4/32": "1.2.3.4",  // a /32 is the plain address
            "10.0.0.1/8": nil,  // host bits set: refused (reason tested below)
        ]
        for row in rows {
            let input = Self.pythonLiteral(row[0])
            let expected: String? = overrides[input] ?? (row[1] == "ValueError" ? nil : row[1])
            let got = S.accepted(input, as: .ipv4)
            #expect(got == expected, "input \(row[0])")
            if expected == nil {
                #expect(S.refusedAs(input, as: .ipv4) == .ipv4, "input \(row[0]) refused as ipv4")
            } else {
                #expect(S.accepted(input, as: nil) == expected, "auto-detected \(row[0])")
            }
        }
    }

    @Test("ipv6_rfc5952_vectors.tsv: the RFC 5952 column, IPv4-mapped folded to IPv4")
    func ipv6Vectors() throws {
        let rows = try S.tsvRows("ipv6_rfc5952_vectors.tsv")
        #expect(rows.count == 27)
        for row in rows {
            let input = row[0]
            var expected: String? = row[1] == "REJECT" ? nil : row[1]
            if let text = expected, text.hasPrefix("::ffff:") { expected = String(text.dropFirst(7)) }
            if input == "2001:db8::1/64" {  // host bits set: refused, naming the network
                expected = nil
                #expect(S.reason(input, as: .ipv6) == "host bits set: 2001:db8::1/64 — did you mean 2001:db8::/64?")
            }
            #expect(S.accepted(input, as: .ipv6) == expected, "input \(input)")
            if let expected {
                #expect(S.accepted(input, as: nil) == expected, "auto-detected \(input)")
            }
        }
    }

    @Test("IPv4 refusals carry precise reasons", arguments: [
        ("192.168.000.001", "leading zero in octet 3 ('000') is ambiguous (octal?)"),
        ("010.8.8.8", "leading zero in octet 1 ('010') is ambiguous (octal?)"),
        ("0177.0.0.1", "leading zero in octet 1 ('0177') is ambiguous (octal?)"),
        ("0x7f.0.0.1", "hex octet 1 ('0x7f') is not allowed; write decimal"),
        ("1.0xC3.0.1", "hex octet 2 ('0xC3') is not allowed; write decimal"),
        ("127.1", "only 2 octets: short forms like '127.1' are read differently by different parsers; write all four"),
        ("1.2.3", "only 3 octets: short forms like '127.1' are read differently by different parsers; write all four"),
        ("3279880203", "a bare number is not an IPv4 address (32-bit integer forms like '3279880203' are read differently by different parsers); write four dotted octets"),
        ("1.2.3.4.", "trailing dot after the fourth octet"),
        ("1.2.3.", "trailing dot"),
        ("1.2.3.4.5", "more than 4 octets"),
        ("1..3.4", "empty octet ('..') at position 3"),
        (".1.2.3", "starts with a '.'"),
        ("256.1.1.1", "octet 1 ('256') is greater than 255"),
        ("1.2.3.1000", "octet 4 ('1000') is greater than 255"),
        ("1.2.3.4\u{0}", "NUL byte at position 8: only digits and '.' are allowed"),
        ("1.2.3[.]4", "defanged '[.]' at position 6: refang the value first"),
        ("１.２.３.４", "fullwidth digit '１' (U+FF11) at position 1: only ASCII digits are allowed"),
        ("1．2.3.4", "fullwidth full stop '．' (U+FF0E) at position 2: only ASCII '.' separates octets"),
        ("1.2.3.4:80", "':' at position 8: a port is not part of an IPv4 indicator"),
        ("::ffff:1.2.3.4", "':' at position 1: this is IPv6 text, not IPv4 (use type ipv6)"),
        ("1.2.3.a", "'a' at position 7: only digits and '.' are allowed"),
        ("10.1.2.3/8", "host bits set: 10.1.2.3/8 — did you mean 10.0.0.0/8?"),
        ("10.0.0.0/33", "prefix length 33 is out of range 0–32"),
        ("10.0.0.0/08", "prefix length '08' has a leading zero"),
        ("10.0.0.0/", "missing prefix length after '/'"),
        ("10.0.0.0/8/8", "prefix length must be decimal digits, found '/' at position 11"),
        ("/8", "no address before the '/'"),
    ])
    func ipv4Reasons(input: String, reason: String) {
        #expect(S.reason(input, as: .ipv4) == reason)
        #expect(S.refusedAs(input, as: .ipv4) == .ipv4)
    }

    @Test("IPv4 addresses and networks", arguments: [
        ("0.0.0.0", "0.0.0.0"), ("255.255.255.255", "255.255.255.255"), ("8.8.8.8", "8.8.8.8"),
        ("10.0.0.0/8", "10.0.0.0/8"), ("0.0.0.0/0", "0.0.0.0/0"), ("192.168.1.128/25", "192.168.1.128/25"),
        ("1.2.3.4/32", "1.2.3.4"), ("100.64.0.0/10", "100.64.0.0/10"),
    ])
    func ipv4Accepted(input: String, canonical: String) {
        #expect(S.accepted(input, as: .ipv4) == canonical)
    }

    @Test("IPv4 canonical bytes: 4 network-order bytes, plus the prefix length for a network")
    func ipv4Bytes() throws {
        let address = try Canonicalizer.canonical("192.0.2.1", as: .ipv4)
        #expect(address.bytes == [192, 0, 2, 1])
        #expect(address.form == CanonicalForm(type: .ipv4, prefixLength: 32))
        #expect(!address.form.isNetwork)
        let network = try Canonicalizer.canonical("10.0.0.0/8", as: .ipv4)
        #expect(network.bytes == [10, 0, 0, 0, 8])
        #expect(network.form == CanonicalForm(type: .ipv4, prefixLength: 8))
        #expect(network.form.isNetwork)
        let all = try Canonicalizer.canonical("0.0.0.0/0", as: .ipv4)
        #expect(all.bytes == [0, 0, 0, 0, 0])
    }

    @Test("IPv6 refusals carry precise reasons", arguments: [
        ("fe80::1%eth0", "zone id '%eth0' only means something on one host; drop it"),
        ("2001:db8:::1", "':::' is not valid"),
        (":::1", "':::' is not valid"),
        ("1::2::3", "more than one '::'"),
        ("1:2:3:4:5:6:7:8:9", "more than 8 groups"),
        ("1:2:3:4:5:6:7", "only 7 groups and no '::' (an IPv6 address has 8)"),
        ("1:2:3:4::5:6:7:8", "'::' must stand for at least one zero group, but all 8 are written"),
        ("2001:db8::g", "'g' at position 11: only hex digits, ':' and an IPv4 tail are allowed"),
        ("02001:db8::1", "group 1 ('02001') has more than 4 hex digits"),
        (":1::2", "starts with a single ':' (leading zero groups are written '::')"),
        ("1::2:", "ends with a single ':' (trailing zero groups are written '::')"),
        ("::ffff:192.0.2.01", "in the embedded IPv4 part: leading zero in octet 4 ('01') is ambiguous (octal?)"),
        ("::ffff:192.0.2", "in the embedded IPv4 part: only 3 octets: short forms like '127.1' are read differently by different parsers; write all four"),
        ("1:2:3:4:5:6:7:1.2.3.4", "an embedded IPv4 part must be the last 32 bits (at most 6 groups before it)"),
        ("1.2.3.4", "this is IPv4 text, not IPv6 (use type ipv4)"),
        ("abcd", "no ':' between groups: this is not IPv6 text"),
        ("[2001:db8::1", "'[' without a closing ']'"),
        ("[2001:db8::1]x", "unexpected text after ']' (only '/len' may follow)"),
        ("[2001:db8::/32]", "the prefix length goes after the ']' ([addr]/len)"),
        ("2001:db8::1/64", "host bits set: 2001:db8::1/64 — did you mean 2001:db8::/64?"),
        ("2001:db8::/129", "prefix length 129 is out of range 0–128"),
        ("2001:db8::/032", "prefix length '032' has a leading zero"),
        ("::ffff:10.1.2.3/104", "host bits set: 10.1.2.3/8 — did you mean 10.0.0.0/8?"),
        ("2001:db8::1 ", "accepted"),
    ])
    func ipv6Reasons(input: String, reason: String) {
        if reason == "accepted" {  // trailing whitespace is trimmed by the Canonicalizer
            #expect(S.accepted(input, as: .ipv6) == "2001:db8::1")
            return
        }
        #expect(S.reason(input, as: .ipv6) == reason)
        #expect(S.refusedAs(input, as: .ipv6) == .ipv6)
    }

    @Test("IPv6 addresses and networks in RFC 5952 form", arguments: [
        ("::", "::"), ("::1", "::1"), ("1::", "1::"), ("2001:db8::", "2001:db8::"),
        ("FE80:0:0:0:0:0:0:1", "fe80::1"), ("2001:db8:0:0:1:0:0:0", "2001:db8:0:0:1::"),
        ("0:0:1:0:0:0:0:0", "0:0:1::"), ("1:0:0:2:0:0:0:3", "1:0:0:2::3"),
        ("2001:db8::/32", "2001:db8::/32"), ("::/0", "::/0"), ("[2001:db8::]/48", "2001:db8::/48"),
        ("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"),
        ("::1.2.3.4", "::102:304"), ("64:ff9b::192.0.2.33", "64:ff9b::c000:221"),
        ("::ffff:0:0/96", "0.0.0.0/0"), ("::ffff:10.0.0.0/104", "10.0.0.0/8"),
        ("::ffff:1.2.3.4/128", "1.2.3.4"), ("::ffff:7f00:1", "127.0.0.1"),
        ("::fffe:0:0/95", "::fffe:0:0/95"), ("::ffff:0:0/80", "<refused>"),
    ])
    func ipv6Accepted(input: String, canonical: String) {
        #expect((S.accepted(input, as: .ipv6) ?? "<refused>") == canonical)
    }

    @Test("IPv6 canonical bytes: 16 network-order bytes, plus the prefix length for a network")
    func ipv6Bytes() throws {
        let address = try Canonicalizer.canonical("2001:db8::1", as: .ipv6)
        #expect(address.bytes == [0x20, 0x01, 0x0d, 0xb8] + [UInt8](repeating: 0, count: 11) + [1])
        #expect(address.form == CanonicalForm(type: .ipv6, prefixLength: 128))
        let network = try Canonicalizer.canonical("2001:db8::/32", as: .ipv6)
        #expect(network.bytes == [0x20, 0x01, 0x0d, 0xb8] + [UInt8](repeating: 0, count: 12) + [32])
        #expect(network.form.isNetwork)
        let mapped = try Canonicalizer.canonical("::ffff:192.0.2.1", as: .ipv6)
        #expect(mapped.bytes == [192, 0, 2, 1])
        #expect(mapped.form == CanonicalForm(type: .ipv4, prefixLength: 32))
        // The two spellings of one address share a canonical form, hence a digest.
        #expect(try Canonicalizer.canonical("192.0.2.1", as: .ipv4).bytes == mapped.bytes)
    }

    @Test("display never trusts malformed bytes")
    func displayMalformed() {
        #expect(IPIndicator.display(CanonicalForm(type: .ipv4), bytes: [1, 2, 3]) == "<not an IP form: 010203>")
        #expect(IPIndicator.display(CanonicalForm(type: .ipv4), bytes: [1, 2, 3, 4, 33]).hasPrefix("<not"))
        #expect(IPIndicator.display(CanonicalForm(type: .ipv6), bytes: [UInt8](repeating: 0, count: 17))
            == "::/0")
        #expect(IPIndicator.display(CanonicalForm(type: .ipv6), bytes: [UInt8](repeating: 0, count: 16) + [200])
            .hasPrefix("<not"))
    }

    @Test("every IPv4 prefix length: the network address is accepted, one host bit more is refused")
    func everyPrefixLength() {
        for length in 0...32 {
            let accepted = S.accepted("128.0.0.0/\(length)", as: .ipv4)
            #expect(accepted == (length == 0 ? nil : length == 32 ? "128.0.0.0" : "128.0.0.0/\(length)"))
            if length < 32 {
                #expect(S.reason("255.255.255.255/\(length)", as: .ipv4)?.hasPrefix("host bits set") == true)
            }
        }
        for length in 0...128 {
            let text = length == 0 ? "::/0" : "8000::/\(length)"
            #expect(S.accepted(text, as: .ipv6) == (length == 128 ? "8000::" : text))
        }
    }
}
