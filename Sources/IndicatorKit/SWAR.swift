/// Byte-lane arithmetic on 64-bit words ("SIMD within a register"): eight bytes tested at once
/// with adds and masks, no per-byte branch. Used by the canonicaliser's fast path
/// (`Canonicalizer+SWAR.swift`). A lane is byte `i` of a little-endian word (bits `8i…8i+7`);
/// a *lane mask* has bit 7 of a lane set for "true" (`0x80`) and every other bit clear.
///
/// The range tests require lanes below `0x80` (a lane mask must clear the others first):
/// then adding a per-lane constant never carries into the next lane.
enum SWAR {
    /// `0x01` in every lane.
    static let ones: UInt64 = 0x0101_0101_0101_0101
    /// `0x80` in every lane: the lane mask of all lanes.
    static let high: UInt64 = 0x8080_8080_8080_8080

    /// `byte` in every lane.
    @inline(__always)
    static func broadcast(_ byte: UInt8) -> UInt64 { UInt64(byte) &* ones }

    /// Lane mask of the lanes of `x` (each below `0x80`) in `lower…upper`.
    @inline(__always)
    static func inRange(_ x: UInt64, _ lower: UInt8, _ upper: UInt8) -> UInt64 {
        let atLeastLower = x &+ broadcast(0x80 &- lower)
        let aboveUpper = x &+ broadcast(0x7F &- upper)
        return atLeastLower & ~aboveUpper & high
    }

    /// Lane mask of the lanes of `x` (each below `0x80`) equal to `byte` (below `0x80`).
    @inline(__always)
    static func equal(_ x: UInt64, _ byte: UInt8) -> UInt64 {
        ~((x ^ broadcast(byte)) &+ broadcast(0x7F)) & high
    }

    /// Lane mask of the lanes `0..<n` (none for `n` ≤ 0, all for `n` ≥ 8).
    @inline(__always)
    static func firstLanes(_ n: Int) -> UInt64 {
        n >= 8 ? high : n <= 0 ? 0 : high & ((1 &<< UInt64(truncatingIfNeeded: 8 &* n)) &- 1)
    }

    /// Expands a lane mask to `0xFF` in the lanes that are set.
    @inline(__always)
    static func expand(_ mask: UInt64) -> UInt64 { (mask &>> 7) &* 0xFF }

    /// One bit per lane of a lane mask: bit `i` set when lane `i` is set.
    @inline(__always)
    static func bits(_ mask: UInt64) -> UInt64 { ((mask &>> 7) &* 0x0102_0408_1020_4080) &>> 56 }

    /// The `count` (1…8) bytes at `p` as a little-endian word, lanes `count…7` zero. Reads only
    /// `p[0..<count]`: overlapping 8-, 4-, 2- and 1-byte loads inside the range (an OR of a byte
    /// with itself is the byte), so a value ending at the last byte of a page is safe.
    @inline(__always)
    static func load(_ p: UnsafeRawPointer, count: Int) -> UInt64 {
        if count >= 8 { return UInt64(littleEndian: p.loadUnaligned(as: UInt64.self)) }
        if count >= 4 {
            let first = UInt64(UInt32(littleEndian: p.loadUnaligned(as: UInt32.self)))
            let last = UInt64(UInt32(littleEndian: p.loadUnaligned(fromByteOffset: count &- 4, as: UInt32.self)))
            return first | last &<< UInt64(truncatingIfNeeded: 8 &* (count &- 4))
        }
        if count >= 2 {
            let first = UInt64(UInt16(littleEndian: p.loadUnaligned(as: UInt16.self)))
            let last = UInt64(p.load(fromByteOffset: count &- 1, as: UInt8.self))
            return first | last &<< UInt64(truncatingIfNeeded: 8 &* (count &- 1))
        }
        return UInt64(p.load(as: UInt8.self))
    }

    /// The bytes `p[from..<to]` (1…8 of them, `to >= 8`) as a little-endian word, lanes past
    /// `to - from` zero: one 8-byte load ending at `to`, shifted down. Reads only `p[to - 8..<to]`.
    @inline(__always)
    static func loadEnding(_ p: UnsafeRawPointer, at to: Int, from: Int) -> UInt64 {
        let word = UInt64(littleEndian: p.loadUnaligned(fromByteOffset: to &- 8, as: UInt64.self))
        return word &>> UInt64(truncatingIfNeeded: 8 &* (8 &- (to &- from)))
    }

    /// Stores the low `count` (1…8) lanes of `word` to `p[0..<count]`, writing nothing outside
    /// (overlapping stores of the same bytes for 3, 5, 6 and 7).
    @inline(__always)
    static func store(_ word: UInt64, to p: UnsafeMutableRawPointer, count: Int) {
        if count >= 8 {
            p.storeBytes(of: word.littleEndian, as: UInt64.self)
        } else if count >= 4 {
            p.storeBytes(of: UInt32(truncatingIfNeeded: word).littleEndian, as: UInt32.self)
            let last = UInt32(truncatingIfNeeded: word &>> UInt64(truncatingIfNeeded: 8 &* (count &- 4)))
            p.storeBytes(of: last.littleEndian, toByteOffset: count &- 4, as: UInt32.self)
        } else if count >= 2 {
            p.storeBytes(of: UInt16(truncatingIfNeeded: word).littleEndian, as: UInt16.self)
            p.storeBytes(of: UInt8(truncatingIfNeeded: word &>> UInt64(truncatingIfNeeded: 8 &* (count &- 1))),
                         toByteOffset: count &- 1, as: UInt8.self)
        } else {
            p.storeBytes(of: UInt8(truncatingIfNeeded: word), as: UInt8.self)
        }
    }
}
