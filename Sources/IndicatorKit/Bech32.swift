/// Bech32 (BIP-173) and bech32m (BIP-350) strings and their segwit address payloads, written
/// from the BIPs. Works on bytes, does not allocate.
enum Bech32 {
    enum Variant: Equatable {
        /// BIP-173 checksum constant 1: witness version 0.
        case bech32
        /// BIP-350 checksum constant 0x2bc830a3: witness versions 1–16.
        case bech32m

        var name: String { self == .bech32 ? "bech32" : "bech32m" }
    }

    static let charset: StaticString = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"

    /// The 5-bit value of a lower-case bech32 character, or -1.
    static let values: [Int8] = {
        var table = [Int8](repeating: -1, count: 128)
        let chars = charset.utf8Start
        for k in 0..<32 { table[Int(chars[k])] = Int8(k) }
        return table
    }()

    /// The BCH checksum polynomial's generator, BIP-173 `bech32_polymod`.
    @inline(__always)
    static func polymodStep(_ checksum: UInt32, _ value: UInt8) -> UInt32 {
        let top = checksum >> 25
        var next = (checksum & 0x1FF_FFFF) << 5 ^ UInt32(value)
        if top & 1 != 0 { next ^= 0x3B6A_57B2 }
        if top & 2 != 0 { next ^= 0x2650_8E6D }
        if top & 4 != 0 { next ^= 0x1EA1_19FA }
        if top & 8 != 0 { next ^= 0x3D42_33DD }
        if top & 16 != 0 { next ^= 0x2A14_62B3 }
        return next
    }

    /// The checksum variant that `p` (already lower case; the human-readable part is
    /// `p[0..<separator]`, the data characters follow the separator) verifies under, or nil.
    static func verify(_ p: UnsafeBufferPointer<UInt8>, separator: Int) -> Variant? {
        var checksum: UInt32 = 1
        for k in 0..<separator { checksum = polymodStep(checksum, p[k] >> 5) }
        checksum = polymodStep(checksum, 0)
        for k in 0..<separator { checksum = polymodStep(checksum, p[k] & 31) }
        for k in (separator + 1)..<p.count { checksum = polymodStep(checksum, UInt8(values[Int(p[k])])) }
        switch checksum {
        case 1: return .bech32
        case 0x2BC8_30A3: return .bech32m
        default: return nil
        }
    }
}
