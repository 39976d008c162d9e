/// Bracketed IPv6 hosts of URL indicators.
///
/// The URL type keeps its own small parser (the WHATWG URL Standard's IPv6 parser) rather than
/// the `ipv6` indicator's: a URL host follows browser rules and is serialised the browser way.
extension URLIndicator {
    /// Writes the canonical host for the IPv6 literal `text` (without brackets): `[…]` in the
    /// WHATWG serialisation, or a dotted quad for IPv4-mapped (`::ffff:0:0/96`) and NAT64
    /// (`64:ff9b::/96`) addresses, as the Safe Browsing reference asks.
    static func writeIPv6Host(
        _ text: UnsafeBufferPointer<UInt8>, into out: inout ByteWriter
    ) throws(IndicatorError) {
        var pieces: InlineArray<8, UInt16> = .init(repeating: 0)
        if let problem = parseIPv6(text, into: &pieces) {
            throw invalid("IPv6 host '[\(quoted(text))]': \(problem)")
        }
        let mapped = pieces[0] == 0 && pieces[1] == 0 && pieces[2] == 0 && pieces[3] == 0
            && pieces[4] == 0 && pieces[5] == 0xFFFF
        let nat64 = pieces[0] == 0x64 && pieces[1] == 0xFF9B && pieces[2] == 0 && pieces[3] == 0
            && pieces[4] == 0 && pieces[5] == 0
        try mapOverflow { () throws(ByteWriter.Overflow) in
            if mapped || nat64 {
                try appendDottedQuad(UInt32(pieces[6]) << 16 | UInt32(pieces[7]), to: &out)
            } else {
                try appendIPv6(pieces, to: &out)
            }
        }
    }

    /// Parses an IPv6 address (hex groups, one `::`, optional trailing dotted IPv4) into eight
    /// pieces. Returns nil on success, or why the text is not an address.
    static func parseIPv6(
        _ text: UnsafeBufferPointer<UInt8>, into pieces: inout InlineArray<8, UInt16>
    ) -> String? {
        let colon = UInt8(ascii: ":")
        var index = 0
        var pieceIndex = 0
        var compress: Int? = nil
        if text.first == colon {
            guard text.count >= 2, text[1] == colon else { return "starts with a single ':'" }
            index = 2
            pieceIndex = 1
            compress = 1
        }
        while index < text.count {
            guard pieceIndex < 8 else { return "more than 8 groups" }
            if text[index] == colon {
                guard compress == nil else { return "more than one '::'" }
                index += 1
                pieceIndex += 1
                compress = pieceIndex
                continue
            }
            var value: UInt16 = 0
            var length = 0
            while length < 4, index < text.count, let digit = hexValue(text[index]) {
                value = value << 4 | UInt16(digit)
                index += 1
                length += 1
            }
            if index < text.count, text[index] == UInt8(ascii: ".") {
                guard length > 0, pieceIndex <= 6 else { return "misplaced embedded IPv4 address" }
                index -= length
                if let problem = parseEmbeddedIPv4(text, from: index, into: &pieces, at: pieceIndex) {
                    return problem
                }
                pieceIndex += 2
                index = text.count
                break
            }
            if index < text.count {
                guard text[index] == colon else {
                    return length == 4 && hexValue(text[index]) != nil
                        ? "a group has more than 4 hex digits"
                        : "unexpected character at offset \(index + 1)"
                }
                index += 1
                guard index < text.count else { return "ends with a single ':'" }
            }
            guard length > 0 else { return "empty group" }
            pieces[pieceIndex] = value
            pieceIndex += 1
        }
        if let compress {
            var swaps = pieceIndex - compress
            pieceIndex = 7
            while pieceIndex != 0, swaps > 0 {
                let moved = pieces[compress + swaps - 1]
                pieces[compress + swaps - 1] = pieces[pieceIndex]
                pieces[pieceIndex] = moved
                pieceIndex -= 1
                swaps -= 1
            }
        } else if pieceIndex != 8 {
            return "fewer than 8 groups and no '::'"
        }
        return nil
    }

    /// The dotted IPv4 tail of an IPv6 address (strict: four decimal parts, no leading zeros),
    /// stored in pieces `at` and `at + 1`. Returns nil on success.
    private static func parseEmbeddedIPv4(
        _ text: UnsafeBufferPointer<UInt8>, from start: Int,
        into pieces: inout InlineArray<8, UInt16>, at pieceIndex: Int
    ) -> String? {
        var index = start
        var numbers = 0
        var address: UInt32 = 0
        while index < text.count {
            if numbers > 0 {
                guard text[index] == UInt8(ascii: "."), numbers < 4 else {
                    return "invalid embedded IPv4 address"
                }
                index += 1
            }
            guard index < text.count, isASCIIDigit(text[index]) else {
                return "invalid embedded IPv4 address"
            }
            var part: UInt32? = nil
            while index < text.count, isASCIIDigit(text[index]) {
                let digit = UInt32(text[index] - 0x30)
                if let current = part {
                    guard current != 0 else { return "leading zero in the embedded IPv4 address" }
                    part = current * 10 + digit
                } else {
                    part = digit
                }
                guard part! <= 255 else { return "embedded IPv4 part above 255" }
                index += 1
            }
            address = address << 8 | part!
            numbers += 1
        }
        guard numbers == 4 else { return "embedded IPv4 address has \(numbers) parts, not 4" }
        pieces[pieceIndex] = UInt16(truncatingIfNeeded: address >> 16)
        pieces[pieceIndex + 1] = UInt16(truncatingIfNeeded: address)
        return nil
    }

    /// Appends `[a:b::c]`: lower-case hex without leading zeros, the first longest run of two
    /// or more zero pieces written as `::`.
    static func appendIPv6(
        _ pieces: InlineArray<8, UInt16>, to out: inout ByteWriter
    ) throws(ByteWriter.Overflow) {
        var bestStart = -1
        var bestLength = 1
        var runStart = -1
        for index in 0..<8 {
            if pieces[index] == 0 {
                if runStart < 0 { runStart = index }
                if index - runStart + 1 > bestLength {
                    bestStart = runStart
                    bestLength = index - runStart + 1
                }
            } else {
                runStart = -1
            }
        }
        try out.append(UInt8(ascii: "["))
        var index = 0
        while index < 8 {
            if index == bestStart {
                try out.append(UInt8(ascii: ":"))
                if index == 0 { try out.append(UInt8(ascii: ":")) }
                index += bestLength
                continue
            }
            let piece = pieces[index]
            var started = false
            for shift in stride(from: 12, through: 0, by: -4) {
                let nibble = UInt8(truncatingIfNeeded: piece >> UInt16(shift)) & 0x0F
                if nibble != 0 || started || shift == 0 {
                    try out.append(nibble < 10 ? 0x30 + nibble : 0x61 + nibble - 10)
                    started = true
                }
            }
            index += 1
            if index < 8 { try out.append(UInt8(ascii: ":")) }
        }
        try out.append(UInt8(ascii: "]"))
    }
}
