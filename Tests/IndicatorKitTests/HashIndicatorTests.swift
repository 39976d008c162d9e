import Testing
@testable import IndicatorKit

@Suite("HashIndicator")
struct HashIndicatorTests {
    typealias S = TypeTestSupport

    static let md5Empty = "d41d8cd98f00b204e9800998ecf8427e"
    static let sha1Empty = "da39a3ee5e6b4b0d3255bfef95601890afd80709"
    static let sha256Empty = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    static let sha512Empty = "cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce"
        + "47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e"

    @Test("each hash type: lower-case hex of its length, detected by length", arguments: [
        (IndicatorType.md5, md5Empty), (.sha1, sha1Empty), (.sha256, sha256Empty), (.sha512, sha512Empty),
    ])
    func accepted(type: IndicatorType, hex: String) throws {
        #expect(S.accepted(hex, as: type) == hex)
        #expect(S.accepted(hex.uppercased(), as: type) == hex)
        #expect(S.accepted(hex.uppercased(), as: nil) == hex)
        let result = try Canonicalizer.canonical(hex.uppercased(), as: type)
        #expect(result.bytes == Array(hex.utf8))
        #expect(result.form == CanonicalForm(type: type))
    }

    @Test("refusals carry precise reasons", arguments: [
        (IndicatorType.md5, String(md5Empty.dropLast()), "md5 must be 32 hex digits, got 31"),
        (.md5, sha256Empty, "md5 must be 32 hex digits, got 64 (the length of a sha256)"),
        (.sha1, md5Empty, "sha1 must be 40 hex digits, got 32 (the length of a md5)"),
        (.sha256, sha256Empty + "0", "sha256 must be 64 hex digits, got 65"),
        (.sha512, sha256Empty, "sha512 must be 128 hex digits, got 64 (the length of a sha256)"),
        (.md5, "d41d8cd98f00b204e9800998ecf8427g", "'g' at position 32: only hex digits 0–9, a–f are allowed"),
        (.md5, "0x" + md5Empty, "'x' at position 2: only hex digits 0–9, a–f are allowed"),
        (.sha1, "da39a3ee 5e6b4b0d3255bfef95601890afd80709", "' ' at position 9: only hex digits 0–9, a–f are allowed"),
        (.sha256, "é" + String(sha256Empty.dropFirst()), "'é' (U+00E9) at position 1: only hex digits 0–9, a–f are allowed"),
    ])
    func refused(type: IndicatorType, input: String, reason: String) {
        #expect(S.reason(input, as: type) == reason)
        #expect(S.refusedAs(input, as: type) == type)
    }
}
