/// The strict IPv4 / IPv6 text parsers and the CIDR prefix-length parser. Success paths work
/// on bytes and do not allocate; the `@inline(never)` helpers build refusal reasons.
extension IPIndicator {
    /// Parses strict dotted decimal in `p[start..<end]`, stopping at a `/`.
    /// Returns the address and the index where parsing stopped (`end` or the `/`).
    /// `type` is `.ipv6` for the dotted tail of an IPv6 address (reasons then say so).
    @inline(__always)
    static func parseDottedQuad(
        _ p: UnsafeBufferPointer<UInt8>, from start: Int, to end: Int, reportAs type: IndicatorType
    ) throws(IndicatorError) -> (address: UInt32, stop: Int) {
        var value: UInt32 = 0
        var octet: UInt32 = 0
        var digits = 0
        var octets = 0
        var octetStart = start
        var i = start
        while i < end {
            let c = p[i]
            if c &- 0x30 < 10 {
                if digits == 1 && octet == 0 {
                    throw v4OctetFailure(p, octetStart, end, octets, type, leadingZero: true)
                }
                octet = octet &* 10 &+ UInt32(c &- 0x30)
                digits += 1
                if octet > 255 { throw v4OctetFailure(p, octetStart, end, octets, type, leadingZero: false) }
            } else if c == 0x2E {
                if digits == 0 || octets == 3 { throw v4DotFailure(p, start, i, end, octets, type) }
                value = value << 8 | octet
                octets += 1
                octet = 0
                digits = 0
                octetStart = i + 1
            } else if c == 0x2F {
                break
            } else {
                throw v4CharacterFailure(p, at: i, start, end, octets, digits, octet, type)
            }
            i += 1
        }
        if digits == 0 || octets < 3 { throw v4EndFailure(p, start, i, octets, digits, type) }
        return (value << 8 | octet, i)
    }

    /// Parses RFC 4291 §2.2 text in `p[start..<end]` (no brackets, zone or prefix) into the
    /// high and low 64 bits of the address.
    static func parseV6(
        _ p: UnsafeBufferPointer<UInt8>, from start: Int, to end: Int
    ) throws(IndicatorError) -> (UInt64, UInt64) {
        guard start < end else { throw .invalid(.ipv6, reason: "no address") }
        var groups = SIMD8<UInt16>()
        var count = 0
        var gap = -1  // index in `groups` where "::" stands
        var i = start
        if p[i] == 0x3A {
            guard i + 1 < end, p[i + 1] == 0x3A else {
                throw .invalid(.ipv6, reason: "starts with a single ':' (leading zero groups are written '::')")
            }
            gap = 0
            i += 2
            if i < end, p[i] == 0x3A { throw .invalid(.ipv6, reason: "':::' is not valid") }
        }
        while i < end {
            let groupStart = i
            var value: UInt16 = 0
            var digits = 0
            while i < end, let h = ByteText.hexValue(p[i]) {
                value = value << 4 | UInt16(h)
                digits += 1
                i += 1
            }
            if digits > 0, i < end, p[i] == 0x2E {
                if count == 0 && gap < 0 {
                    throw .invalid(.ipv6, reason: "this is IPv4 text, not IPv6 (use type ipv4)")
                }
                guard count <= 6 else {
                    throw .invalid(.ipv6, reason:
                        "an embedded IPv4 part must be the last 32 bits (at most 6 groups before it)")
                }
                let (v4, _) = try parseDottedQuad(p, from: groupStart, to: end, reportAs: .ipv6)
                groups[count] = UInt16(truncatingIfNeeded: v4 >> 16)
                groups[count + 1] = UInt16(truncatingIfNeeded: v4)
                count += 2
                i = end
                break
            }
            guard digits > 0 else { throw v6CharacterFailure(p, at: i) }
            guard digits <= 4 else {
                throw .invalid(.ipv6, reason: "group \(count + 1) ('\(ByteText.quote(p, groupStart..<i))')"
                    + " has more than 4 hex digits")
            }
            guard count < 8 else { throw .invalid(.ipv6, reason: "more than 8 groups") }
            groups[count] = value
            count += 1
            if i == end { break }
            guard p[i] == 0x3A else { throw v6CharacterFailure(p, at: i) }
            i += 1
            guard i < end else {
                throw .invalid(.ipv6, reason: "ends with a single ':' (trailing zero groups are written '::')")
            }
            if p[i] == 0x3A {
                guard gap < 0 else { throw .invalid(.ipv6, reason: "more than one '::'") }
                gap = count
                i += 1
                if i < end, p[i] == 0x3A { throw .invalid(.ipv6, reason: "':::' is not valid") }
            }
        }
        if gap < 0 {
            guard count == 8 else {
                throw .invalid(.ipv6, reason: count == 1
                    ? "no ':' between groups: this is not IPv6 text"
                    : "only \(count) groups and no '::' (an IPv6 address has 8)")
            }
        } else if count == 8 {
            throw .invalid(.ipv6, reason: "'::' must stand for at least one zero group, but all 8 are written")
        } else {
            let tail = count - gap
            var k = 7
            while k >= 8 - tail {  // move the groups after "::" to the end, zero the gap
                groups[k] = groups[k - 8 + count]
                k -= 1
            }
            while k >= gap {
                groups[k] = 0
                k -= 1
            }
        }
        let hi = UInt64(groups[0]) << 48 | UInt64(groups[1]) << 32 | UInt64(groups[2]) << 16
            | UInt64(groups[3])
        let lo = UInt64(groups[4]) << 48 | UInt64(groups[5]) << 32 | UInt64(groups[6]) << 16
            | UInt64(groups[7])
        return (hi, lo)
    }

    /// Parses the decimal prefix length in `p[start...]` (after the `/`).
    static func parsePrefixLength(
        _ p: UnsafeBufferPointer<UInt8>, from start: Int, maximum: Int, reportAs type: IndicatorType
    ) throws(IndicatorError) -> Int {
        let end = p.count
        guard start < end else { throw .invalid(type, reason: "missing prefix length after '/'") }
        var value = 0
        var i = start
        while i < end {
            let c = p[i]
            guard ByteText.isDigit(c) else {
                throw .invalid(type, reason: "prefix length must be decimal digits, found "
                    + "\(ByteText.character(p, at: i)) at position \(i + 1)")
            }
            value = min(value * 10 + Int(c - 0x30), 1000)
            i += 1
        }
        guard p[start] != 0x30 || end - start == 1 else {
            throw .invalid(type, reason: "prefix length '\(ByteText.quote(p, start..<end))' has a leading zero")
        }
        guard value <= maximum else {
            throw .invalid(type, reason:
                "prefix length \(ByteText.quote(p, start..<end)) is out of range 0–\(maximum)")
        }
        return value
    }

    // MARK: - Refusal reasons (error path only)

    @inline(never)
    static func v4Reason(_ type: IndicatorType, _ reason: String) -> IndicatorError {
        .invalid(type, reason: type == .ipv4 ? reason : "in the embedded IPv4 part: " + reason)
    }

    /// The text of the octet starting at `octetStart`, up to the next `.` or `/`.
    static func octetText(_ p: UnsafeBufferPointer<UInt8>, _ octetStart: Int, _ end: Int) -> String {
        var stop = octetStart
        while stop < end, p[stop] != 0x2E, p[stop] != 0x2F { stop += 1 }
        return ByteText.quote(p, octetStart..<stop)
    }

    @inline(never)
    static func v4OctetFailure(
        _ p: UnsafeBufferPointer<UInt8>, _ octetStart: Int, _ end: Int, _ octets: Int,
        _ type: IndicatorType, leadingZero: Bool
    ) -> IndicatorError {
        let text = octetText(p, octetStart, end)
        if leadingZero {
            return v4Reason(type, "leading zero in octet \(octets + 1) ('\(text)') is ambiguous (octal?)")
        }
        var stop = octetStart
        while stop < end, ByteText.isDigit(p[stop]) { stop += 1 }
        if octets == 0 && (stop == end || p[stop] == 0x2F) {
            return bareNumberReason(type)
        }
        return v4Reason(type, "octet \(octets + 1) ('\(text)') is greater than 255")
    }

    static func bareNumberReason(_ type: IndicatorType) -> IndicatorError {
        v4Reason(type, "a bare number is not an IPv4 address (32-bit integer forms like "
            + "'3279880203' are read differently by different parsers); write four dotted octets")
    }

    @inline(never)
    static func v4DotFailure(
        _ p: UnsafeBufferPointer<UInt8>, _ start: Int, _ i: Int, _ end: Int, _ octets: Int,
        _ type: IndicatorType
    ) -> IndicatorError {
        if i == start { return v4Reason(type, "starts with a '.'") }
        if octets == 3 && p[i - 1] != 0x2E {
            if i + 1 == end || p[i + 1] == 0x2F {
                return v4Reason(type, "trailing dot after the fourth octet")
            }
            return v4Reason(type, "more than 4 octets")
        }
        return v4Reason(type, "empty octet ('..') at position \(i + 1)")
    }

    @inline(never)
    static func v4EndFailure(
        _ p: UnsafeBufferPointer<UInt8>, _ start: Int, _ i: Int, _ octets: Int, _ digits: Int,
        _ type: IndicatorType
    ) -> IndicatorError {
        if i == start {
            return v4Reason(type, i < p.count && p[i] == 0x2F ? "no address before the '/'" : "no address")
        }
        if digits == 0 { return v4Reason(type, "trailing dot") }
        if octets == 0 { return bareNumberReason(type) }
        return v4Reason(type, "only \(octets + 1) octets: short forms like '127.1' are read "
            + "differently by different parsers; write all four")
    }

    @inline(never)
    static func v4CharacterFailure(
        _ p: UnsafeBufferPointer<UInt8>, at i: Int, _ start: Int, _ end: Int, _ octets: Int,
        _ digits: Int, _ octet: UInt32, _ type: IndicatorType
    ) -> IndicatorError {
        let c = p[i]
        let at = "at position \(i + 1)"
        if (c | 0x20) == 0x78 && digits == 1 && octet == 0 {
            var octetStart = i - 1
            while octetStart > start, p[octetStart - 1] != 0x2E { octetStart -= 1 }
            return v4Reason(type, "hex octet \(octets + 1) ('\(octetText(p, octetStart, end))') is not "
                + "allowed; write decimal")
        }
        if c == 0x3A && type == .ipv4 {
            if octets == 3 && digits > 0 {
                return v4Reason(type, "':' \(at): a port is not part of an IPv4 indicator")
            }
            return v4Reason(type, "':' \(at): this is IPv6 text, not IPv4 (use type ipv6)")
        }
        if c == 0x5B, end - i >= 3, p[i + 1] == 0x2E, p[i + 2] == 0x5D {
            return v4Reason(type, "defanged '[.]' \(at): refang the value first")
        }
        if c == 0xEF, end - i >= 3, p[i + 1] == 0xBC {
            if p[i + 2] >= 0x90 && p[i + 2] <= 0x99 {
                return v4Reason(type, "fullwidth digit \(ByteText.character(p, at: i)) \(at): "
                    + "only ASCII digits are allowed")
            }
            if p[i + 2] == 0x8E {
                return v4Reason(type, "fullwidth full stop \(ByteText.character(p, at: i)) \(at): "
                    + "only ASCII '.' separates octets")
            }
        }
        return v4Reason(type, "\(ByteText.character(p, at: i)) \(at): only digits and '.' are allowed")
    }

    @inline(never)
    static func v6CharacterFailure(_ p: UnsafeBufferPointer<UInt8>, at i: Int) -> IndicatorError {
        .invalid(.ipv6, reason: "\(ByteText.character(p, at: i)) at position \(i + 1): only hex digits, "
            + "':' and an IPv4 tail are allowed")
    }
}
