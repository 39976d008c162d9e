import Testing
@testable import IndicatorKit

@Suite("HandleIndicator")
struct HandleIndicatorTests {
    typealias S = TypeTestSupport

    @Test("platform and ASCII handle are lower-cased, one '@' dropped", arguments: [
        ("telegram:scam_support", "telegram:scam_support"),
        ("Telegram:@Scam_Support", "telegram:scam_support"),
        ("X:@ElonMuskGiveaway", "x:elonmuskgiveaway"),
        ("matrix:@alice:example.org", "matrix:alice:example.org"),
        ("mastodon:@scam@mastodon.social", "mastodon:scam@mastodon.social"),
        ("icq:123456789", "icq:123456789"),
        ("my.platform-2_b:x", "my.platform-2_b:x"),
        ("vk:Дмитрий", "vk:Дмитрий"),
    ])
    func accepted(input: String, canonical: String) throws {
        #expect(S.accepted(input, as: .handle) == canonical)
        let result = try Canonicalizer.canonical(input, as: .handle)
        #expect(result.bytes == Array(canonical.utf8))
    }

    @Test("refusals carry precise reasons", arguments: [
        ("scam_support", "expected platform:handle (e.g. telegram:scam_support)"),
        (":scam", "missing platform before ':'"),
        ("telegram:", "missing handle after 'telegram:'"),
        ("telegram:@", "missing handle after 'telegram:'"),
        ("telegram:@@double", "handle starts with more than one '@'"),
        (String(repeating: "p", count: 33) + ":x", "platform is longer than 32 characters"),
        ("tele gram:x", "' ' at position 5 in the platform: only a–z, 0–9, '.', '_' and '-' are allowed"),
        ("télégram:x", "'é' (U+00E9) at position 2 in the platform: only a–z, 0–9, '.', '_' and '-' are allowed"),
        ("telegram:" + String(repeating: "a", count: 129), "handle is 129 bytes; at most 128 are allowed"),
        ("telegram:scam support", "' ' at position 14: whitespace, control and invisible characters are not allowed in a handle"),
        ("telegram:scam\u{200B}support", "invisible character U+200B at position 14: whitespace, control and invisible characters are not allowed in a handle"),
        ("telegram:scam\u{202E}troppus", "invisible character U+202E at position 14: whitespace, control and invisible characters are not allowed in a handle"),
        ("telegram:scam\u{0}", "NUL byte at position 14: whitespace, control and invisible characters are not allowed in a handle"),
    ])
    func refused(input: String, reason: String) {
        #expect(S.reason(input, as: .handle) == reason)
        #expect(S.refusedAs(input, as: .handle) == .handle)
    }

    @Test("malformed UTF-8 in a handle is refused with the byte")
    func malformedUTF8() {
        for bytes: [UInt8] in [[0xFF], [0xC0, 0xAF], [0xED, 0xA0, 0x80], [0xE2, 0x82], [0xF4, 0x90, 0x80, 0x80]] {
            let result = S.canonicalize(bytes: Array("telegram:a".utf8) + bytes, as: .handle)
            guard case .failure(.invalid(.handle, let reason)) = result else {
                Issue.record("accepted \(bytes)")
                continue
            }
            #expect(reason == "byte 0x\(ByteText.hex2(bytes[0])) at position 11 is not UTF-8")
        }
    }
}
