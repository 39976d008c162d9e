/// Well-formed UTF-8 as Unicode defines it (Table 3-7: no overlong forms, no surrogates,
/// nothing past U+10FFFF), checked over raw bytes without decoding. Shared by the URL and
/// e-mail canonicalisers, the policy parser and the wire protocol's text rules.
package enum UTF8Check {
    /// The offset (from `bytes.startIndex`) of the first byte that starts an ill-formed
    /// sequence, or nil when all of `bytes` is well-formed.
    package static func firstInvalid<C: Collection<UInt8>>(_ bytes: C) -> Int? where C.Index == Int {
        var index = bytes.startIndex
        let end = bytes.endIndex
        while index < end {
            let lead = bytes[index]
            if lead < 0x80 {
                index += 1
                continue
            }
            let length: Int
            var low: UInt8 = 0x80
            var high: UInt8 = 0xBF
            switch lead {
            case 0xC2...0xDF: length = 2
            case 0xE0: length = 3; low = 0xA0
            case 0xE1...0xEC, 0xEE...0xEF: length = 3
            case 0xED: length = 3; high = 0x9F
            case 0xF0: length = 4; low = 0x90
            case 0xF1...0xF3: length = 4
            case 0xF4: length = 4; high = 0x8F
            default: return index - bytes.startIndex
            }
            guard end - index >= length else { return index - bytes.startIndex }
            let second = bytes[index + 1]
            guard second >= low && second <= high else { return index - bytes.startIndex }
            for offset in 2..<length where bytes[index + offset] & 0xC0 != 0x80 {
                return index - bytes.startIndex
            }
            index += length
        }
        return nil
    }

    /// Whether all of `bytes` is well-formed UTF-8.
    package static func isWellFormed<C: Collection<UInt8>>(_ bytes: C) -> Bool where C.Index == Int {
        firstInvalid(bytes) == nil
    }
}
