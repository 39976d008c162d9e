/// Text forms of canonical addresses and networks: dotted decimal for IPv4, RFC 5952 for IPv6
/// (lower-case hex, no leading zeros, `::` for the longest run of two or more zero groups,
/// the first such run on a tie, mixed notation for IPv4-mapped addresses).
extension IPIndicator {
    /// The text of canonical `bytes` (4 or 16 bytes, plus a prefix-length byte for a network):
    /// `10.0.0.0/8`, `2001:db8::/32`, `2001:db8::1`. Bytes that are not a canonical IP form
    /// are shown as hex rather than trusted.
    static func display(_ form: CanonicalForm, bytes: [UInt8]) -> String {
        switch (form.type, bytes.count) {
        case (.ipv4, 4), (.ipv4, 5):
            let prefix = bytes.count == 5 ? Int(bytes[4]) : 32
            guard prefix <= 32 else { break }
            let address = UInt32(bytes[0]) << 24 | UInt32(bytes[1]) << 16 | UInt32(bytes[2]) << 8
                | UInt32(bytes[3])
            return textV4(address, prefix: prefix)
        case (.ipv6, 16), (.ipv6, 17):
            let prefix = bytes.count == 17 ? Int(bytes[16]) : 128
            guard prefix <= 128 else { break }
            var hi: UInt64 = 0
            var lo: UInt64 = 0
            for k in 0..<8 {
                hi = hi << 8 | UInt64(bytes[k])
                lo = lo << 8 | UInt64(bytes[k + 8])
            }
            return textV6(hi, lo, prefix: prefix)
        default:
            break
        }
        return "<not an IP form: " + bytes.map { ByteText.hex2($0) }.joined() + ">"
    }

    /// `a.b.c.d`, with `/len` when `prefix` < 32.
    static func textV4(_ address: UInt32, prefix: Int) -> String {
        var text = "\(address >> 24).\(address >> 16 & 0xFF).\(address >> 8 & 0xFF).\(address & 0xFF)"
        if prefix < 32 { text += "/\(prefix)" }
        return text
    }

    /// RFC 5952 text, with `/len` when `prefix` < 128.
    static func textV6(_ hi: UInt64, _ lo: UInt64, prefix: Int) -> String {
        var text: String
        if isMappedV4(hi, lo) {  // RFC 5952 §5: mixed notation for IPv4-mapped addresses
            text = "::ffff:" + textV4(UInt32(truncatingIfNeeded: lo), prefix: 32)
        } else {
            var groups = [UInt16](repeating: 0, count: 8)
            for k in 0..<4 {
                groups[k] = UInt16(truncatingIfNeeded: hi >> UInt64(48 - 16 * k))
                groups[k + 4] = UInt16(truncatingIfNeeded: lo >> UInt64(48 - 16 * k))
            }
            // Longest run of zero groups, at least two long; the first one wins a tie (§4.2).
            var bestStart = -1
            var bestLength = 1
            var k = 0
            while k < 8 {
                guard groups[k] == 0 else { k += 1; continue }
                var runEnd = k
                while runEnd < 8, groups[runEnd] == 0 { runEnd += 1 }
                if runEnd - k > bestLength {
                    bestStart = k
                    bestLength = runEnd - k
                }
                k = runEnd
            }
            text = ""
            k = 0
            while k < 8 {
                if k == bestStart {
                    text += "::"
                    k += bestLength
                    continue
                }
                if !text.isEmpty && !text.hasSuffix(":") { text += ":" }
                text += String(groups[k], radix: 16)
                k += 1
            }
        }
        if prefix < 128 { text += "/\(prefix)" }
        return text
    }
}
