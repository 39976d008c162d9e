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
        guard let scan = fastScan(input, as: type, into: out, hashing: false, k0: 0, k1: 0) else { return nil }
        return FastResult(type: scan.type, count: scan.count)
    }

    /// What `fastScan` found, for callers that digest in the same pass (`DigestKey`).
    struct FastScan {
        var type: IndicatorType
        /// Canonical bytes written.
        var count: Int
        /// With `hashing`: the digest of the canonical form (`SipHash.hash128` of
        /// `version ‖ type ‖ canonical bytes`), output bytes 0–7 and 8–15 little-endian.
        var digest: (UInt64, UInt64)
    }

    /// `canonicalizeFast`; with `hashing`, also the digest under the SipHash key (`k0`, `k1`),
    /// computed in the same pass: an IPv4 digest from the address in a register, a name's
    /// from the lower-cased words as they are scanned (never from bytes read back from `out`).
    @inline(__always)
    static func fastScan(
        _ input: UnsafeBufferPointer<UInt8>, as type: IndicatorType?, into out: UnsafeMutablePointer<UInt8>,
        hashing: Bool, k0: UInt64, k1: UInt64
    ) -> FastScan? {
        guard let (input, count, ipv4, detecting) = fastDispatch(input, as: type) else { return nil }
        if ipv4, let value = fastIPv4(input, count, out) {
            return fastAddress(value, hashing: hashing, k0: k0, k1: k1)
        }
        guard type != .ipv4 else { return nil }
        return fastName(input, count, out, detecting: detecting, hashing: hashing, k0: k0, k1: k1)
    }

    /// Most SipHash message words the `.avx2` batch kernel stores for one value: `version ‖ type` and a
    /// 253-byte name are 255 bytes, 31 full words and the final one.
    static let fastPathMaxWords = (fastPathMaxBytes + 2) / 8 + 1

    /// The fast path's common start: trims ASCII whitespace as the general path does, and
    /// picks the scanner — (start, count, whether to try the IPv4 scanner, whether the type is
    /// being detected) — or nil when neither applies.
    @inline(__always)
    static func fastDispatch(
        _ input: UnsafeBufferPointer<UInt8>, as type: IndicatorType?
    ) -> (UnsafePointer<UInt8>, Int, Bool, Bool)? {
        guard var base = input.baseAddress, input.count <= maxInputBytes else { return nil }
        var count = input.count
        // The general path trims first; so do we (rare: values come trimmed from most readers,
        // so one test of both ends — no byte above 0x20 is ASCII whitespace — skips the loops).
        if count == 0 || base[0] <= 0x20 || base[count &- 1] <= 0x20 {
            while count > 0, isASCIIWhitespace(base[0]) { base += 1; count -= 1 }
            while count > 0, isASCIIWhitespace(base[count - 1]) { count -= 1 }
        }
        guard count >= 3, count <= fastPathMaxBytes else { return nil }
        // One call site per scanner (in each caller), so that both are inlined.
        switch type {
        case .ipv4?: return (base, count, true, false)
        case .domain?: return (base, count, false, false)
        case nil:
            // A valid dotted quad is what `TypeDetector` calls ipv4 (digits and dots, last label
            // a number); anything else that starts with a digit may still be a domain.
            return (base, count, base[0] &- 0x30 < 10 && count <= 15, true)
        default: return nil
        }
    }

    /// The scan result of an IPv4 address (digested from the address in a register).
    @inline(__always)
    static func fastAddress(_ address: UInt32, hashing: Bool, k0: UInt64, k1: UInt64) -> FastScan {
        let digest = hashing ? SipHash.hash128(k0: k0, k1: k1, prefix: digestPrefix(.ipv4), ipv4: address) : (0, 0)
        return FastScan(type: .ipv4, count: 4, digest: digest)
    }

    /// The scan result of a name (`fastDomain`), or nil.
    @inline(__always)
    static func fastName(
        _ p: UnsafePointer<UInt8>, _ count: Int, _ out: UnsafeMutablePointer<UInt8>, detecting: Bool,
        hashing: Bool, k0: UInt64, k1: UInt64
    ) -> FastScan? {
        var sip = SipHash(k0: k0, k1: k1)
        guard let digest = fastDomain(
            p, count, out, detecting: detecting, hashing: hashing, sip: &sip, prefix: digestPrefix(.domain))
        else { return nil }
        return FastScan(type: .domain, count: count, digest: digest)
    }

    /// The name scanner for the `.avx2` batch kernel: `fastDomain` with its SipHash message
    /// words (of `version ‖ type ‖ name`) stored at `words` instead of hashed. Returns the
    /// number of words, or nil. Out of line, as `fastName` is: one call site keeps the batch
    /// loop small enough for the IPv4 scanner to be inlined into it.
    @inline(never)
    static func fastNameWords(
        _ p: UnsafePointer<UInt8>, _ count: Int, _ out: UnsafeMutablePointer<UInt8>, detecting: Bool,
        words: UnsafeMutablePointer<UInt64>
    ) -> Int? {
        var sink = SipWords(words)
        guard fastDomain(p, count, out, detecting: detecting, hashing: true, sip: &sink, prefix: digestPrefix(.domain))
            != nil
        else { return nil }
        return sink.count
    }

    /// `fastNameWords`, by the vector scanner (`SipHashLanes.scanName`) when `vector` and the
    /// name has at most 64 bytes, else by the Swift one. Same answers and words.
    @inline(__always)
    static func fastNameWords(
        _ p: UnsafePointer<UInt8>, _ count: Int, _ out: UnsafeMutablePointer<UInt8>, detecting: Bool,
        words: UnsafeMutablePointer<UInt64>, vector: Bool
    ) -> Int? {
        if vector {
            let scanned = SipHashLanes.scanName(
                p, count, detecting: detecting, prefix: digestPrefix(.domain), out: out, words: words)
            if scanned > 0 { return scanned }
            if scanned == 0 { return nil }
        }
        return fastNameWords(p, count, out, detecting: detecting, words: words)
    }

    /// The first two message bytes of a digest of `type`: `version ‖ type`, little-endian.
    @inline(__always)
    static func digestPrefix(_ type: IndicatorType) -> UInt16 {
        UInt16(version) | UInt16(type.rawValue) &<< 8
    }
}
