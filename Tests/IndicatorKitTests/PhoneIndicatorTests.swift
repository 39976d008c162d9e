import Testing
@testable import IndicatorKit

@Suite("PhoneIndicator")
struct PhoneIndicatorTests {
    typealias S = TypeTestSupport

    @Test("international spellings become + and digits", arguments: [
        ("+4930123456", "+4930123456"),
        ("+49 30 123456", "+4930123456"),
        ("+49-30-123456", "+4930123456"),
        ("+49.30.123.456", "+4930123456"),
        ("+1 (555) 010-9999", "+15550109999"),
        ("004930123456", "+4930123456"),
        ("0049 30 123456", "+4930123456"),
        ("+44 (0)20 7946 0000", "+442079460000"),
        ("+44 (0) 20 7946 0000", "+442079460000"),
        ("+123456789012345", "+123456789012345"),
        ("+12345678", "+12345678"),
        (" +33 1 23 45 67 89 ", "+33123456789"),
    ])
    func accepted(input: String, canonical: String) {
        #expect(S.accepted(input, as: .phone) == canonical)
    }

    @Test("refusals carry precise reasons", arguments: [
        ("030 1234567", "no country code: write the number in international form ('+' or '00', then the country code); a national number cannot be matched across countries"),
        ("(555) 010-9999", "no country code: write the number in international form ('+' or '00', then the country code); a national number cannot be matched across countries"),
        ("0301234567", "no country code: write the number in international form ('+' or '00', then the country code); a national number cannot be matched across countries"),
        ("tel:+4930123456", "'t' at position 1: a number starts with '+' or '00' and the country code"),
        ("+0049301234", "the country code cannot start with 0 (after '+' or '00' comes the country code)"),
        ("000301234567", "the country code cannot start with 0 (after '+' or '00' comes the country code)"),
        ("+1234567", "only 7 digits: an international number has 8 to 15"),
        ("+1234567890123456", "16 digits: E.164 numbers have at most 15"),
        ("+", "no digits after the international prefix"),
        ("+1-800-FLOWERS", "'F' at position 8: letters are not allowed (write vanity numbers as digits; extensions are not part of E.164)"),
        ("+49 30 123456 ext. 12", "'e' at position 15: letters are not allowed (write vanity numbers as digits; extensions are not part of E.164)"),
        ("+49/30/123456", "'/' at position 4: only digits, spaces, '.', '-', '(' and ')' are allowed"),
        ("+1 ((555)) 0109999", "'(' at position 5 inside another '('"),
        ("+1 555) 0109999", "')' at position 7 without a '('"),
        ("+1 (555 0109999", "'(' at position 4 is never closed"),
        ("+49\u{00A0}30123456", "invisible character U+00A0 at position 4: only digits, spaces, '.', '-', '(' and ')' are allowed"),
        ("+４930123456", "'４' (U+FF14) at position 2: only digits, spaces, '.', '-', '(' and ')' are allowed"),
        ("++4930123456", "'+' at position 2: only digits, spaces, '.', '-', '(' and ')' are allowed"),
    ])
    func refused(input: String, reason: String) {
        #expect(S.reason(input, as: .phone) == reason)
        #expect(S.refusedAs(input, as: .phone) == .phone)
    }

    @Test("canonical bytes are the ASCII text")
    func bytes() throws {
        let result = try Canonicalizer.canonical("+49 (30) 12-34-56", as: .phone)
        #expect(result.bytes == Array("+4930123456".utf8))
        #expect(result.form == CanonicalForm(type: .phone))
    }
}
