/// IPv4 and IPv6 addresses and CIDR networks.
///
/// Accepted text (strict; anything ambiguous is refused with the reason):
/// - IPv4: dotted decimal, exactly four octets 0–255, no leading zeros. Octal (`0177`), hex
///   (`0x7f`), short (`127.1`) and bare-integer (`3279880203`) forms are refused: BSD
///   `inet_aton` and WHATWG read them differently from naive parsers (CVE-2021-29921).
/// - IPv6: the RFC 4291 §2.2 text forms, including `::` and an embedded dotted-quad tail,
///   optionally in URL brackets (`[2001:db8::1]`). Zone ids (`fe80::1%eth0`) are refused:
///   they only mean something on one host.
/// - Either, followed by `/len` (CIDR). The length has no leading zeros and is in range; an
///   address with host bits set is refused, naming the network it probably meant. `/32` and
///   `/128` are plain addresses.
///
/// IPv4-mapped IPv6 (`::ffff:a.b.c.d`, RFC 4291 §2.5.5.2) is the IPv4 address:
/// `canonicalizeV6` returns an `.ipv4` form for it (`::ffff:10.0.0.0/104` is `10.0.0.0/8`),
/// so the two spellings share one digest. `canonicalizeV4` accepts IPv4 text only.
///
/// Canonical bytes: 4 or 16 network-order bytes, plus one prefix-length byte for a network.
/// The dotted-quad path does not allocate (it is on the matcher's hot path).
enum IPIndicator {
    /// Canonicalises IPv4 text (`a.b.c.d` or `a.b.c.d/len`).
    static func canonicalizeV4(
        _ input: UnsafeBufferPointer<UInt8>, into out: inout ByteWriter
    ) throws(IndicatorError) -> CanonicalForm {
        let (address, stop) = try parseDottedQuad(input, from: 0, to: input.count, reportAs: .ipv4)
        var prefix = 32
        if stop < input.count {
            prefix = try parsePrefixLength(input, from: stop + 1, maximum: 32, reportAs: .ipv4)
            let masked = address & maskV4(prefix)
            if masked != address {
                throw .invalid(.ipv4, reason: hostBitsReason(
                    given: textV4(address, prefix: prefix), meant: textV4(masked, prefix: prefix)))
            }
        }
        return try writeV4(address, prefix: prefix, into: &out)
    }

    /// Canonicalises IPv6 text (`addr`, `[addr]`, `addr/len`, `[addr]/len`). IPv4-mapped
    /// addresses and networks come back as `.ipv4`.
    static func canonicalizeV6(
        _ input: UnsafeBufferPointer<UInt8>, into out: inout ByteWriter
    ) throws(IndicatorError) -> CanonicalForm {
        let end = input.count
        var slash = end
        var percent = end
        var close = end
        var i = 0
        while i < end {
            switch input[i] {
            case 0x2F where slash == end: slash = i
            case 0x25 where percent == end: percent = i
            case 0x5D where close == end: close = i
            default: break
            }
            i += 1
        }
        if percent < end {
            var zoneEnd = percent + 1
            while zoneEnd < end, input[zoneEnd] != 0x2F, input[zoneEnd] != 0x5D { zoneEnd += 1 }
            throw .invalid(.ipv6, reason: "zone id '\(ByteText.quote(input, percent..<zoneEnd))'"
                + " only means something on one host; drop it")
        }
        var start = 0
        var addressEnd = slash
        if end > 0, input[0] == 0x5B {  // "[addr]" or "[addr]/len", as in URLs
            guard close < end else { throw .invalid(.ipv6, reason: "'[' without a closing ']'") }
            guard close < slash else {
                throw .invalid(.ipv6, reason: "the prefix length goes after the ']' ([addr]/len)")
            }
            guard close + 1 == slash else {
                throw .invalid(.ipv6, reason: "unexpected text after ']' (only '/len' may follow)")
            }
            start = 1
            addressEnd = close
        }
        let (hi, lo) = try parseV6(input, from: start, to: addressEnd)
        var prefix = 128
        if slash < end {
            prefix = try parsePrefixLength(input, from: slash + 1, maximum: 128, reportAs: .ipv6)
            let (maskHi, maskLo) = maskV6(prefix)
            let (netHi, netLo) = (hi & maskHi, lo & maskLo)
            if netHi != hi || netLo != lo {
                let given: String
                let meant: String
                if isMappedV4(hi, lo), prefix >= 96 {
                    given = textV4(UInt32(truncatingIfNeeded: lo), prefix: prefix - 96)
                    meant = textV4(UInt32(truncatingIfNeeded: netLo), prefix: prefix - 96)
                } else {
                    given = textV6(hi, lo, prefix: prefix)
                    meant = textV6(netHi, netLo, prefix: prefix)
                }
                throw .invalid(.ipv6, reason: hostBitsReason(given: given, meant: meant))
            }
        }
        if isMappedV4(hi, lo), prefix >= 96 {
            return try writeV4(UInt32(truncatingIfNeeded: lo), prefix: prefix - 96, into: &out)
        }
        guard out.remaining >= 17 else { throw .tooLong(limit: Canonicalizer.maxInputBytes) }
        var shift: UInt64 = 56
        for _ in 0..<8 {
            try ByteText.write(UInt8(truncatingIfNeeded: hi >> shift), to: &out)
            shift &-= 8
        }
        shift = 56
        for _ in 0..<8 {
            try ByteText.write(UInt8(truncatingIfNeeded: lo >> shift), to: &out)
            shift &-= 8
        }
        if prefix < 128 { try ByteText.write(UInt8(prefix), to: &out) }
        return CanonicalForm(type: .ipv6, prefixLength: UInt8(prefix))
    }

    /// `::ffff:0:0/96`, RFC 4291 §2.5.5.2.
    @inline(__always)
    static func isMappedV4(_ hi: UInt64, _ lo: UInt64) -> Bool {
        hi == 0 && lo >> 32 == 0xFFFF
    }

    @inline(__always)
    static func maskV4(_ prefix: Int) -> UInt32 {
        prefix == 0 ? 0 : ~UInt32(0) << UInt32(32 - prefix)
    }

    @inline(__always)
    static func maskV6(_ prefix: Int) -> (UInt64, UInt64) {
        if prefix >= 64 {
            return (~0, prefix == 64 ? 0 : ~UInt64(0) << UInt64(128 - prefix))
        }
        return (prefix == 0 ? 0 : ~UInt64(0) << UInt64(64 - prefix), 0)
    }

    @inline(__always)
    static func writeV4(
        _ address: UInt32, prefix: Int, into out: inout ByteWriter
    ) throws(IndicatorError) -> CanonicalForm {
        guard out.remaining >= 5 else { throw .tooLong(limit: Canonicalizer.maxInputBytes) }
        try ByteText.write(UInt8(truncatingIfNeeded: address >> 24), to: &out)
        try ByteText.write(UInt8(truncatingIfNeeded: address >> 16), to: &out)
        try ByteText.write(UInt8(truncatingIfNeeded: address >> 8), to: &out)
        try ByteText.write(UInt8(truncatingIfNeeded: address), to: &out)
        if prefix < 32 { try ByteText.write(UInt8(prefix), to: &out) }
        return CanonicalForm(type: .ipv4, prefixLength: UInt8(prefix))
    }

    static func hostBitsReason(given: String, meant: String) -> String {
        "host bits set: \(given) — did you mean \(meant)?"
    }
}
