/// Host canonicalisation for URL indicators (step 6 of `URLIndicator`'s documentation).
extension URLIndicator {
    /// Writes the canonical form of `host` (unescaped, port and userinfo already removed).
    static func writeHost(
        _ host: UnsafeBufferPointer<UInt8>, scheme: Scheme, into out: inout ByteWriter
    ) throws(IndicatorError) {
        if host.first == UInt8(ascii: "[") {
            // splitPort guarantees the literal ends with ']'.
            let inner = UnsafeBufferPointer(rebasing: host[1..<(host.count - 1)])
            return try writeIPv6Host(inner, into: &out)
        }
        let start = out.count
        try mapOverflow { () throws(ByteWriter.Overflow) in try out.append(host) }
        if normaliseHostInPlace(from: start, in: &out),
            isValidUTF8(UnsafeBufferPointer(rebasing: out.written[start...]))
        {
            try convertToASCII(from: start, in: &out)
            _ = normaliseHostInPlace(from: start, in: &out)
        }
        guard out.count > start else { throw invalid("missing host after '\(scheme.text)://'") }
        // A bracket is only legal around an IPv6 literal; kept inside a name, the canonical
        // form would be read back as a broken literal (found by the mutation fuzzer).
        if out.written[start...].contains(where: { $0 == UInt8(ascii: "[") || $0 == UInt8(ascii: "]") }) {
            throw invalid("host '\(String(decoding: UnsafeBufferPointer(rebasing: out.written[start...]), as: UTF8.self))' contains '[' or ']' outside an IPv6 literal")
        }
        if let address = try parseIPv4Host(UnsafeBufferPointer(rebasing: out.written[start...])) {
            out.truncate(to: start)
            try mapOverflow { () throws(ByteWriter.Overflow) in try appendDottedQuad(address, to: &out) }
        } else {
            try mapOverflow { () throws(ByteWriter.Overflow) in try escapeInPlace(from: start, in: &out) }
        }
    }

    /// Lower-cases ASCII letters, removes leading and trailing dots and collapses runs of dots
    /// in the bytes of `out` from `start` on, in place. Returns whether a non-ASCII byte is left.
    static func normaliseHostInPlace(from start: Int, in out: inout ByteWriter) -> Bool {
        var write = start
        var pendingDot = false
        var nonASCII = false
        for read in start..<out.count {
            let byte = out[read]
            if byte == UInt8(ascii: ".") {
                pendingDot = write > start
                continue
            }
            if pendingDot {
                out.set(UInt8(ascii: "."), at: write)
                write += 1
                pendingDot = false
            }
            nonASCII = nonASCII || byte >= 0x80
            out.set(lowercased(byte), at: write)
            write += 1
        }
        out.truncate(to: write)
        return nonASCII
    }

    /// Replaces the host at the end of `out` (from `start`) by its UTS #46 ToASCII form.
    /// `DomainIndicator` refusals become URL refusals naming the host.
    private static func convertToASCII(
        from start: Int, in out: inout ByteWriter
    ) throws(IndicatorError) {
        let length = out.count - start
        try withUnsafeTemporaryAllocation(of: UInt8.self, capacity: length) {
            (copy) throws(IndicatorError) in
            _ = copy.initialize(from: UnsafeBufferPointer(rebasing: out.written[start...]))
            out.truncate(to: start)
            let unicode = UnsafeBufferPointer(copy)
            do throws(IndicatorError) {
                try DomainIndicator.toASCII(unicode, into: &out)
            } catch {
                switch error {
                case .invalid(_, let reason):
                    throw invalid("host '\(String(decoding: unicode, as: UTF8.self))': \(reason)")
                case .empty:
                    throw invalid("host '\(String(decoding: unicode, as: UTF8.self))' is empty after IDNA mapping")
                default:
                    throw error
                }
            }
        }
    }

    /// Appends `a.b.c.d` for an address in host order.
    static func appendDottedQuad(_ address: UInt32, to out: inout ByteWriter) throws(ByteWriter.Overflow) {
        for shift in stride(from: 24, through: 0, by: -8) {
            let octet = UInt8(truncatingIfNeeded: address >> UInt32(shift))
            if octet >= 100 { try out.append(0x30 + octet / 100) }
            if octet >= 10 { try out.append(0x30 + (octet / 10) % 10) }
            try out.append(0x30 + octet % 10)
            if shift > 0 { try out.append(UInt8(ascii: ".")) }
        }
    }

    // MARK: - Lenient IPv4 hosts

    /// Parses a (lower-cased, dot-normalised) URL host as an IPv4 address the way browsers do
    /// (the WHATWG URL Standard's IPv4 parser, i.e. inet_aton's legal forms): 1 to 4 parts,
    /// each decimal, octal (leading `0`) or hex (`0x`, which alone means 0); all parts but the
    /// last at most 255, the last filling the remaining bytes.
    ///
    /// Returns nil when the host does not end in a number (it is a name). Throws when it does
    /// but is not a valid address: a browser refuses such a URL, so a feed entry like
    /// `http://256.0.0.1/` is a mistake to report, not a name to store.
    ///
    /// Unlike Google's Go client this does not wrap parts modulo 256 (`276.2.3` is refused,
    /// not `20.2.0.3`) and does not ignore text after a space (`10.1.2.3 xy` is a name).
    static func parseIPv4Host(_ host: UnsafeBufferPointer<UInt8>) throws(IndicatorError) -> UInt32? {
        var name = host
        if name.last == UInt8(ascii: ".") { name = UnsafeBufferPointer(rebasing: name.dropLast()) }
        guard !name.isEmpty else { return nil }
        let lastStart = (name.lastIndex(of: UInt8(ascii: ".")).map { $0 + 1 }) ?? 0
        let last = UnsafeBufferPointer(rebasing: name[lastStart...])
        let lastIsDigits = !last.isEmpty && last.allSatisfy(isASCIIDigit)
        guard lastIsDigits || ipv4Number(last, syntaxOnly: true) != nil else { return nil }

        var parts = 0
        for byte in name where byte == UInt8(ascii: ".") { parts += 1 }
        parts += 1
        guard parts <= 4 else {
            throw invalid("host '\(quoted(host))' ends in a number but has \(parts) parts (an IPv4 address has at most 4)")
        }
        var address: UInt64 = 0
        var index = 0
        var partStart = 0
        while partStart <= name.count {
            var partEnd = partStart
            while partEnd < name.count, name[partEnd] != UInt8(ascii: ".") { partEnd += 1 }
            let part = UnsafeBufferPointer(rebasing: name[partStart..<partEnd])
            index += 1
            guard let value = ipv4Number(part) else {
                let problem = ipv4Number(part, syntaxOnly: true) != nil
                    ? "is above 4294967295" : "is not a decimal, octal or hex number"
                throw invalid("host '\(quoted(host))' ends in a number but part \(index) ('\(quoted(part))') \(problem)")
            }
            if index < parts {
                guard value <= 255 else {
                    throw invalid("host '\(quoted(host))' ends in a number but part \(index) (\(value)) is above 255")
                }
                address = address << 8 | value
            } else {
                let remainingBits = UInt64(8 * (5 - parts))
                guard value < (1 as UInt64) << remainingBits else {
                    throw invalid("host '\(quoted(host))' ends in a number but its last part does not fit in \(5 - parts) byte\(parts == 4 ? "" : "s")")
                }
                address = address << remainingBits | value
            }
            partStart = partEnd + 1
        }
        return UInt32(truncatingIfNeeded: address)
    }

    /// One IPv4 part: `0x` hex (possibly no digits), `0` octal, or decimal. Nil when it is not
    /// a number or exceeds 2³² − 1 (with `syntaxOnly`, only when it is not a number; the value
    /// is then meaningless).
    static func ipv4Number(_ part: UnsafeBufferPointer<UInt8>, syntaxOnly: Bool = false) -> UInt64? {
        guard !part.isEmpty else { return nil }
        var radix: UInt64 = 10
        var digits = part
        if part.count >= 2, part[0] == UInt8(ascii: "0"), part[1] | 0x20 == UInt8(ascii: "x") {
            radix = 16
            digits = UnsafeBufferPointer(rebasing: part[2...])
        } else if part.count >= 2, part[0] == UInt8(ascii: "0") {
            radix = 8
            digits = UnsafeBufferPointer(rebasing: part[1...])
        }
        var value: UInt64 = 0
        for byte in digits {
            guard let digit = hexValue(byte), UInt64(digit) < radix else { return nil }
            value = value * radix + UInt64(digit)
            if value > UInt64(UInt32.max) {
                guard syntaxOnly else { return nil }
                value = 0
            }
        }
        return value
    }

    /// Whether `bytes` is well-formed UTF-8 (no overlong forms, surrogates or values above
    /// U+10FFFF).
    static func isValidUTF8(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        UTF8Check.isWellFormed(bytes)
    }
}
