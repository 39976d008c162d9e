/// Nicknames on a platform, written `platform:handle` (`telegram:scam_support`), as shared by
/// cyber-patrols.
///
/// - platform: 1–32 characters of `a–z 0–9 . _ -`, any ASCII case, lower-cased. It is not
///   checked against a list: new platforms appear faster than releases.
/// - handle: everything after the first `:`, minus one leading `@` (`telegram:@scam` is
///   `telegram:scam`; a second leading `@` is refused, so that canonical forms are fixed
///   points); 1–128 bytes of well-formed UTF-8 with no whitespace, control or
///   invisible formatting characters (they make two handles look alike). Further `:` are
///   allowed (Matrix ids contain them).
///
/// Case: the major platforms (Telegram, X, Instagram, TikTok, …) treat handles
/// case-insensitively and allow only ASCII in them, so the whole handle is lower-cased — ASCII
/// letters only. Non-ASCII characters are kept byte for byte (neither case-folded nor
/// normalised): Unicode case mapping changes between Unicode versions, and a canonical form
/// must not depend on the toolchain that computed it.
///
/// Canonical form: `platform:handle`, lower-cased as above.
enum HandleIndicator {
    static let maxPlatformBytes = 32
    static let maxHandleBytes = 128

    static func canonicalize(
        _ input: UnsafeBufferPointer<UInt8>, into out: inout ByteWriter
    ) throws(IndicatorError) -> CanonicalForm {
        let end = input.count
        var colon = 0
        while colon < end, input[colon] != 0x3A { colon += 1 }
        guard colon < end else {
            throw .invalid(.handle, reason: "expected platform:handle (e.g. telegram:scam_support)")
        }
        guard colon > 0 else { throw .invalid(.handle, reason: "missing platform before ':'") }
        guard colon <= maxPlatformBytes else {
            throw .invalid(.handle, reason: "platform is longer than \(maxPlatformBytes) characters")
        }
        for i in 0..<colon {
            let c = ByteText.lower(input[i])
            guard c &- 0x61 < 26 || ByteText.isDigit(c) || c == 0x2E || c == 0x5F || c == 0x2D else {
                throw .invalid(.handle, reason: "\(ByteText.character(input, at: i)) at position \(i + 1) "
                    + "in the platform: only a–z, 0–9, '.', '_' and '-' are allowed")
            }
            try ByteText.write(c, to: &out)
        }
        try ByteText.write(0x3A, to: &out)
        var i = colon + 1
        if i < end, input[i] == 0x40 { i += 1 }
        if i < end, input[i] == 0x40 {  // refused rather than stripped: "x:@@a" → "x:@a" → "x:a"
            throw .invalid(.handle, reason: "handle starts with more than one '@'")
        }
        guard i < end else { throw .invalid(.handle, reason: "missing handle after '\(ByteText.quote(input, 0..<(colon + 1)))'") }
        guard end - i <= maxHandleBytes else {
            throw .invalid(.handle, reason: "handle is \(end - i) bytes; at most \(maxHandleBytes) are allowed")
        }
        while i < end {
            let c = input[i]
            if c >= 0x21 && c < 0x7F {
                try ByteText.write(ByteText.lower(c), to: &out)
                i += 1
                continue
            }
            guard let (value, length) = ByteText.scalar(input, at: i) else {
                throw .invalid(.handle, reason: "byte 0x\(ByteText.hex2(c)) at position \(i + 1) is not UTF-8")
            }
            guard !ByteText.isInvisible(value) else {
                throw .invalid(.handle, reason: "\(ByteText.character(input, at: i)) at position \(i + 1): "
                    + "whitespace, control and invisible characters are not allowed in a handle")
            }
            for k in i..<(i + length) { try ByteText.write(input[k], to: &out) }
            i += length
        }
        return CanonicalForm(type: .handle)
    }
}
