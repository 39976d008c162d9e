/// Picks the indicator type of untyped input (`ihub canonical VALUE` without `--type`, plain
/// lists). Detection only looks at the shape of the value; whether it is valid is the type's
/// canonicaliser's business — so `999.1.1.1` is detected as ipv4 and then refused with the
/// ipv4 reason, which is more useful than "unrecognised".
///
/// The checks run in this order; the first that matches wins:
///  1. ipv4   — starts with a digit, has a `.`, only digits, dots, hex/octal spellings
///              (`0x7f`), `[.]`, fullwidth digits and an optional `/len` or `:port`, and
///              the last label is a number (WHATWG's "ends in a number" rule: such a host is
///              an IPv4 address, never a domain). `3279880203` (no dot) is not detected.
///  2. ipv6   — two or more `:`, starts with a hex digit, `:` or `[`, and either only
///              hex/`:`/`.` (before a `%zone` or `/len`) or a `::` somewhere.
///  3. url    — `scheme://` (`hxxp://` too), or `www.` followed by a host and a `/`.
///  4. email  — exactly one `@`, a local part without `:`, a `.` in the domain.
///  5. md5 / sha1 / sha256 / sha512 — only hex digits, 32 / 40 / 64 / 128 of them.
///  6. wallet — `0x` and 36–44 hex digits (ETH); base58, 26–35 characters starting with `1`
///              or `3` (BTC); `bc1` / `tb1` / `bcrt1` and letters and digits (segwit).
///  7. iban   — after an optional `IBAN ` and without spaces: two letters, two digits,
///              letters and digits, 15–34 characters.
///  8. phone  — `+` or `00`, then only digits and `space . - ( )`, at least one digit.
///  9. handle — `platform:handle`: a platform name (a letter, then `a–z 0–9 . _ -`, at most
///              32) that is not a URI scheme like `mailto` or `tel`, a non-empty handle, no
///              `//`, and not `host.name:1234` (a host and port).
/// 10. domain — has a dot (or an ideographic / fullwidth one), only letters, digits, `-`,
///              `_`, `.`, a leading `*` and non-ASCII bytes.
/// Anything else is nil (`IndicatorError.unrecognised`: give the type explicitly).
enum TypeDetector {
    static func detect(_ input: UnsafeBufferPointer<UInt8>) -> IndicatorType? {
        guard !input.isEmpty else { return nil }
        if looksLikeIPv4(input) { return .ipv4 }
        if looksLikeIPv6(input) { return .ipv6 }
        if looksLikeURL(input) { return .url }
        if looksLikeEmail(input) { return .email }
        if let hash = hashType(input) { return hash }
        if looksLikeWallet(input) { return .wallet }
        if looksLikeIBAN(input) { return .iban }
        if looksLikePhone(input) { return .phone }
        if looksLikeHandle(input) { return .handle }
        if looksLikeDomain(input) { return .domain }
        return nil
    }

    // MARK: - 1, 2: IP addresses

    /// The length of a fullwidth digit (U+FF10–U+FF19, `EF BC 90…99`) at `p[i]`, or 0.
    @inline(__always)
    static func fullwidthDigit(_ p: UnsafeBufferPointer<UInt8>, _ i: Int) -> Int {
        p.count - i >= 3 && p[i] == 0xEF && p[i + 1] == 0xBC && p[i + 2] &- 0x90 < 10 ? 3 : 0
    }

    static func looksLikeIPv4(_ p: UnsafeBufferPointer<UInt8>) -> Bool {
        guard ByteText.isDigit(p[0]) || fullwidthDigit(p, 0) > 0 else { return false }
        var end = p.count
        var sawDot = false
        var colon = -1
        var i = 0
        while i < end {
            let c = p[i]
            if c == 0x2F { end = i; break }  // "/len": the v4 parser checks it
            if c == 0x3A {
                guard colon < 0 else { return false }
                colon = i
            } else if colon >= 0 {
                guard ByteText.isDigit(c) else { return false }  // only ":port" may follow
            } else if c == 0x2E {
                sawDot = true
            } else if c >= 0x80 {
                guard fullwidthDigit(p, i) > 0 || (p.count - i >= 3 && p[i] == 0xEF && p[i + 1] == 0xBC
                    && p[i + 2] == 0x8E) else { return false }  // fullwidth digit or full stop
                if p[i + 2] == 0x8E { sawDot = true }
                i += 3
                continue
            } else if !(ByteText.hexValue(c) != nil || c | 0x20 == 0x78 || c == 0x5B || c == 0x5D) {
                return false
            }
            i += 1
        }
        guard sawDot else { return false }
        if colon >= 0 { end = colon }
        // The last label (one trailing dot ignored, "[.]" brackets ignored) must be a number.
        var labelEnd = end
        if labelEnd > 0, p[labelEnd - 1] == 0x2E { labelEnd -= 1 }
        var labelStart = labelEnd
        while labelStart > 0, p[labelStart - 1] != 0x2E, p[labelStart - 1] != 0x5D,
              p[labelStart - 1] != 0x5B, p[labelStart - 1] != 0x8E {
            labelStart -= 1
        }
        guard labelStart < labelEnd else { return false }
        if labelEnd - labelStart > 2, p[labelStart] == 0x30, p[labelStart + 1] | 0x20 == 0x78 {
            return true  // 0x… (hex)
        }
        for k in labelStart..<labelEnd where !(ByteText.isDigit(p[k]) || p[k] >= 0x80) { return false }
        return true
    }

    static func looksLikeIPv6(_ p: UnsafeBufferPointer<UInt8>) -> Bool {
        let first = p[0]
        guard ByteText.hexValue(first) != nil || first == 0x3A || first == 0x5B else { return false }
        var colons = 0
        var doubleColon = false
        var onlyHex = true
        for k in 0..<p.count {
            let c = p[k]
            if c == 0x25 { break }  // "%zone": the v6 parser refuses it with its reason
            if c == 0x3A {
                colons += 1
                if k > 0, p[k - 1] == 0x3A { doubleColon = true }
            } else if c == 0x2F {
                if k + 1 < p.count, p[k + 1] == 0x2F { return false }  // "//": a URL
            } else if c == 0x2E || c == 0x5B || c == 0x5D {
                continue
            } else if ByteText.hexValue(c) == nil {
                guard c < 0x80, ByteText.isLetter(c) || ByteText.isDigit(c) else { return false }
                onlyHex = false
            }
        }
        return colons >= 2 && (onlyHex || doubleColon)
    }

    // MARK: - 3, 4: URL, email

    static func looksLikeURL(_ p: UnsafeBufferPointer<UInt8>) -> Bool {
        // scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ), then "://"
        if ByteText.isLetter(p[0]) {
            var k = 1
            while k < p.count, ByteText.isLetter(p[k]) || ByteText.isDigit(p[k])
                    || p[k] == 0x2B || p[k] == 0x2D || p[k] == 0x2E {
                k += 1
            }
            if p.count - k >= 3, p[k] == 0x3A, p[k + 1] == 0x2F, p[k + 2] == 0x2F { return true }
        }
        // "www.host/…"
        guard p.count > 5, p[0] | 0x20 == 0x77, p[1] | 0x20 == 0x77, p[2] | 0x20 == 0x77,
              p[3] == 0x2E else { return false }
        return (5..<p.count).contains { p[$0] == 0x2F }
    }

    static func looksLikeEmail(_ p: UnsafeBufferPointer<UInt8>) -> Bool {
        var at = -1
        for k in 0..<p.count where p[k] == 0x40 {
            guard at < 0 else { return false }
            at = k
        }
        guard at > 0, at + 1 < p.count else { return false }
        if p[0] != 0x22 {  // an unquoted local part has no ':' (that would be platform:@handle)
            for k in 0..<at where p[k] == 0x3A { return false }
        }
        for k in (at + 1)..<p.count where p[k] == 0x2E { return k > at + 1 }
        return false
    }

    // MARK: - 5, 6: hashes, wallets

    static func hashType(_ p: UnsafeBufferPointer<UInt8>) -> IndicatorType? {
        let type: IndicatorType
        switch p.count {
        case 32: type = .md5
        case 40: type = .sha1
        case 64: type = .sha256
        case 128: type = .sha512
        default: return nil
        }
        return p.allSatisfy { ByteText.hexValue($0) != nil } ? type : nil
    }

    static func looksLikeWallet(_ p: UnsafeBufferPointer<UInt8>) -> Bool {
        let n = p.count
        if n >= 38 && n <= 46 && p[0] == 0x30 && p[1] | 0x20 == 0x78 {
            return (2..<n).allSatisfy { ByteText.hexValue(p[$0]) != nil }
        }
        if (p[0] == 0x31 || p[0] == 0x33) && n >= 26 && n <= 35 {
            return p.allSatisfy { $0 < 0x80 && Base58.values[Int($0)] >= 0 }
        }
        if n >= 14 && n <= 90 && WalletIndicator.hasSegwitPrefix(p) {
            return p.allSatisfy { ByteText.isLetter($0) || ByteText.isDigit($0) }
        }
        return false
    }

    // MARK: - 7, 8: IBAN, phone

    static func looksLikeIBAN(_ p: UnsafeBufferPointer<UInt8>) -> Bool {
        var position = 0  // among the non-space characters
        for k in IBANIndicator.paperPrefixLength(p)..<p.count {
            let c = p[k]
            if c == 0x20 { continue }
            switch position {
            case 0, 1: guard ByteText.isLetter(c) else { return false }
            case 2, 3: guard ByteText.isDigit(c) else { return false }
            default: guard ByteText.isLetter(c) || ByteText.isDigit(c) else { return false }
            }
            position += 1
        }
        return position >= 15 && position <= IBANIndicator.maxLength
    }

    static func looksLikePhone(_ p: UnsafeBufferPointer<UInt8>) -> Bool {
        var k: Int
        if p[0] == 0x2B {
            k = 1
        } else if p.count >= 2, p[0] == 0x30, p[1] == 0x30 {
            k = 2
        } else {
            return false
        }
        var digits = 0
        while k < p.count {
            switch p[k] {
            case 0x30...0x39: digits += 1
            case 0x20, 0x2D, 0x2E, 0x28, 0x29: break
            default: return false
            }
            k += 1
        }
        return digits > 0
    }

    // MARK: - 9, 10: handle, domain

    /// URI schemes that are written `scheme:…` without `//`: such a value is not a handle.
    static let uriSchemes: [StaticString] = [
        "about", "bitcoin", "data", "ethereum", "file", "ftp", "http", "https", "javascript",
        "magnet", "mailto", "news", "sip", "sips", "sms", "tel", "urn", "ws", "wss",
    ]

    /// Whether `p[0..<count]` is one of `uriSchemes`, in any ASCII case.
    static func isURIScheme(_ p: UnsafeBufferPointer<UInt8>, count: Int) -> Bool {
        uriSchemes.contains { scheme in
            scheme.utf8CodeUnitCount == count
                && (0..<count).allSatisfy { ByteText.lower(p[$0]) == scheme.utf8Start[$0] }
        }
    }

    static func looksLikeHandle(_ p: UnsafeBufferPointer<UInt8>) -> Bool {
        guard ByteText.isLetter(p[0]) else { return false }
        var colon = 1
        var platformHasDot = false
        while colon < p.count, p[colon] != 0x3A {
            let c = p[colon]
            guard ByteText.isLetter(c) || ByteText.isDigit(c) || c == 0x2E || c == 0x5F || c == 0x2D else {
                return false
            }
            if c == 0x2E { platformHasDot = true }
            colon += 1
        }
        guard colon < p.count, colon <= HandleIndicator.maxPlatformBytes, colon + 1 < p.count else { return false }
        for k in colon..<(p.count - 1) where p[k] == 0x2F && p[k + 1] == 0x2F { return false }
        if platformHasDot, ((colon + 1)..<p.count).allSatisfy({ ByteText.isDigit(p[$0]) }) {
            return false  // host.name:1234
        }
        return !isURIScheme(p, count: colon)
    }

    static func looksLikeDomain(_ p: UnsafeBufferPointer<UInt8>) -> Bool {
        var sawDot = false
        for k in 0..<p.count {
            let c = p[k]
            if c == 0x2E {
                sawDot = true
            } else if c >= 0x80 {
                // U+3002 ideographic full stop, U+FF0E fullwidth full stop, U+FF61 halfwidth
                // ideographic full stop: IDNA maps them to '.'.
                if p.count - k >= 3, (p[k] == 0xE3 && p[k + 1] == 0x80 && p[k + 2] == 0x82)
                    || (p[k] == 0xEF && p[k + 1] == 0xBC && p[k + 2] == 0x8E)
                    || (p[k] == 0xEF && p[k + 1] == 0xBD && p[k + 2] == 0xA1) {
                    sawDot = true
                }
            } else if !(ByteText.isLetter(c) || ByteText.isDigit(c) || c == 0x2D || c == 0x5F
                        || (c == 0x2A && k == 0)) {
                return false
            }
        }
        return sawDot
    }
}
