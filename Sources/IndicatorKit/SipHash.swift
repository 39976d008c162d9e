/// SipHash-2-4 with a 128-bit output (Aumasson & Bernstein, "SipHash: a fast short-input PRF",
/// and the 128-bit variant of the reference implementation): the same function as libsodium's
/// `crypto_shorthash_siphashx24`, written out so the lookup hot path can inline it — no call into
/// the shared library per probe, the key halves kept in registers. `SipHashTests` checks it
/// against libsodium for every length 0…300 and random keys and messages.
///
/// The batch digest can also hash four messages at once in AVX2 registers (`SipHashLanes`,
/// `SipHash+Lanes.swift`): the scanner then hands its message words to a `SipWords` buffer
/// instead of this state (both are `SipAbsorber`s).
struct SipHash: SipAbsorber {
    var v0: UInt64
    var v1: UInt64
    var v2: UInt64
    var v3: UInt64

    /// The state after keying with (`k0`, `k1`) for a 128-bit output.
    @inline(__always)
    init(k0: UInt64, k1: UInt64) {
        v0 = k0 ^ 0x736F_6D65_7073_6575
        v1 = k1 ^ 0x646F_7261_6E64_6F6D ^ 0xEE
        v2 = k0 ^ 0x6C79_6765_6E65_7261
        v3 = k1 ^ 0x7465_6462_7974_6573
    }

    /// Absorbs one full 8-byte block (little-endian word).
    @inline(__always)
    mutating func compress(_ m: UInt64) {
        v3 ^= m
        Self.round(&v0, &v1, &v2, &v3)
        Self.round(&v0, &v1, &v2, &v3)
        v0 ^= m
    }

    /// Absorbs the final word (the last 0–7 bytes, little-endian, with the total length in
    /// the top byte) and returns output bytes 0–7 and 8–15 as little-endian words.
    @inline(__always)
    mutating func finish(_ last: UInt64) -> (UInt64, UInt64) {
        compress(last)
        v2 ^= 0xEE
        for _ in 0..<4 { Self.round(&v0, &v1, &v2, &v3) }
        let out0 = v0 ^ v1 ^ v2 ^ v3
        v1 ^= 0xDD
        for _ in 0..<4 { Self.round(&v0, &v1, &v2, &v3) }
        return (out0, v0 ^ v1 ^ v2 ^ v3)
    }

    @inline(__always)
    static func rotl(_ x: UInt64, _ b: UInt64) -> UInt64 { (x &<< b) | (x &>> (64 &- b)) }

    @inline(__always)
    static func round(_ v0: inout UInt64, _ v1: inout UInt64, _ v2: inout UInt64, _ v3: inout UInt64) {
        v0 &+= v1; v1 = rotl(v1, 13); v1 ^= v0; v0 = rotl(v0, 32)
        v2 &+= v3; v3 = rotl(v3, 16); v3 ^= v2
        v0 &+= v3; v3 = rotl(v3, 21); v3 ^= v0
        v2 &+= v1; v1 = rotl(v1, 17); v1 ^= v2; v2 = rotl(v2, 32)
    }

    /// The 128-bit SipHash-2-4 of `count` bytes at `message` under the key (`k0`, `k1`) =
    /// key bytes 0–7 and 8–15 read little-endian. Returns output bytes 0–7 and 8–15, little-endian.
    @inline(__always)
    static func hash128(k0: UInt64, k1: UInt64, _ message: UnsafeRawPointer, count: Int) -> (UInt64, UInt64) {
        var state = SipHash(k0: k0, k1: k1)
        let blocks = count & ~7
        var offset = 0
        while offset < blocks {
            state.compress(UInt64(littleEndian: message.loadUnaligned(fromByteOffset: offset, as: UInt64.self)))
            offset &+= 8
        }
        // The last 0–7 bytes, little-endian, with the length in the top byte.
        var last = UInt64(truncatingIfNeeded: count) << 56
        var k = 0
        while offset &+ k < count {
            last |= UInt64(message.load(fromByteOffset: offset &+ k, as: UInt8.self)) << UInt64(8 &* k)
            k &+= 1
        }
        return state.finish(last)
    }
}

extension SipHash {
    /// The 128-bit SipHash of the 6 bytes `prefix ‖ address` (address in network order).
    @inline(__always)
    static func hash128(k0: UInt64, k1: UInt64, prefix: UInt16, ipv4 address: UInt32) -> (UInt64, UInt64) {
        var state = SipHash(k0: k0, k1: k1)
        return state.finish(ipv4Word(prefix: prefix, address: address))
    }

    /// The one (final) message word of the 6 bytes `prefix ‖ address`: the bytes
    /// little-endian, the length 6 in the top byte.
    @inline(__always)
    static func ipv4Word(prefix: UInt16, address: UInt32) -> UInt64 {
        6 << 56 | UInt64(address.bigEndian) << 16 | UInt64(prefix)
    }
}

/// Takes SipHash message words in order: every full 8-byte block (`compress`), then the final
/// word (`finish`: the last 0–7 bytes little-endian, the length mod 256 in the top byte).
/// `SipHash` absorbs them at once; `SipWords` stores them for the four-lane kernel. The
/// canonicaliser's name scanner is generic over it, so one scanner feeds both.
protocol SipAbsorber {
    mutating func compress(_ m: UInt64)
    /// Takes the final word; `SipHash` returns output bytes 0–7 and 8–15 (little-endian words),
    /// `SipWords` (0, 0).
    mutating func finish(_ last: UInt64) -> (UInt64, UInt64)
}
