/// Byte-level text helpers shared by the ip, iban, phone, wallet, hash and handle
/// canonicalisers: a strict UTF-8 scalar reader (hot path, no allocation) and the quoting
/// used in refusal reasons (error path only, allocates).
enum ByteText {
    /// Decodes one Unicode scalar at `p[i]` under the strict rules of RFC 3629: no overlong
    /// forms, no surrogates, nothing above U+10FFFF, no truncated sequences.
    /// Returns nil when the bytes at `i` are not well-formed UTF-8.
    @inline(__always)
    static func scalar(_ p: UnsafeBufferPointer<UInt8>, at i: Int) -> (value: UInt32, length: Int)? {
        let end = p.count
        guard i < end else { return nil }
        let b0 = p[i]
        if b0 < 0x80 { return (UInt32(b0), 1) }
        // Second-byte ranges follow RFC 3629's table; they exclude overlongs and surrogates.
        var lower: UInt8 = 0x80
        var upper: UInt8 = 0xBF
        let length: Int
        var value: UInt32
        switch b0 {
        case 0xC2...0xDF: length = 2; value = UInt32(b0 & 0x1F)
        case 0xE0: length = 3; value = 0; lower = 0xA0
        case 0xE1...0xEC, 0xEE...0xEF: length = 3; value = UInt32(b0 & 0x0F)
        case 0xED: length = 3; value = 0x0D; upper = 0x9F
        case 0xF0: length = 4; value = 0; lower = 0x90
        case 0xF1...0xF3: length = 4; value = UInt32(b0 & 0x07)
        case 0xF4: length = 4; value = 4; upper = 0x8F
        default: return nil
        }
        guard end - i >= length else { return nil }
        let b1 = p[i + 1]
        guard b1 >= lower && b1 <= upper else { return nil }
        value = value << 6 | UInt32(b1 & 0x3F)
        var k = 2
        while k < length {
            let b = p[i + k]
            guard b & 0xC0 == 0x80 else { return nil }
            value = value << 6 | UInt32(b & 0x3F)
            k += 1
        }
        return (value, length)
    }

    /// Describes the character starting at `p[i]` for a refusal reason: `'g'`, `NUL byte`,
    /// `control byte 0x07`, `'１' (U+FF11)`, `byte 0xFF (not UTF-8)`.
    static func character(_ p: UnsafeBufferPointer<UInt8>, at i: Int) -> String {
        guard i < p.count else { return "end of input" }
        let b = p[i]
        if b == 0 { return "NUL byte" }
        if b < 0x20 || b == 0x7F { return "control byte 0x\(hex2(b))" }
        if b < 0x80 { return "'\(Character(Unicode.Scalar(b)))'" }
        guard let (value, _) = scalar(p, at: i), let s = Unicode.Scalar(value) else {
            return "byte 0x\(hex2(b)) (not UTF-8)"
        }
        var code = String(value, radix: 16, uppercase: true)
        while code.count < 4 { code = "0" + code }
        code = "U+" + code
        if isInvisible(value) { return "invisible character \(code)" }
        return "'\(Character(s))' (\(code))"
    }

    /// The bytes `p[range]` quoted for a refusal reason: printable ASCII and well-formed
    /// visible UTF-8 kept, everything else escaped as `\xNN`; long values are cut at 40 bytes.
    static func quote(_ p: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> String {
        var text = ""
        var i = range.lowerBound
        let end = min(range.upperBound, p.count)
        let cut = min(end, range.lowerBound + 40)
        while i < cut {
            let b = p[i]
            if b >= 0x20 && b < 0x7F {
                text.unicodeScalars.append(Unicode.Scalar(b))
                i += 1
            } else if b >= 0x80, let (value, length) = scalar(p, at: i), !isInvisible(value),
                      let s = Unicode.Scalar(value), i + length <= cut {
                text.unicodeScalars.append(s)
                i += length
            } else {
                text += "\\x" + hex2(b)
                i += 1
            }
        }
        if end > cut { text += "…" }
        return text
    }

    /// Whitespace, control and invisible formatting characters (C0, DEL, C1, Unicode
    /// spaces, zero-width characters, bidirectional controls, BOM): they make two values
    /// look alike, so reasons name them by code point and handles refuse them.
    @inline(__always)
    static func isInvisible(_ v: UInt32) -> Bool {
        switch v {
        case 0x00...0x20, 0x7F...0xA0, 0xAD, 0x034F, 0x061C, 0x115F, 0x1160, 0x1680,
             0x180E, 0x2000...0x200F, 0x2028...0x202F, 0x205F...0x206F, 0x3000, 0x3164,
             0xFE00...0xFE0F, 0xFEFF, 0xFFA0, 0xFFF0...0xFFFB, 0xE0000...0xE0FFF:
            true
        default:
            false
        }
    }

    static func hex2(_ b: UInt8) -> String {
        let digits: [Character] = Array("0123456789ABCDEF")
        return String([digits[Int(b >> 4)], digits[Int(b & 0x0F)]])
    }

    /// ASCII lower-casing of one byte.
    @inline(__always)
    static func lower(_ b: UInt8) -> UInt8 { b &- 0x41 < 26 ? b | 0x20 : b }

    /// The value of an ASCII hex digit, or nil.
    @inline(__always)
    static func hexValue(_ b: UInt8) -> UInt8? {
        if b &- 0x30 < 10 { return b &- 0x30 }
        let l = b | 0x20
        if l &- 0x61 < 6 { return l &- 0x61 &+ 10 }
        return nil
    }

    @inline(__always)
    static func isDigit(_ b: UInt8) -> Bool { b &- 0x30 < 10 }

    @inline(__always)
    static func isLetter(_ b: UInt8) -> Bool { (b | 0x20) &- 0x61 < 26 }
}

extension ByteText {
    /// `out.append(byte)` with the overflow mapped to the canonicaliser's error.
    @inline(__always)
    static func write(_ byte: UInt8, to out: inout ByteWriter) throws(IndicatorError) {
        do { try out.append(byte) } catch { throw error.asIndicatorError }
    }
}
