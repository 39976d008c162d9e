import Foundation

/// Text helpers of the IDNA processing: strict UTF-8 decoding, NFC, and the quoting of labels
/// in error reasons.
extension IDNA {
    /// The error every IDNA failure is reported as.
    static func domainError(_ reason: String) -> IndicatorError {
        .invalid(.domain, reason: reason)
    }

    /// Decodes `input` as UTF-8, refusing anything ill-formed (overlong forms, surrogates,
    /// code points above U+10FFFF, truncated sequences, stray continuation bytes).
    static func decodeUTF8(_ input: UnsafeBufferPointer<UInt8>) throws(IndicatorError) -> [UInt32] {
        var output: [UInt32] = []
        output.reserveCapacity(input.count)
        var index = 0
        while index < input.count {
            let lead = input[index]
            if lead < 0x80 {
                output.append(UInt32(lead))
                index += 1
                continue
            }
            let length: Int
            var cp: UInt32
            var lowest: UInt32 = 0x80  // the smallest code point this length may encode
            switch lead {
            case 0xC2...0xDF: length = 2; cp = UInt32(lead & 0x1F)
            case 0xE0...0xEF: length = 3; cp = UInt32(lead & 0x0F); lowest = 0x800
            case 0xF0...0xF4: length = 4; cp = UInt32(lead & 0x07); lowest = 0x10000
            default:
                throw invalidUTF8(input, at: index, why: lead < 0xC0 ? "unexpected continuation byte"
                    : "byte that never occurs in UTF-8")
            }
            guard input.count - index >= length else {
                throw invalidUTF8(input, at: index, why: "sequence cut short at the end")
            }
            for offset in 1..<length {
                let byte = input[index + offset]
                guard byte & 0xC0 == 0x80 else {
                    throw invalidUTF8(input, at: index, why: "incomplete sequence (byte \(index + offset + 1) "
                        + "does not continue it)")
                }
                cp = cp << 6 | UInt32(byte & 0x3F)
            }
            if cp < lowest { throw invalidUTF8(input, at: index, why: "overlong encoding") }
            if (0xD800...0xDFFF).contains(cp) {
                throw invalidUTF8(input, at: index, why: "encoded surrogate U+\(hex(cp))")
            }
            if cp > 0x10FFFF { throw invalidUTF8(input, at: index, why: "code point above U+10FFFF") }
            output.append(cp)
            index += length
        }
        return output
    }

    static func invalidUTF8(_ input: UnsafeBufferPointer<UInt8>, at index: Int, why: String) -> IndicatorError {
        let byte = String(input[index], radix: 16, uppercase: true)
        return domainError("invalid UTF-8 at byte \(index + 1) (0x\(byte.count == 1 ? "0" : "")\(byte)): \(why)")
    }

    /// Normalisation Form C of `scalars` (Foundation's canonical composition). Text below
    /// U+0300 is always in NFC, which spares the conversion for most names.
    static func nfc(_ scalars: [UInt32]) -> [UInt32] {
        guard scalars.contains(where: { $0 >= 0x300 }) else { return scalars }
        let normalized = string(scalars).precomposedStringWithCanonicalMapping
        return normalized.unicodeScalars.map(\.value)
    }

    /// A `String` of code points (invalid ones, which callers never pass, become U+FFFD).
    static func string(_ scalars: some Sequence<UInt32>) -> String {
        var view = String.UnicodeScalarView()
        for cp in scalars { view.append(Unicode.Scalar(cp) ?? "\u{FFFD}") }
        return String(view)
    }

    /// Upper-case hex of a code point, at least four digits (`00E9`, `1F600`).
    static func hex(_ cp: UInt32) -> String {
        let digits = String(cp, radix: 16, uppercase: true)
        return digits.count >= 4 ? digits : String(repeating: "0", count: 4 - digits.count) + digits
    }

    /// A label for an error reason: `'text'`, at most 40 code points (then `…`), with control,
    /// format and separator characters (and a leading combining mark) written as `\u{XXXX}` so
    /// the reason prints safely.
    static func quote(_ label: some Collection<UInt32>) -> String {
        var text = "'"
        for (count, cp) in label.enumerated() {
            if count == 40 { text += "…"; break }
            if isPrintable(cp), count > 0 || !isMark(cp), let scalar = Unicode.Scalar(cp) {
                text.unicodeScalars.append(scalar)
            } else {
                text += "\\u{\(hex(cp))}"
            }
        }
        return text + "'"
    }

    /// Whether `cp` can be shown as is in a reason: not a control, format, separator, private
    /// use, unassigned or Bidi control character, nor the quote or the backslash.
    static func isPrintable(_ cp: UInt32) -> Bool {
        if cp < 0x20 || (0x7F...0x9F).contains(cp) || cp == 0x27 || cp == 0x5C { return false }
        if cp < 0x7F { return true }
        switch bidiClass(of: cp) {
        case .unassigned, .BN, .B, .S, .WS, .LRE, .LRO, .RLE, .RLO, .PDF, .LRI, .RLI, .FSI, .PDI:
            return false
        default:
            return !(0xE000...0xF8FF).contains(cp) && cp < 0xF0000
        }
    }
}
