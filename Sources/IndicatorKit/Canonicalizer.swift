/// What canonicalisation found out about a value, besides its canonical bytes.
public struct CanonicalForm: Equatable, Sendable {
    public var type: IndicatorType
    /// For `ipv4` / `ipv6`: the prefix length (32 / 128 for a single address). Otherwise 0.
    public var prefixLength: UInt8
    /// For `domain`: the value was written `*.example.com`, so the entry covers subdomains.
    public var coversSubdomains: Bool

    public init(type: IndicatorType, prefixLength: UInt8 = 0, coversSubdomains: Bool = false) {
        self.type = type
        self.prefixLength = prefixLength
        self.coversSubdomains = coversSubdomains
    }

    /// Whether this is an IP network (CIDR range) rather than a single address.
    public var isNetwork: Bool {
        switch type {
        case .ipv4: prefixLength < 32
        case .ipv6: prefixLength < 128
        default: false
        }
    }
}

/// Turns raw indicator bytes into their one canonical form (PRODUCT.md's table), or says
/// precisely why the value is refused. Pure: no I/O, no global state.
///
/// Canonical bytes are what the keyed digest covers (see `DigestKey`):
/// - ipv4 / ipv6: 4 / 16 network-order bytes; a CIDR range appends one prefix-length byte
///   (the address with host bits set is refused; `/32` and `/128` are plain addresses).
/// - every other type: the canonical text as UTF-8 (ASCII for all but email local parts
///   and handles).
public enum Canonicalizer {
    /// Version of the canonicalisation rules. It enters every digest, so changing any rule
    /// in a way that alters a canonical form must bump it (and stores must be rebuilt).
    public static let version: UInt8 = 1

    /// Longest raw value accepted, in bytes.
    public static let maxInputBytes = 4096

    /// Scratch space a caller must provide for one canonical form (percent-escaping can
    /// triple a URL).
    public static let scratchBytes = 3 * maxInputBytes + 64

    /// Canonicalises `input` as `type`, or detects the type when `type` is nil, appending
    /// the canonical bytes to `out`. Plain IPv4 addresses and LDH domain names take a
    /// one-pass fast path (`canonicalizeFast`); everything else the general path.
    public static func canonicalize(
        _ input: UnsafeBufferPointer<UInt8>, as type: IndicatorType?, into out: inout ByteWriter
    ) throws(IndicatorError) -> CanonicalForm {
        if out.remaining >= fastPathMaxBytes, let fast = canonicalizeFast(input, as: type, into: out.base + out.count) {
            out.commit(fast.count)
            return fast.form
        }
        return try canonicalizeGeneral(input, as: type, into: &out)
    }

    /// `canonicalize(_:as:into:)` without the fast path: trimming, detection, the per-type
    /// canonicalisers. (The fast path must agree with it wherever it accepts.)
    static func canonicalizeGeneral(
        _ input: UnsafeBufferPointer<UInt8>, as type: IndicatorType?, into out: inout ByteWriter
    ) throws(IndicatorError) -> CanonicalForm {
        guard input.count <= maxInputBytes else { throw .tooLong(limit: maxInputBytes) }
        let trimmed = trimWhitespace(input)
        guard !trimmed.isEmpty else { throw .empty }
        guard let type = type ?? TypeDetector.detect(trimmed) else { throw .unrecognised }
        switch type {
        case .ipv4: return try IPIndicator.canonicalizeV4(trimmed, into: &out)
        case .ipv6: return try IPIndicator.canonicalizeV6(trimmed, into: &out)
        case .domain: return try DomainIndicator.canonicalize(trimmed, into: &out)
        case .url: return try URLIndicator.canonicalize(trimmed, into: &out)
        case .email: return try EmailIndicator.canonicalize(trimmed, into: &out)
        case .iban: return try IBANIndicator.canonicalize(trimmed, into: &out)
        case .phone: return try PhoneIndicator.canonicalize(trimmed, into: &out)
        case .wallet: return try WalletIndicator.canonicalize(trimmed, into: &out)
        case .md5, .sha1, .sha256, .sha512:
            return try HashIndicator.canonicalize(trimmed, as: type, into: &out)
        case .handle: return try HandleIndicator.canonicalize(trimmed, into: &out)
        }
    }

    /// Convenience for tools and tests (allocates): the canonical bytes and form of `value`.
    public static func canonical(_ value: String, as type: IndicatorType? = nil)
        throws(IndicatorError) -> (form: CanonicalForm, bytes: [UInt8])
    {
        var utf8 = Array(value.utf8)
        return try withScratch { (out: inout ByteWriter) throws(IndicatorError) in
            let form = try utf8.withUnsafeMutableBufferPointer { (raw) throws(IndicatorError) in
                try canonicalize(UnsafeBufferPointer(raw), as: type, into: &out)
            }
            return (form, Array(out.written))
        }
    }

    /// Runs `body` with a writer over fresh scratch space of `scratchBytes`.
    public static func withScratch<R>(
        _ body: (inout ByteWriter) throws(IndicatorError) -> R
    ) throws(IndicatorError) -> R {
        let buffer = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: scratchBytes)
        defer { buffer.deallocate() }
        var writer = ByteWriter(buffer)
        return try body(&writer)
    }

    /// The human-readable canonical text for `bytes` of `form` (what `ihub canonical` prints):
    /// IP addresses and networks in their textual form, everything else as its UTF-8 text.
    public static func display(_ form: CanonicalForm, bytes: [UInt8]) -> String {
        switch form.type {
        case .ipv4, .ipv6: IPIndicator.display(form, bytes: bytes)
        default: String(decoding: bytes, as: UTF8.self)
        }
    }

    /// Strips ASCII whitespace (space, tab, CR, LF, VT, FF) from both ends.
    @inline(__always)
    static func trimWhitespace(_ input: UnsafeBufferPointer<UInt8>) -> UnsafeBufferPointer<UInt8> {
        var start = 0
        var end = input.count
        while start < end, isASCIIWhitespace(input[start]) { start += 1 }
        while end > start, isASCIIWhitespace(input[end - 1]) { end -= 1 }
        return UnsafeBufferPointer(rebasing: input[start..<end])
    }

    @inline(__always)
    static func isASCIIWhitespace(_ byte: UInt8) -> Bool {
        byte == 0x20 || (byte >= 0x09 && byte <= 0x0D)
    }
}

extension ByteWriter.Overflow {
    /// The error a canonicaliser reports when its output does not fit the scratch space.
    var asIndicatorError: IndicatorError { .tooLong(limit: Canonicalizer.maxInputBytes) }
}
