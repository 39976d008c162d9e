/// E-mail address indicators: `local@domain`, canonical form `local@a-label.domain`.
///
/// Accepted form (decisions):
/// - An optional `mailto:` prefix (any case) is removed, and with it any `?header=…` part of
///   the mailto URI. Percent-escapes are not decoded (`%` is an ordinary local-part character).
/// - Exactly one `@`. Quoted local parts (`"john doe"@example.com`) and comments
///   (`john(work)@example.com`) are refused: they are legal in RFC 5322 but practically never
///   used by mailboxes in feeds, and accepting them would need a second canonical form.
/// - The local part is an RFC 5321 dot-atom — atoms of ASCII letters, digits and
///   ``!#$%&'*+-/=?^_`{|}~`` separated by single dots, no leading or trailing dot — where an
///   atom may also contain UTF-8 encoded non-ASCII characters (RFC 6531 `UTF8-non-ascii`; the
///   bytes must be well-formed UTF-8). It is kept exactly as written: case is preserved, since
///   only the receiving server may interpret it (RFC 5321 §2.4), and no provider-specific
///   folding (dots, `+tags`) is applied. At most 64 bytes.
/// - The domain goes through `DomainIndicator.toASCII` (UTS #46: lower case, A-labels, one
///   trailing dot removed) and must then be a host name: at least two labels of letters,
///   digits and `-` (not at either end of a label), each at most 63 bytes, at most 253 in all.
///   IP-literal domains (`[192.0.2.1]`, `[IPv6:…]`) and numeric domains are refused: mailboxes
///   on a bare address are not something partners screen for.
/// - The whole canonical address is at most 254 bytes (RFC 5321's path limit minus `<>`).
enum EmailIndicator {
    /// RFC 5321 §4.5.3.1.1.
    static let maxLocalBytes = 64
    /// RFC 5321 §4.5.3.1.3 (256 minus the angle brackets).
    static let maxAddressBytes = 254
    static let maxDomainBytes = 253
    static let maxLabelBytes = 63

    /// Canonicalises an e-mail address into `out`.
    static func canonicalize(
        _ input: UnsafeBufferPointer<UInt8>, into out: inout ByteWriter
    ) throws(IndicatorError) -> CanonicalForm {
        guard input.count <= Canonicalizer.maxInputBytes else {
            throw .tooLong(limit: Canonicalizer.maxInputBytes)
        }
        var address = Canonicalizer.trimWhitespace(input)
        guard !address.isEmpty else { throw .empty }
        if hasMailtoPrefix(address) {
            address = UnsafeBufferPointer(rebasing: address[7...])
            if let question = address.firstIndex(of: UInt8(ascii: "?")),
                let at = address.firstIndex(of: UInt8(ascii: "@")), question > at
            {
                address = UnsafeBufferPointer(rebasing: address[..<question])
            }
        }
        guard !address.isEmpty else { throw invalid("nothing after 'mailto:'") }
        if address.first == UInt8(ascii: "\"") {
            throw invalid("quoted local parts (\"…\"@domain) are not accepted")
        }
        if address.contains(UInt8(ascii: "(")) || address.contains(UInt8(ascii: ")")) {
            throw invalid("comments ('(…)') are not accepted in an address")
        }
        guard let at = address.firstIndex(of: UInt8(ascii: "@")) else {
            throw invalid("no '@' (an address is local@domain)")
        }
        if address[(at + 1)...].contains(UInt8(ascii: "@")) {
            throw invalid("more than one '@'")
        }
        let local = UnsafeBufferPointer(rebasing: address[..<at])
        var domain = UnsafeBufferPointer(rebasing: address[(at + 1)...])
        if domain.last == UInt8(ascii: ".") {
            // One trailing dot (the DNS root) is dropped here, so that the result does not
            // depend on how toASCII treats it; two are an empty label.
            domain = UnsafeBufferPointer(rebasing: domain.dropLast())
            if domain.last == UInt8(ascii: ".") { throw invalid("domain has an empty label") }
        }
        try checkLocalPart(local)
        guard !domain.isEmpty else { throw invalid("empty domain after '@'") }
        if domain.first == UInt8(ascii: "[") {
            throw invalid("IP-literal domains ([…]) are not accepted")
        }

        let start = out.count
        do {
            try out.append(local)
            try out.append(UInt8(ascii: "@"))
        } catch { throw error.asIndicatorError }
        let domainStart = out.count
        do throws(IndicatorError) {
            try DomainIndicator.toASCII(domain, into: &out)
        } catch {
            switch error {
            case .invalid(_, let reason): throw invalid("domain: \(reason)")
            case .empty: throw invalid("empty domain after '@'")
            default: throw error
            }
        }
        try checkDomain(from: domainStart, in: &out)
        let length = out.count - start
        guard length <= maxAddressBytes else {
            throw invalid("address is \(length) bytes long (at most \(maxAddressBytes))")
        }
        return CanonicalForm(type: .email)
    }

    private static func invalid(_ reason: String) -> IndicatorError { .invalid(.email, reason: reason) }

    private static func hasMailtoPrefix(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        let prefix: StaticString = "mailto:"
        guard bytes.count >= 7 else { return false }
        return URLIndicator.equalsIgnoringCase(UnsafeBufferPointer(rebasing: bytes[..<7]), prefix)
    }

    /// RFC 5321 dot-atom with RFC 6531 UTF-8, at most `maxLocalBytes`.
    static func checkLocalPart(_ local: UnsafeBufferPointer<UInt8>) throws(IndicatorError) {
        guard !local.isEmpty else { throw invalid("empty local part before '@'") }
        guard local.count <= maxLocalBytes else {
            throw invalid("local part is \(local.count) bytes long (at most \(maxLocalBytes))")
        }
        if local.first == UInt8(ascii: ".") || local.last == UInt8(ascii: ".") {
            throw invalid("local part starts or ends with '.'")
        }
        var previous: UInt8 = 0
        for (offset, byte) in local.enumerated() {
            if byte == UInt8(ascii: "."), previous == UInt8(ascii: ".") {
                throw invalid("local part has two consecutive dots")
            }
            if byte < 0x80, byte != UInt8(ascii: "."), !isAtext(byte) {
                if byte == 0x20 { throw invalid("space in the local part") }
                if byte < 0x20 || byte == 0x7F {
                    throw invalid("control byte 0x\(hex(byte)) at offset \(offset) of the local part")
                }
                throw invalid("character '\(Unicode.Scalar(byte))' is not allowed in the local part (RFC 5321 dot-atom)")
            }
            previous = byte
        }
        guard URLIndicator.isValidUTF8(local) else {
            throw invalid("local part is not well-formed UTF-8")
        }
    }

    /// Checks (and lower-cases, in case) the A-label domain written at `start…` in `out`.
    private static func checkDomain(from start: Int, in out: inout ByteWriter) throws(IndicatorError) {
        let length = out.count - start
        guard length > 0 else { throw invalid("empty domain after '@'") }
        guard length <= maxDomainBytes else {
            throw invalid("domain is \(length) bytes long (at most \(maxDomainBytes))")
        }
        var labels = 0
        var labelStart = start
        var labelNumeric = true  // the current label (at the end: the last one) is all digits
        for index in start...out.count {
            if index == out.count || out[index] == UInt8(ascii: ".") {
                let labelLength = index - labelStart
                guard labelLength > 0 else { throw invalid("domain has an empty label") }
                guard labelLength <= maxLabelBytes else {
                    throw invalid("domain label is \(labelLength) bytes long (at most \(maxLabelBytes))")
                }
                if out[labelStart] == UInt8(ascii: "-") || out[index - 1] == UInt8(ascii: "-") {
                    throw invalid("domain label starts or ends with '-'")
                }
                labels += 1
                labelStart = index + 1
                if index < out.count { labelNumeric = true }
                continue
            }
            let byte = URLIndicator.lowercased(out[index])
            out.set(byte, at: index)
            let letter = byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z")
            let digit = URLIndicator.isASCIIDigit(byte)
            guard letter || digit || byte == UInt8(ascii: "-") else {
                if byte >= 0x80 { throw invalid("domain is not an ASCII host name after IDNA mapping") }
                throw invalid("character '\(Unicode.Scalar(byte))' is not allowed in a domain")
            }
            if !digit { labelNumeric = false }
        }
        guard labels >= 2 else { throw invalid("domain has a single label (at least two expected)") }
        guard !labelNumeric else {
            throw invalid("domain ends in a number (IP addresses are not accepted as mail domains)")
        }
    }

    /// RFC 5322 `atext` (ASCII part): letters, digits and ``!#$%&'*+-/=?^_`{|}~``.
    @inline(__always)
    static func isAtext(_ byte: UInt8) -> Bool {
        if URLIndicator.isASCIIAlpha(byte) || URLIndicator.isASCIIDigit(byte) { return true }
        switch byte {
        case UInt8(ascii: "!"), UInt8(ascii: "#"), UInt8(ascii: "$"), UInt8(ascii: "%"),
            UInt8(ascii: "&"), UInt8(ascii: "'"), UInt8(ascii: "*"), UInt8(ascii: "+"),
            UInt8(ascii: "-"), UInt8(ascii: "/"), UInt8(ascii: "="), UInt8(ascii: "?"),
            UInt8(ascii: "^"), UInt8(ascii: "_"), UInt8(ascii: "`"), UInt8(ascii: "{"),
            UInt8(ascii: "|"), UInt8(ascii: "}"), UInt8(ascii: "~"):
            return true
        default:
            return false
        }
    }

    private static func hex(_ byte: UInt8) -> String {
        let digits = String(byte, radix: 16, uppercase: true)
        return digits.count == 1 ? "0" + digits : digits
    }
}
