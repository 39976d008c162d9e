/// A 128-bit keyed digest of an indicator: the only form in which the hub keeps indicators.
///
/// `lo` and `hi` are the first and last 8 bytes of the PRF output read little-endian, so the
/// digest's byte form is `lo` then `hi`, each little-endian (docs/STORE-FORMAT.md).
public struct IndicatorDigest: Hashable, Sendable, Comparable, CustomStringConvertible {
    public var lo: UInt64
    public var hi: UInt64

    public init(lo: UInt64, hi: UInt64) {
        self.lo = lo
        self.hi = hi
    }

    /// Reads a digest from 16 bytes (unaligned, little-endian halves).
    public init(bytes: UnsafeRawPointer) {
        lo = UInt64(littleEndian: bytes.loadUnaligned(as: UInt64.self))
        hi = UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: 8, as: UInt64.self))
    }

    /// The 16 bytes of the digest.
    public var bytes: [UInt8] {
        var out = [UInt8](repeating: 0, count: 16)
        out.withUnsafeMutableBytes { raw in
            raw.storeBytes(of: lo.littleEndian, toByteOffset: 0, as: UInt64.self)
            raw.storeBytes(of: hi.littleEndian, toByteOffset: 8, as: UInt64.self)
        }
        return out
    }

    /// Lower-case hex of the 16 bytes (for the audit trail and diagnostics; never reversible).
    public var hex: String {
        let digits: [UInt8] = Array("0123456789abcdef".utf8)
        var text = [UInt8]()
        text.reserveCapacity(32)
        for byte in bytes {
            text.append(digits[Int(byte >> 4)])
            text.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: text, as: UTF8.self)
    }

    public var description: String { hex }

    public static func < (a: IndicatorDigest, b: IndicatorDigest) -> Bool {
        (a.hi, a.lo) < (b.hi, b.lo)
    }
}

/// The hub's secret digest key: SipHash-2-4 with a 128-bit output (libsodium
/// `crypto_shorthash_siphashx24`, a PRF) over `version ‖ type ‖ body`.
///
/// The key sits in libsodium guarded memory and is wiped when the key is released.
/// Persisting it (mode 0600, in the data directory) is IndicatorStore's job.
public final class DigestKey: @unchecked Sendable {
    /// Key length in bytes (`crypto_shorthash_siphashx24_KEYBYTES`).
    public static let byteCount = 16

    /// The key's public identifier: the first 8 bytes of BLAKE2b-256 keyed with the key over
    /// the ASCII string "IndicatorHub digest key id v1", read little-endian. Stored in every
    /// snapshot so a store is never read with the wrong key.
    public let id: UInt64

    private let key: UnsafeMutableRawPointer  // immutable after init; read-only use from any thread

    /// Wraps existing key bytes (exactly `byteCount`).
    public init?(bytes: [UInt8]) {
        guard bytes.count == Self.byteCount else { return nil }
        let storage = Sodium.secureAllocate(Self.byteCount)
        bytes.withUnsafeBytes { storage.copyMemory(from: $0.baseAddress!, byteCount: Self.byteCount) }
        key = storage
        id = Self.computeID(UnsafeRawBufferPointer(start: storage, count: Self.byteCount))
    }

    /// A fresh random key from libsodium's CSPRNG.
    public static func generate() -> DigestKey {
        var bytes = [UInt8](repeating: 0, count: byteCount)
        bytes.withUnsafeMutableBytes { Sodium.randomBytes($0) }
        defer { for index in bytes.indices { bytes[index] = 0 } }
        return DigestKey(bytes: bytes)!
    }

    deinit { Sodium.secureFree(key) }

    /// Calls `body` with the raw key bytes (for writing the key file). Do not let them escape.
    public func withUnsafeKeyBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try body(UnsafeRawBufferPointer(start: key, count: Self.byteCount))
    }

    /// Hex form of `id`, as printed by `ihub init` and stored in the data directory.
    public var idHex: String {
        let value = String(id, radix: 16)
        return String(repeating: "0", count: 16 - value.count) + value
    }

    /// The digest of `body` (canonical bytes, or the part of them a type digests) of `type`.
    /// Allocation-free; safe to call from many threads at once.
    @inline(__always)
    public func digest(_ type: IndicatorType, body: UnsafeBufferPointer<UInt8>) -> IndicatorDigest {
        let total = body.count + 2
        return withUnsafeTemporaryAllocation(of: UInt8.self, capacity: total + 16) { scratch in
            let base = scratch.baseAddress!
            base[0] = Canonicalizer.version
            base[1] = type.rawValue
            if let source = body.baseAddress, body.count > 0 {
                (base + 2).update(from: source, count: body.count)
            }
            let out = base + total
            Sodium.siphashx24(
                out, UnsafePointer(base), total,
                key: UnsafePointer(key.assumingMemoryBound(to: UInt8.self)))
            return IndicatorDigest(bytes: UnsafeRawPointer(out))
        }
    }

    /// The same digest as `digest(type, body: buffer[2...])`, without copying the body: the
    /// first two bytes of `buffer` are headroom that this call overwrites with
    /// `version ‖ type`. For hot paths that canonicalise into a buffer with headroom
    /// (IndicatorStore's matcher). Allocation-free; computed by the inlinable Swift SipHash
    /// (`SipHash.hash128`, the same function as libsodium's, tested against it) rather than a
    /// call into libsodium per probe.
    @inline(__always)
    public func digest(_ type: IndicatorType, headroom buffer: UnsafeMutableBufferPointer<UInt8>) -> IndicatorDigest {
        precondition(buffer.count >= 2, "the buffer must start with two bytes of headroom")
        let base = buffer.baseAddress!
        base[0] = Canonicalizer.version
        base[1] = type.rawValue
        let (k0, k1) = sipKey
        let (lo, hi) = SipHash.hash128(k0: k0, k1: k1, UnsafeRawPointer(base), count: buffer.count)
        return IndicatorDigest(lo: lo, hi: hi)
    }

    /// The canonicaliser's fast path (`Canonicalizer.canonicalizeFast`: plain IPv4 addresses
    /// and LDH domains) and the digest of its canonical form, computed in the same pass: the
    /// digest is built from the address in registers, or from each lower-cased 8-byte word of
    /// a name as it is validated and stored (`Canonicalizer.fastDomain`), never by reading back
    /// the bytes just written to `out`. Nil when the general path has to decide.
    @inline(__always)
    public func canonicalDigestFast(
        _ input: UnsafeBufferPointer<UInt8>, as type: IndicatorType?, into out: UnsafeMutablePointer<UInt8>
    ) -> (result: Canonicalizer.FastResult, digest: IndicatorDigest)? {
        let (k0, k1) = sipKey
        guard let scan = Canonicalizer.fastScan(input, as: type, into: out, hashing: true, k0: k0, k1: k1) else {
            return nil
        }
        let result = Canonicalizer.FastResult(type: scan.type, count: scan.count)
        return (result, IndicatorDigest(lo: scan.digest.0, hi: scan.digest.1))
    }

    /// The key as SipHash's two words (key bytes 0–7 and 8–15, little-endian), for the Swift
    /// SipHash of the hot paths.
    @inline(__always)
    var sipKey: (UInt64, UInt64) {
        (UInt64(littleEndian: UnsafeRawPointer(key).loadUnaligned(as: UInt64.self)),
         UInt64(littleEndian: UnsafeRawPointer(key).loadUnaligned(fromByteOffset: 8, as: UInt64.self)))
    }

    /// The digest of a whole canonical form (`bytes` as produced by `Canonicalizer`).
    public func digest(_ form: CanonicalForm, canonical bytes: UnsafeBufferPointer<UInt8>) -> IndicatorDigest {
        digest(form.type, body: DigestBody.body(of: form, canonical: bytes))
    }

    private static func computeID(_ key: UnsafeRawBufferPointer) -> UInt64 {
        let tag = Sodium.blake2b(Array("IndicatorHub digest key id v1".utf8), key: key, outputBytes: 32)
        return tag.withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self)) }
    }
}

/// Which part of a canonical form the digest covers. For every type but `url` it is the whole
/// canonical form; for a URL it is the Safe Browsing expression (everything after `://`), so
/// host-suffix / path-prefix expressions of a queried URL can be probed the same way.
public enum DigestBody {
    @inline(__always)
    public static func body(of form: CanonicalForm, canonical: UnsafeBufferPointer<UInt8>)
        -> UnsafeBufferPointer<UInt8>
    {
        guard form.type == .url else { return canonical }
        return URLIndicator.expressionBody(canonical)
    }
}
