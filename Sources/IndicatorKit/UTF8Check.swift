/// Well-formed UTF-8 as Unicode defines it (Table 3-7: no overlong forms, no surrogates,
/// nothing past U+10FFFF), checked over raw bytes without decoding. Shared by the URL and
/// e-mail canonicalisers, the policy and feed JSON parsers and the wire protocol's text rules.
package enum UTF8Check {
    /// The offset (from `bytes.startIndex`) of the first byte that starts an ill-formed
    /// sequence, or nil when all of `bytes` is well-formed.
    package static func firstInvalid<C: Collection<UInt8>>(_ bytes: C) -> Int? where C.Index == Int {
        var index = bytes.startIndex
        while index < bytes.endIndex {
            if bytes[index] < 0x80 {
                index += 1
            } else if let length = multiByteLength(bytes, at: index) {
                index += length
            } else {
                return index - bytes.startIndex
            }
        }
        return nil
    }

    /// The same check over a buffer, eight ASCII bytes at a time: for whole feed files.
    package static func firstInvalid(_ bytes: UnsafeBufferPointer<UInt8>) -> Int? {
        guard let base = bytes.baseAddress else { return nil }
        var index = 0
        while index < bytes.count {
            while index + 8 <= bytes.count,
                  UnsafeRawPointer(base + index).loadUnaligned(as: UInt64.self) & 0x8080_8080_8080_8080 == 0 {
                index += 8
            }
            guard index < bytes.count else { return nil }
            if bytes[index] < 0x80 {
                index += 1
            } else if let length = multiByteLength(bytes, at: index) {
                index += length
            } else {
                return index
            }
        }
        return nil
    }

    /// Whether all of `bytes` is well-formed UTF-8.
    package static func isWellFormed<C: Collection<UInt8>>(_ bytes: C) -> Bool where C.Index == Int {
        firstInvalid(bytes) == nil
    }

    /// The length of the well-formed sequence whose (non-ASCII) lead byte is at `index`, or nil
    /// when the lead byte, a continuation byte or the end of `bytes` makes it ill-formed.
    @inline(__always)
    private static func multiByteLength<C: Collection<UInt8>>(_ bytes: C, at index: Int) -> Int?
    where C.Index == Int {
        let length: Int
        var low: UInt8 = 0x80
        var high: UInt8 = 0xBF
        switch bytes[index] {
        case 0xC2...0xDF: length = 2
        case 0xE0: length = 3; low = 0xA0
        case 0xE1...0xEC, 0xEE...0xEF: length = 3
        case 0xED: length = 3; high = 0x9F
        case 0xF0: length = 4; low = 0x90
        case 0xF1...0xF3: length = 4
        case 0xF4: length = 4; high = 0x8F
        default: return nil
        }
        guard bytes.endIndex - index >= length else { return nil }
        let second = bytes[index + 1]
        guard second >= low && second <= high else { return nil }
        for offset in 2..<length where bytes[index + offset] & 0xC0 != 0x80 { return nil }
        return length
    }
}
