/// International Bank Account Numbers (ISO 13616).
///
/// Accepted: the electronic form (`DE89370400440532013000`) and the paper form with spaces
/// (`DE89 3704 0044 0532 0130 00`), in any letter case, optionally preceded by the word `IBAN`
/// and a space or colon (`IBAN DE89 …`, `IBAN: DE89…`) — ISO 13616 prints the paper form that
/// way and statements copy it. Only ASCII spaces are dropped; tabs, hyphens, dots and any other
/// character are refused rather than guessed at.
///
/// Checked, in this order, each with its own reason: characters, the 34-character maximum, a
/// two-letter country code that is in the registry (`IBANRegistry`, generated from the SWIFT
/// registry table), two check digits in 02–98, the country's length, the country's BBAN format
/// (`n` digits, `a` letters, `c` either — skipped for the few countries whose registry row
/// contradicts itself), and the ISO 7064 MOD 97-10 check (computed digit by digit, no bignum).
///
/// Canonical form: upper case, no spaces, no prefix — the electronic format.
enum IBANIndicator {
    /// The longest IBAN any country uses.
    static let maxLength = 34

    static func canonicalize(
        _ input: UnsafeBufferPointer<UInt8>, into out: inout ByteWriter
    ) throws(IndicatorError) -> CanonicalForm {
        let end = input.count
        var i = paperPrefixLength(input)
        let start = out.count
        var count = 0
        while i < end {
            let c = input[i]
            i += 1
            if c == 0x20 { continue }
            let upper = c &- 0x61 < 26 ? c &- 0x20 : c
            guard ByteText.isDigit(upper) || upper &- 0x41 < 26 else {
                throw .invalid(.iban, reason: "\(ByteText.character(input, at: i - 1)) at position \(i): "
                    + "only letters, digits and spaces are allowed")
            }
            if count < maxLength { try ByteText.write(upper, to: &out) }
            count += 1
        }
        guard count <= maxLength else {
            throw .invalid(.iban, reason: "\(count) characters: no IBAN is longer than \(maxLength)")
        }
        let iban = UnsafeBufferPointer(start: out.base + start, count: count)
        guard count >= 4 else {
            throw .invalid(.iban, reason: "only \(count) characters: an IBAN starts with a country code "
                + "and two check digits")
        }
        guard ByteText.isLetter(iban[0]), ByteText.isLetter(iban[1]) else {
            throw .invalid(.iban, reason: "country code '\(ByteText.quote(iban, 0..<2))' must be two letters")
        }
        guard let country = IBANCountry.lookup(iban[0], iban[1]) else {
            throw .invalid(.iban, reason: "unknown country code '\(ByteText.quote(iban, 0..<2))' "
                + "(not in the IBAN registry)")
        }
        guard ByteText.isDigit(iban[2]), ByteText.isDigit(iban[3]) else {
            throw .invalid(.iban, reason: "check digits '\(ByteText.quote(iban, 2..<4))' must be two digits")
        }
        let checkDigits = Int(iban[2] - 0x30) * 10 + Int(iban[3] - 0x30)
        guard checkDigits >= 2 && checkDigits <= 98 else {
            throw .invalid(.iban, reason: "check digits '\(ByteText.quote(iban, 2..<4))' are out of "
                + "range 02–98 (ISO 7064 never produces them)")
        }
        guard count == country.length else {
            throw .invalid(.iban, reason: "IBAN for \(country.code) must be \(country.length) characters, got \(count)")
        }
        if country.checksFormat { try checkFormat(iban, country) }
        let remainder = mod97(iban)
        guard remainder == 1 else {
            throw .invalid(.iban, reason: "check digits do not verify (mod 97 = \(remainder), expected 1)")
        }
        return CanonicalForm(type: .iban)
    }

    /// How many bytes of `input` the paper-format prefix `IBAN` (any case) plus a following
    /// colon and/or spaces takes; 0 when there is none.
    static func paperPrefixLength(_ input: UnsafeBufferPointer<UInt8>) -> Int {
        guard input.count > 5, input[0] | 0x20 == 0x69, input[1] | 0x20 == 0x62,
              input[2] | 0x20 == 0x61, input[3] | 0x20 == 0x6E,
              input[4] == 0x20 || input[4] == 0x3A else { return 0 }
        var i = 5
        while i < input.count, input[i] == 0x20 { i += 1 }
        return i
    }

    /// Checks the BBAN (everything after the check digits) against the country's pattern.
    static func checkFormat(_ iban: UnsafeBufferPointer<UInt8>, _ country: IBANCountry) throws(IndicatorError) {
        let pattern = country.pattern.utf8Start
        for k in 0..<(iban.count - 4) {
            let c = iban[k + 4]
            let wanted: String
            switch pattern[k] {
            case 0x6E:  // n
                if ByteText.isDigit(c) { continue }
                wanted = "a digit"
            case 0x61:  // a
                if ByteText.isLetter(c) { continue }
                wanted = "a letter"
            default:  // c
                continue
            }
            throw .invalid(.iban, reason: "BBAN for \(country.code) must be \(country.format): "
                + "position \(k + 5) ('\(ByteText.quote(iban, (k + 4)..<(k + 5)))') must be \(wanted)")
        }
    }

    /// ISO 7064 MOD 97-10 of the IBAN with its first four characters moved to the end and
    /// letters read as 10…35, computed one digit (or letter = two digits) at a time.
    @inline(__always)
    static func mod97(_ iban: UnsafeBufferPointer<UInt8>) -> Int {
        var remainder = 0
        for k in 0..<iban.count {
            let c = iban[(k + 4) % iban.count]
            if ByteText.isDigit(c) {
                remainder = (remainder * 10 + Int(c - 0x30)) % 97
            } else {
                remainder = (remainder * 100 + Int(c - 0x41) + 10) % 97
            }
        }
        return remainder
    }
}

/// One country's IBAN structure; the table is `IBANRegistry.countries` (generated).
struct IBANCountry: Sendable {
    let code: StaticString
    /// Total IBAN length, country code and check digits included.
    let length: Int
    /// The BBAN part of the SWIFT format string, e.g. `8!n10!n`.
    let format: StaticString
    /// The BBAN format spelled out per character: `n` digit, `a` letter, `c` letter or digit.
    let pattern: StaticString
    /// Listed in the SWIFT registry (false for national formats it does not list yet).
    let official: Bool
    /// False where the registry row contradicts itself (see the generated comments).
    let checksFormat: Bool
    /// The registry's example IBAN (valid).
    let example: StaticString

    init(_ code: StaticString, length: Int, format: StaticString, pattern: StaticString,
         official: Bool, checksFormat: Bool, example: StaticString) {
        self.code = code
        self.length = length
        self.format = format
        self.pattern = pattern
        self.official = official
        self.checksFormat = checksFormat
        self.example = example
    }

    /// Index into `IBANRegistry.countries` by two upper-case letters (26 × 26), -1 if absent.
    static let index: [Int16] = {
        var table = [Int16](repeating: -1, count: 26 * 26)
        for (k, country) in IBANRegistry.countries.enumerated() {
            let code = country.code.utf8Start
            table[Int(code[0] - 0x41) * 26 + Int(code[1] - 0x41)] = Int16(k)
        }
        return table
    }()

    /// The country for the upper-case letters `a`, `b`, if the registry has it.
    @inline(__always)
    static func lookup(_ a: UInt8, _ b: UInt8) -> IBANCountry? {
        guard a &- 0x41 < 26, b &- 0x41 < 26 else { return nil }
        let k = index[Int(a - 0x41) * 26 + Int(b - 0x41)]
        return k < 0 ? nil : IBANRegistry.countries[Int(k)]
    }
}
