/// SipHash-2-4-128 over messages laid out in scratch memory that may be read past their end
/// (`DigestKey.canonicalDigestFast(_:types:range:into:)`'s batch), two at a time.
///
/// One SipHash is a single chain of dependent rounds; two independent states advanced in the
/// same loop give the core two chains to overlap, and neither needs a byte loop for its last
/// 0–7 bytes: the last word is one load, masked.
extension SipHash {
    /// The final word of the `length`-byte message at `p` (its last `length % 8` bytes,
    /// little-endian, with the length in the top byte), from one 8-byte load at
    /// `p + length & ~7`: bytes past the message are masked off, never used.
    @inline(__always)
    static func paddedFinalWord(_ p: UnsafeRawPointer, length: Int) -> UInt64 {
        let word = UInt64(littleEndian: p.loadUnaligned(fromByteOffset: length & ~7, as: UInt64.self))
        let rest = UInt64(truncatingIfNeeded: length & 7)
        return word & ((1 &<< (8 &* rest)) &- 1) | UInt64(truncatingIfNeeded: length) &<< 56
    }

    /// `hash128(k0:k1:_:count:)` of the `length`-byte message at `p`, which must be readable
    /// up to `p + (length & ~7) + 8` (a padded message).
    @inline(__always)
    static func hash128(k0: UInt64, k1: UInt64, padded p: UnsafeRawPointer, length: Int) -> (UInt64, UInt64) {
        var state = SipHash(k0: k0, k1: k1)
        let blocks = length & ~7
        var offset = 0
        while offset < blocks {
            state.compress(UInt64(littleEndian: p.loadUnaligned(fromByteOffset: offset, as: UInt64.self)))
            offset &+= 8
        }
        return state.finish(paddedFinalWord(p, length: length))
    }

    /// The digests of two padded messages (`a`, `lengthA`) and (`b`, `lengthB`), their rounds
    /// interleaved: the blocks both messages have are absorbed in one loop, the rest of the
    /// longer one's after it, and the two finalisations side by side.
    @inline(__always)
    static func hash128(
        k0: UInt64, k1: UInt64, padded a: UnsafeRawPointer, length lengthA: Int,
        _ b: UnsafeRawPointer, length lengthB: Int
    ) -> ((UInt64, UInt64), (UInt64, UInt64)) {
        var s = SipHash(k0: k0, k1: k1)
        var t = s
        let blocksA = lengthA & ~7
        let blocksB = lengthB & ~7
        let common = min(blocksA, blocksB)
        var offset = 0
        while offset < common {
            let x = UInt64(littleEndian: a.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
            let y = UInt64(littleEndian: b.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
            s.v3 ^= x
            t.v3 ^= y
            round2(&s, &t)
            round2(&s, &t)
            s.v0 ^= x
            t.v0 ^= y
            offset &+= 8
        }
        var rest = offset
        while rest < blocksA {
            s.compress(UInt64(littleEndian: a.loadUnaligned(fromByteOffset: rest, as: UInt64.self)))
            rest &+= 8
        }
        rest = offset
        while rest < blocksB {
            t.compress(UInt64(littleEndian: b.loadUnaligned(fromByteOffset: rest, as: UInt64.self)))
            rest &+= 8
        }
        return finish2(&s, paddedFinalWord(a, length: lengthA), &t, paddedFinalWord(b, length: lengthB))
    }

    /// `finish` of two states, round by round.
    @inline(__always)
    static func finish2(_ s: inout SipHash, _ lastS: UInt64, _ t: inout SipHash, _ lastT: UInt64)
        -> ((UInt64, UInt64), (UInt64, UInt64))
    {
        s.v3 ^= lastS
        t.v3 ^= lastT
        round2(&s, &t)
        round2(&s, &t)
        s.v0 ^= lastS
        t.v0 ^= lastT
        s.v2 ^= 0xEE
        t.v2 ^= 0xEE
        for _ in 0..<4 { round2(&s, &t) }
        let s0 = s.v0 ^ s.v1 ^ s.v2 ^ s.v3
        let t0 = t.v0 ^ t.v1 ^ t.v2 ^ t.v3
        s.v1 ^= 0xDD
        t.v1 ^= 0xDD
        for _ in 0..<4 { round2(&s, &t) }
        return ((s0, s.v0 ^ s.v1 ^ s.v2 ^ s.v3), (t0, t.v0 ^ t.v1 ^ t.v2 ^ t.v3))
    }

    /// One SipRound of each of two states, step by step.
    @inline(__always)
    static func round2(_ s: inout SipHash, _ t: inout SipHash) {
        s.v0 &+= s.v1; t.v0 &+= t.v1
        s.v1 = rotl(s.v1, 13); t.v1 = rotl(t.v1, 13)
        s.v1 ^= s.v0; t.v1 ^= t.v0
        s.v0 = rotl(s.v0, 32); t.v0 = rotl(t.v0, 32)
        s.v2 &+= s.v3; t.v2 &+= t.v3
        s.v3 = rotl(s.v3, 16); t.v3 = rotl(t.v3, 16)
        s.v3 ^= s.v2; t.v3 ^= t.v2
        s.v0 &+= s.v3; t.v0 &+= t.v3
        s.v3 = rotl(s.v3, 21); t.v3 = rotl(t.v3, 21)
        s.v3 ^= s.v0; t.v3 ^= t.v0
        s.v2 &+= s.v1; t.v2 &+= t.v1
        s.v1 = rotl(s.v1, 17); t.v1 = rotl(t.v1, 17)
        s.v1 ^= s.v2; t.v1 ^= t.v2
        s.v2 = rotl(s.v2, 32); t.v2 = rotl(t.v2, 32)
    }
}
