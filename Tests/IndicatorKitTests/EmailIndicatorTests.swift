import Testing
@testable import IndicatorKit

/// E-mail address canonicalisation.
@Suite struct EmailIndicatorTests {
    typealias Support = URLTestSupport

    @Test(arguments: [
        ("John.Doe@Example.COM", "John.Doe@example.com"),
        ("  mule+tag@bank-drop.example  ", "mule+tag@bank-drop.example"),
        ("mailto:John@Example.com", "John@example.com"),
        ("MAILTO:a@b.example?subject=hi&body=x", "a@b.example"),
        ("a@b.example.", "a@b.example"),
        ("!#$%&'*+-/=?^_`{|}~@x.example", "!#$%&'*+-/=?^_`{|}~@x.example"),
        ("δοκιμή@example.com", "δοκιμή@example.com"),
        ("user@xn--bcher-kva.example", "user@xn--bcher-kva.example"),
    ])
    func accepted(input: String, expected: String) {
        #expect(Support.emailOrNil(input) == expected)
    }

    @Test(.enabled(if: URLTestSupport.idnaAvailable, "needs the IDNA implementation of DomainIndicator.toASCII"),
          arguments: [
            ("Info@Bücher.Example", "Info@xn--bcher-kva.example"),
            ("用户@例子.广告", "用户@xn--fsqu00a.xn--4rr70v"),
          ])
    func internationalDomains(input: String, expected: String) {
        #expect(Support.emailOrNil(input) == expected)
    }

    @Test(arguments: [
        ("\"john doe\"@example.com", "quoted local parts (\"…\"@domain) are not accepted"),
        ("john(work)@example.com", "comments ('(…)') are not accepted in an address"),
        ("john.example.com", "no '@' (an address is local@domain)"),
        ("a@b@example.com", "more than one '@'"),
        ("@example.com", "empty local part before '@'"),
        ("a@", "empty domain after '@'"),
        ("mailto:", "nothing after 'mailto:'"),
        ("a@[192.0.2.1]", "IP-literal domains ([…]) are not accepted"),
        ("a@[IPv6:2001:db8::1]", "IP-literal domains ([…]) are not accepted"),
        ("a@192.0.2.1", "domain ends in a number (IP addresses are not accepted as mail domains)"),
        (".a@example.com", "local part starts or ends with '.'"),
        ("a.@example.com", "local part starts or ends with '.'"),
        ("a..b@example.com", "local part has two consecutive dots"),
        ("a b@example.com", "space in the local part"),
        ("a\u{0}b@example.com", "control byte 0x00 at offset 1 of the local part"),
        ("a<b>@example.com", "character '<' is not allowed in the local part (RFC 5321 dot-atom)"),
        ("John <j@example.com>", "space in the local part"),
        ("a@localhost", "domain has a single label (at least two expected)"),
        ("a@example.com..", "domain has an empty label"),
    ])
    func refusals(input: String, reason: String) {
        #expect(Support.emailReason(input) == reason)
    }

    /// Domains that `DomainIndicator.toASCII` may already refuse (then with its own reason,
    /// prefixed `domain: `); otherwise the e-mail check refuses them with ours.
    @Test(arguments: [
        ("a@-x.example", "domain label starts or ends with '-'"),
        ("a@x..example", "domain has an empty label"),
        ("a@x_y.example", "character '_' is not allowed in a domain"),
        ("a@x.example/", "character '/' is not allowed in a domain"),
        ("a@" + String(repeating: "x", count: 64) + ".example", "domain label is 64 bytes long (at most 63)"),
    ])
    func domainRefusals(input: String, reason: String) {
        let ours = Support.emailReason(input)
        #expect(ours == reason || ours?.hasPrefix("domain: ") == true, "\(ours ?? "accepted")")
    }

    @Test func lengthLimits() {
        let local64 = String(repeating: "l", count: 64)
        // 63 + 1 + 63 + 1 + 61 = 189-byte domain; 64 + 1 + 189 = 254 bytes in all.
        let domain189 = String(repeating: "a", count: 63) + "." + String(repeating: "b", count: 63) + "."
            + String(repeating: "c", count: 61)
        #expect(Support.emailOrNil(local64 + "@" + domain189) == local64 + "@" + domain189)
        #expect(Support.emailReason(local64 + "@" + domain189 + "c") == "address is 255 bytes long (at most 254)")
        #expect(Support.emailReason(local64 + "l@example.com") == "local part is 65 bytes long (at most 64)")
        let domain254 = Array(repeating: String(repeating: "d", count: 50), count: 5).joined(separator: ".") + ".abc"
        // UTS #46 (VerifyDnsLength) refuses the name before the e-mail rule sees it.
        #expect(Support.emailReason("a@" + domain254) == "domain: name is 258 bytes; the limit is 253")
    }

    /// The local part must be well-formed UTF-8 (RFC 6531); raw bytes are checked, not strings.
    @Test func malformedUTF8LocalPart() {
        let input: [UInt8] = [0x61, 0xC0, 0xAF] + Array("@example.com".utf8)
        #expect(Support.canonical(input, as: .email) == .failure(.invalid(.email, reason: "local part is not well-formed UTF-8")))
        let surrogate: [UInt8] = [0xED, 0xA0, 0x80] + Array("@example.com".utf8)
        #expect(Support.canonical(surrogate, as: .email) == .failure(.invalid(.email, reason: "local part is not well-formed UTF-8")))
    }

    /// Hostile lines never crash; whatever is accepted has exactly one '@' and a lower-case
    /// ASCII domain, and is stable under a second canonicalisation.
    @Test(arguments: ["blns.txt", "UTF-8-test.txt"])
    func hostileLines(file: String) throws {
        var accepted = 0
        for line in try Support.rawLines(file) {
            for candidate in [line, line + Array("@example.com".utf8), Array("user@".utf8) + line] {
                guard case .success(let canonical) = Support.canonical(candidate, as: .email) else { continue }
                accepted += 1
                let parts = canonical.split(separator: "@", omittingEmptySubsequences: false)
                #expect(parts.count == 2, "\(canonical)")
                #expect(parts.last?.utf8.allSatisfy { ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x2D || $0 == 0x2E } == true)
                #expect(Support.emailOrNil(canonical) == canonical)
            }
        }
        #expect(accepted > 0)
    }
}
