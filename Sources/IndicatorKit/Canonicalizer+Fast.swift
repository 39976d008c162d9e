/// The lookup fast path: one pass over the bytes that both detects and canonicalises the two
/// shapes that make up nearly all lookup traffic — a plain dotted-quad IPv4 address and a plain
/// LDH domain name — without building a `CanonicalForm` through the general dispatch.
///
/// It only ever *accepts*. Anything it is not sure about (a refusal, CIDR, upper-case `XN--`,
/// a trailing dot, `*.`, `_`, non-ASCII, a shape another type's detector could claim) returns
/// nil, and the caller runs the general path, which then answers — refusal reasons included —
/// exactly as before. So the one property to keep is: whenever the fast path accepts, the
/// general path accepts too, with the same type and the same canonical bytes
/// (tested in `FastPathTests`, and every canonicaliser test runs through it).
extension Canonicalizer {
    /// What the fast path found: the type (`.ipv4` address or `.domain` without `*.`) and the
    /// number of canonical bytes written.
    public struct FastResult: Sendable, Equatable {
        public var type: IndicatorType
        public var count: Int

        /// The matching `CanonicalForm` (an address, or a domain that does not cover subdomains).
        @inline(__always)
        public var form: CanonicalForm {
            CanonicalForm(type: type, prefixLength: type == .ipv4 ? 32 : 0)
        }
    }

    /// Bit `b` set for the ASCII digits (bytes 0x00–0x3F) and for the ASCII letters
    /// (bytes 0x40–0x7F, bit `b - 0x40`).
    static let asciiDigits: UInt64 = 0x03FF_0000_0000_0000
    static let asciiLetters: UInt64 = 0x07FF_FFFE_07FF_FFFE

    /// Longest input the fast path looks at (a name of `IDNA.maxNameBytes`).
    static let fastPathMaxBytes = 253

    /// Canonicalises `input` as `type` (nil = detect) when it is a plain dotted-quad IPv4
    /// address (typed `.ipv4` or untyped) or a plain LDH domain name (typed `.domain` or
    /// untyped), writing the canonical bytes to `out`, which must have room for
    /// `min(input.count, fastPathMaxBytes)` bytes and at least 4. Returns nil when the general
    /// path (`canonicalize(_:as:into:)`) has to decide. Leading/trailing ASCII whitespace is
    /// trimmed as the general path does. Never allocates, never throws.
    @inline(__always)
    public static func canonicalizeFast(
        _ input: UnsafeBufferPointer<UInt8>, as type: IndicatorType?, into out: UnsafeMutablePointer<UInt8>
    ) -> FastResult? {
        guard let scan = fastScan(input, as: type, into: out) else { return nil }
        return FastResult(type: scan.type, count: scan.count)
    }

    /// What `fastScan` found, for callers that digest in the same pass (`DigestKey`).
    struct FastScan {
        var type: IndicatorType
        /// Canonical bytes written.
        var count: Int
        /// The trimmed input (a domain's canonical form is each of these bytes OR 0x20).
        var input: UnsafePointer<UInt8>
        /// The IPv4 address (for `.ipv4`).
        var address: UInt32
    }

    /// `canonicalizeFast`, also returning the trimmed input and the parsed address.
    @inline(__always)
    static func fastScan(
        _ input: UnsafeBufferPointer<UInt8>, as type: IndicatorType?, into out: UnsafeMutablePointer<UInt8>
    ) -> FastScan? {
        guard var base = input.baseAddress, input.count <= maxInputBytes else { return nil }
        var count = input.count
        // The general path trims first; so do we (rare: values come trimmed from most readers).
        while count > 0, isASCIIWhitespace(base[0]) { base += 1; count -= 1 }
        while count > 0, isASCIIWhitespace(base[count - 1]) { count -= 1 }
        guard count >= 3, count <= fastPathMaxBytes else { return nil }
        switch type {
        case .ipv4?:
            guard let address = fastIPv4(base, count, out) else { return nil }
            return FastScan(type: .ipv4, count: 4, input: base, address: address)
        case .domain?:
            guard fastDomain(base, count, out, detecting: false) else { return nil }
            return FastScan(type: .domain, count: count, input: base, address: 0)
        case nil:
            // A valid dotted quad is what `TypeDetector` calls ipv4 (digits and dots, last label
            // a number); anything else that starts with a digit may still be a domain.
            if base[0] &- 0x30 < 10, let address = fastIPv4(base, count, out) {
                return FastScan(type: .ipv4, count: 4, input: base, address: address)
            }
            guard fastDomain(base, count, out, detecting: true) else { return nil }
            return FastScan(type: .domain, count: count, input: base, address: 0)
        default:
            return nil
        }
    }

    /// Strict dotted decimal `a.b.c.d` (what `IPIndicator.canonicalizeV4` accepts without a
    /// prefix length): four octets 0–255 without leading zeros. Writes 4 network-order bytes
    /// and returns the address.
    @inline(__always)
    static func fastIPv4(_ p: UnsafePointer<UInt8>, _ count: Int, _ out: UnsafeMutablePointer<UInt8>) -> UInt32? {
        guard count >= 7, count <= 15 else { return nil }
        var address: UInt32 = 0
        var octet: UInt32 = 0
        var digits = 0
        var dots = 0
        var i = 0
        while i < count {
            let byte = p[i]
            let digit = byte &- 0x30
            if digit < 10 {
                if digits == 1 && octet == 0 { return nil }  // leading zero
                octet = octet &* 10 &+ UInt32(digit)
                digits &+= 1
                if octet > 255 { return nil }
            } else if byte == 0x2E {
                if digits == 0 || dots == 3 { return nil }
                address = address << 8 | octet
                octet = 0
                digits = 0
                dots &+= 1
            } else {
                return nil
            }
            i &+= 1
        }
        guard digits > 0, dots == 3 else { return nil }
        address = address << 8 | octet
        UnsafeMutableRawPointer(out).storeBytes(of: address.bigEndian, as: UInt32.self)
        return address
    }

    /// A name `DomainIndicator.canonicalize` accepts through its ASCII path unchanged but for
    /// lower-casing: labels of ASCII letters, digits and inner hyphens, 1–63 bytes, no hyphens
    /// in the third and fourth positions (so no `xn--` label), at least two labels, a last label
    /// that is not all digits, at most 253 bytes, no trailing dot. Writes the lower-cased name.
    ///
    /// With `detecting`, also refuses the two shapes of this class that `TypeDetector` gives
    /// another type: a leading `00` (phone, when the rest is digits and `-`/`.`) and a last
    /// label starting `0x` (WHATWG's hex-number rule: ipv4).
    @inline(__always)
    static func fastDomain(
        _ p: UnsafePointer<UInt8>, _ count: Int, _ out: UnsafeMutablePointer<UInt8>, detecting: Bool
    ) -> Bool {
        let dot: UInt8 = 0x2E
        let hyphen: UInt8 = 0x2D
        var labelStart = 0
        var dots = 0
        var i = 0
        while i < count {
            let byte = p[i]
            // Every byte the fast path accepts has bit 5 set once lower-cased (letters, digits,
            // '-', '.'), so lower-casing is one OR; a refused byte is never committed.
            out[i] = byte | 0x20
            // ASCII letter or digit: one bit test in a 128-bit map, no data-dependent branch
            // (letters and digits alternate unpredictably in real names).
            let map = byte & 0x40 == 0 ? asciiDigits : asciiLetters
            if (map >> UInt64(byte & 0x3F)) & UInt64(~byte >> 7) == 0 {  // rare: '.', '-' or a refusal
                if byte == dot {
                    let length = i &- labelStart
                    if length == 0 || length > 63 || p[i &- 1] == hyphen { return false }
                    labelStart = i &+ 1
                    dots &+= 1
                } else if byte == hyphen {
                    // Not first in its label, and not the second of two in positions 3 and 4.
                    if i == labelStart || (i == labelStart &+ 3 && p[i &- 1] == hyphen) { return false }
                } else {
                    return false
                }
            }
            i &+= 1
        }
        let length = count &- labelStart
        guard dots > 0, length > 0, length <= 63, p[count &- 1] != hyphen else { return false }
        var lastLabelAllDigits = true
        for k in labelStart..<count where p[k] &- 0x30 >= 10 { lastLabelAllDigits = false; break }
        if lastLabelAllDigits { return false }
        if detecting {
            if p[0] == 0x30 && p[1] == 0x30 { return false }
            if length > 2 && p[labelStart] == 0x30 && p[labelStart &+ 1] | 0x20 == 0x78 { return false }
        }
        return true
    }
}
