import Testing
@testable import IndicatorKit

@Suite("TypeDetector")
struct TypeDetectorTests {
    static func detect(_ value: String) -> IndicatorType? {
        let bytes = Array(value.utf8)
        return bytes.withUnsafeBufferPointer { TypeDetector.detect($0) }
    }

    @Test("values are detected as the documented type", arguments: [
        // 1. ipv4 — including values the ipv4 canonicaliser then refuses with its reason
        ("1.2.3.4", IndicatorType.ipv4), ("999.1.1.1", .ipv4), ("10.0.0.0/8", .ipv4), ("1.2.3", .ipv4),
        ("127.1", .ipv4), ("0x7f.0.0.1", .ipv4), ("0xC3.0x7F.0.11", .ipv4), ("1.2.3.4.", .ipv4),
        ("1.2.3[.]4", .ipv4), ("１.２.３.４", .ipv4), ("1.2.3.4:80", .ipv4), ("010.8.8.8", .ipv4),
        // 2. ipv6
        ("::1", .ipv6), ("::", .ipv6), ("2001:db8::1", .ipv6), ("[2001:db8::1]", .ipv6),
        ("fe80::1%eth0", .ipv6), ("2001:db8::g", .ipv6), ("::ffff:1.2.3.4", .ipv6),
        ("2001:db8::/32", .ipv6), ("1:2:3:4:5:6:7:8:9", .ipv6), ("02001:db8::1", .ipv6),
        // 3. url
        ("http://example.com/", .url), ("hxxp://evil.example/x", .url), ("HTTPS://EXAMPLE.COM", .url),
        ("www.example.com/login", .url), ("http://[::1]:8080/", .url), ("svn+ssh://host/repo", .url),
        // 4. email
        ("user@example.com", .email), ("\"a:b\"@example.com", .email), ("First.Last@Bücher.example", .email),
        // 5. hashes
        ("d41d8cd98f00b204e9800998ecf8427e", .md5), ("DA39A3EE5E6B4B0D3255BFEF95601890AFD80709", .sha1),
        (String(repeating: "ab", count: 32), .sha256), (String(repeating: "0", count: 128), .sha512),
        // 6. wallet
        ("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed", .wallet), ("0x5aaeb6053f3e94c9b9a09f33669435e7ef1beae", .wallet),
        ("1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa", .wallet), ("3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy", .wallet),
        ("bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4", .wallet), ("BC1SW50QGDZ25J", .wallet),
        ("tb1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3q0sl5k7", .wallet),
        // 7. iban
        ("DE89 3704 0044 0532 0130 00", .iban), ("de89370400440532013000", .iban),
        ("IBAN DE89 3704 0044 0532 0130 00", .iban), ("GB29NWBK60161331926819", .iban), ("NO9386011117947", .iban),
        ("XX00123412341234", .iban),
        // 8. phone
        ("+49 30 123456", .phone), ("0049 30 123456", .phone), ("+1 (555) 010-9999", .phone), ("+1", .phone),
        // 9. handle
        ("telegram:scam_support", .handle), ("X:@someone", .handle), ("matrix:@alice:example.org", .handle),
        ("telegram:@john.doe", .handle), ("icq:123456", .handle), ("Instagram:@Some.One", .handle),
        // 10. domain
        ("example.com", .domain), ("*.example.com", .domain), ("xn--bcher-kva.example", .domain),
        ("bücher.example", .domain), ("例え。jp", .domain), ("EXAMPLE.COM.", .domain),
        ("_dmarc.example.com", .domain), ("www.example.com", .domain), ("1e100.net", .domain),
        ("123.example.com", .domain), ("deadbeef.cafe", .domain),
    ])
    func detected(value: String, type: IndicatorType) {
        #expect(Self.detect(value) == type, "\(value)")
    }

    @Test("values that are nothing recognisable are not guessed", arguments: [
        "hello", "3279880203", "not an indicator", "a b.com", "mailto:a@b.example", "tel:+4930123456",
        "example.com:8080", "javascript:alert(1)", "@someone", "DE89", "-", "://", "0x", "1::2 3",
    ])
    func notDetected(value: String) {
        #expect(Self.detect(value) == nil, "\(value)")
        if Self.detect(value) == nil {
            #expect(TypeTestSupport.reason(value, as: nil) == IndicatorError.unrecognised.description)
        }
    }

    @Test("detection leads to the type's own refusal reason")
    func refusalComesFromTheType() {
        #expect(TypeTestSupport.reason("999.1.1.1", as: nil) == "octet 1 ('999') is greater than 255")
        #expect(TypeTestSupport.refusedAs("999.1.1.1", as: nil) == .ipv4)
        #expect(TypeTestSupport.refusedAs("fe80::1%eth0", as: nil) == .ipv6)
        #expect(TypeTestSupport.refusedAs("XX00123412341234", as: nil) == .iban)
        #expect(TypeTestSupport.refusedAs("+1", as: nil) == .phone)
        #expect(TypeTestSupport.refusedAs("0x5aaeb6053f3e94c9b9a09f33669435e7ef1beae", as: nil) == .wallet)
        #expect(TypeTestSupport.refusedAs("::ffff:192.0.2.01", as: nil) == .ipv6)
    }
}
