/// Keccak-256 as Ethereum uses it: the Keccak[c = 512] sponge with the original Keccak
/// padding (`pad10*1` with domain bits `01`), not FIPS 202 SHA3-256 (domain bits `0110`).
/// Written from the Keccak reference / FIPS 202 §3 step mappings; the round constants and
/// rotation offsets are derived from their defining LFSR and walk rather than typed in.
///
/// Used only to verify EIP-55 mixed-case Ethereum addresses, so it favours clarity over speed;
/// it does not allocate (the 200-byte state lives in a temporary allocation).
enum Keccak {
    /// Rate of Keccak-256 (and SHA3-256) in bytes: 1600 − 2 × 256 bits.
    static let rateBytes = 136

    /// Keccak-256 of `input` into the 32 bytes at `out`.
    static func keccak256(_ input: UnsafeBufferPointer<UInt8>, into out: UnsafeMutablePointer<UInt8>) {
        sponge256(input, domain: 0x01, into: out)
    }

    /// Keccak-256 of `bytes` (allocating convenience for tests and tools).
    static func keccak256(_ bytes: [UInt8]) -> [UInt8] {
        var digest = [UInt8](repeating: 0, count: 32)
        bytes.withUnsafeBufferPointer { input in
            digest.withUnsafeMutableBufferPointer { keccak256(input, into: $0.baseAddress!) }
        }
        return digest
    }

    /// The 256-bit sponge with `domain` as the first padding bits: 0x01 for Keccak, 0x06 for
    /// SHA3 (exposed so the permutation can be tested against SHA3-256 vectors too).
    static func sponge256(
        _ input: UnsafeBufferPointer<UInt8>, domain: UInt8, into out: UnsafeMutablePointer<UInt8>
    ) {
        withUnsafeTemporaryAllocation(of: UInt64.self, capacity: 25) { state in
            state.initialize(repeating: 0)
            var offset = 0
            while input.count - offset >= rateBytes {
                absorb(state, input, from: offset, count: rateBytes)
                permute(state)
                offset += rateBytes
            }
            // Last, partial block (possibly empty) followed by the padding.
            let rest = input.count - offset
            absorb(state, input, from: offset, count: rest)
            xorByte(state, at: rest, domain)
            xorByte(state, at: rateBytes - 1, 0x80)
            permute(state)
            for k in 0..<32 {
                out[k] = UInt8(truncatingIfNeeded: state[k / 8] >> UInt64(8 * (k % 8)))
            }
        }
    }

    /// XORs `count` input bytes into the state's lanes (little-endian within a lane).
    @inline(__always)
    static func absorb(
        _ state: UnsafeMutableBufferPointer<UInt64>, _ input: UnsafeBufferPointer<UInt8>,
        from offset: Int, count: Int
    ) {
        for k in 0..<count { xorByte(state, at: k, input[offset + k]) }
    }

    @inline(__always)
    static func xorByte(_ state: UnsafeMutableBufferPointer<UInt64>, at k: Int, _ byte: UInt8) {
        state[k / 8] ^= UInt64(byte) << UInt64(8 * (k % 8))
    }

    @inline(__always)
    static func rotate(_ lane: UInt64, _ n: Int) -> UInt64 {
        n == 0 ? lane : lane << UInt64(n) | lane >> UInt64(64 - n)
    }

    /// Keccak-f[1600]: 24 rounds of θ, ρ, π, χ, ι on lanes `A[x + 5y]`.
    static func permute(_ a: UnsafeMutableBufferPointer<UInt64>) {
        let constants = roundConstants
        let offsets = rotationOffsets
        withUnsafeTemporaryAllocation(of: UInt64.self, capacity: 30) { scratch in
            for round in 0..<24 {
                // θ: XOR each lane with the parities of two neighbouring columns.
                for x in 0..<5 { scratch[x] = a[x] ^ a[x + 5] ^ a[x + 10] ^ a[x + 15] ^ a[x + 20] }
                for x in 0..<5 {
                    let d = scratch[(x + 4) % 5] ^ rotate(scratch[(x + 1) % 5], 1)
                    for y in 0..<5 { a[x + 5 * y] ^= d }
                }
                // ρ and π: B[y, 2x + 3y] = rot(A[x, y], r[x, y]).
                for x in 0..<5 {
                    for y in 0..<5 {
                        scratch[5 + y + 5 * ((2 * x + 3 * y) % 5)] = rotate(a[x + 5 * y], offsets[x + 5 * y])
                    }
                }
                // χ: A[x, y] = B[x, y] ⊕ (¬B[x+1, y] ∧ B[x+2, y]).
                for y in 0..<5 {
                    for x in 0..<5 {
                        let b = scratch[5 + x + 5 * y]
                        let b1 = scratch[5 + (x + 1) % 5 + 5 * y]
                        let b2 = scratch[5 + (x + 2) % 5 + 5 * y]
                        a[x + 5 * y] = b ^ (~b1 & b2)
                    }
                }
                // ι
                a[0] ^= constants[round]
            }
        }
    }

    /// ι's round constants: RC[ir] has bit 2^j − 1 set to rc(j + 7·ir), j = 0…6, where rc is
    /// the output of the LFSR x^8 + x^6 + x^5 + x^4 + 1 (FIPS 202 Algorithms 5 and 6).
    static let roundConstants: [UInt64] = {
        func rc(_ t: Int) -> UInt64 {
            var r: UInt16 = 1
            for _ in 0..<(t % 255) {
                r <<= 1
                if r & 0x100 != 0 { r ^= 0x171 }  // feed bit 8 back into bits 0, 4, 5, 6
            }
            return UInt64(r & 1)
        }
        return (0..<24).map { round in
            (0...6).reduce(UInt64(0)) { constant, j in constant | rc(j + 7 * round) << UInt64((1 << j) - 1) }
        }
    }()

    /// ρ's offsets r[x + 5y]: r[0, 0] = 0; walking (x, y) → (y, 2x + 3y) from (1, 0), the t-th
    /// lane gets (t + 1)(t + 2) / 2 mod 64 (FIPS 202 Algorithm 2).
    static let rotationOffsets: [Int] = {
        var offsets = [Int](repeating: 0, count: 25)
        var (x, y) = (1, 0)
        for t in 0..<24 {
            offsets[x + 5 * y] = (t + 1) * (t + 2) / 2 % 64
            (x, y) = (y, (2 * x + 3 * y) % 5)
        }
        return offsets
    }()
}
