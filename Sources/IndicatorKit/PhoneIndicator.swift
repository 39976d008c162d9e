/// Telephone numbers in E.164 form (`+` and 8 to 15 digits, the country code first).
///
/// Accepted: `+` or the `00` international prefix, then digits with the usual separators —
/// spaces, `.`, `-` and one level of parentheses (`+1 (555) 010-9999`). The national trunk
/// prefix written `(0)` after the country code (`+44 (0)20 7946 0000`, E.123 style) is dropped,
/// since it is not dialled from abroad.
///
/// Refused: numbers without a country code (`030 1234567`, `(555) 010-9999`) — the hub cannot
/// know the country, and a guessed one would match the wrong subscriber; letters (vanity
/// numbers, `ext.` extensions); a country code starting with 0; fewer than 8 or more than
/// 15 digits. No numbering-plan validation beyond that: plans change, and a feed's number
/// must match a bank's copy of the same text, not a plan.
///
/// Canonical form: `+` followed by the digits.
enum PhoneIndicator {
    static let minDigits = 8
    static let maxDigits = 15

    static func canonicalize(
        _ input: UnsafeBufferPointer<UInt8>, into out: inout ByteWriter
    ) throws(IndicatorError) -> CanonicalForm {
        let end = input.count
        var i: Int
        if end >= 1, input[0] == 0x2B {
            i = 1
        } else if end >= 2, input[0] == 0x30, input[1] == 0x30 {
            i = 2
        } else if end >= 1, ByteText.isDigit(input[0]) || input[0] == 0x28 {
            throw .invalid(.phone, reason: "no country code: write the number in international form "
                + "('+' or '00', then the country code); a national number cannot be matched across countries")
        } else {
            throw .invalid(.phone, reason: "\(ByteText.character(input, at: 0)) at position 1: "
                + "a number starts with '+' or '00' and the country code")
        }
        try ByteText.write(0x2B, to: &out)
        var digits = 0
        var open = -1  // position of an unclosed '('
        while i < end {
            let c = input[i]
            switch c {
            case 0x30...0x39:
                if digits == 0 && c == 0x30 {
                    throw .invalid(.phone, reason: "the country code cannot start with 0 "
                        + "(after '+' or '00' comes the country code)")
                }
                try ByteText.write(c, to: &out)
                digits += 1
            case 0x20, 0x2D, 0x2E:
                break
            case 0x28:
                if digits > 0, end - i >= 3, input[i + 1] == 0x30, input[i + 2] == 0x29 {
                    i += 3  // "(0)": the national trunk prefix, not dialled from abroad
                    continue
                }
                guard open < 0 else {
                    throw .invalid(.phone, reason: "'(' at position \(i + 1) inside another '('")
                }
                open = i
            case 0x29:
                guard open >= 0 else {
                    throw .invalid(.phone, reason: "')' at position \(i + 1) without a '('")
                }
                open = -1
            default:
                let what = ByteText.isLetter(c)
                    ? "letters are not allowed (write vanity numbers as digits; extensions are not part of E.164)"
                    : "only digits, spaces, '.', '-', '(' and ')' are allowed"
                throw .invalid(.phone, reason: "\(ByteText.character(input, at: i)) at position \(i + 1): \(what)")
            }
            i += 1
        }
        guard open < 0 else { throw .invalid(.phone, reason: "'(' at position \(open + 1) is never closed") }
        guard digits >= minDigits else {
            throw .invalid(.phone, reason: digits == 0
                ? "no digits after the international prefix"
                : "only \(digits) digits: an international number has \(minDigits) to \(maxDigits)")
        }
        guard digits <= maxDigits else {
            throw .invalid(.phone, reason: "\(digits) digits: E.164 numbers have at most \(maxDigits)")
        }
        return CanonicalForm(type: .phone)
    }
}
