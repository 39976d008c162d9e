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

    /// The same check over a buffer, eight ASCII bytes at a time: for whole feed files.
    package static func firstInvalid(_ bytes: UnsafeBufferPointer<UInt8>) -> Int? {
        guard let base = bytes.baseAddress else { return nil }
        let count = bytes.count
        var index = 0
        while index < count {
            // Fast path: eight ASCII bytes at a time.
            while index + 8 <= count {
                let word = UnsafeRawPointer(base + index).loadUnaligned(as: UInt64.self)
                if word & 0x8080_8080_8080_8080 != 0 { break }
                index += 8
            }
            guard index < count else { return nil }
            let lead = base[index]
            if lead < 0x80 {
                index += 1
                continue
            }
            let length: Int
            var lower: UInt8 = 0x80
            var upper: UInt8 = 0xBF
            switch lead {
            case 0xC2...0xDF: length = 2
            case 0xE0: length = 3; lower = 0xA0
            case 0xE1...0xEC, 0xEE...0xEF: length = 3
            case 0xED: length = 3; upper = 0x9F
            case 0xF0: length = 4; lower = 0x90
            case 0xF1...0xF3: length = 4
            case 0xF4: length = 4; upper = 0x8F
            default: return index
            }
            guard index + length <= count else { return index }
            let second = base[index + 1]
            guard second >= lower, second <= upper else { return index }
            for offset in 2..<length where base[index + offset] & 0xC0 != 0x80 {
                return index
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
