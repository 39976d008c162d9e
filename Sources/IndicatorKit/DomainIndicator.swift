/// Domain indicators (PRODUCT.md: "lower case, IDNA/punycode (A-labels), no trailing dot, length
/// limits of RFC 1035"), and the host-name conversion that URL and e-mail canonicalisation share.
///
/// Plain ASCII names — nearly all real traffic — take a fast path that neither allocates nor
/// consults the Unicode tables; anything else goes through the full UTS #46 processing in `IDNA`.
enum DomainIndicator {
    /// Canonicalises a domain indicator: an optional leading `*.` (the entry covers subdomains),
    /// then a host name of at least two labels whose last label is not all digits.
    ///
    /// Values with `/`, `:` or `@` are refused with a pointer to the type they look like.
    static func canonicalize(_ input: UnsafeBufferPointer<UInt8>, into out: inout ByteWriter) throws(IndicatorError) -> CanonicalForm {
        if let hint = otherTypeHint(input) { throw IDNA.domainError(hint) }
        var name = input
        var coversSubdomains = false
        if input.count >= 2, input[0] == UInt8(ascii: "*"), input[1] == UInt8(ascii: ".") {
            coversSubdomains = true
            name = UnsafeBufferPointer(rebasing: input[2...])
            guard !name.isEmpty else { throw IDNA.domainError("nothing follows '*.'") }
        }
        if name.contains(UInt8(ascii: "*")) {
            throw IDNA.domainError("a wildcard may only appear as a leading '*.' (meaning: and every subdomain)")
        }

        let start = out.count
        try toASCII(name, into: &out)
        let written = UnsafeBufferPointer(rebasing: out.written[start...])
        guard let lastDot = written.lastIndex(of: UInt8(ascii: ".")) else {
            let label = String(decoding: written, as: UTF8.self)
            out.truncate(to: start)
            throw IDNA.domainError("'\(label)' is a single label, not a public domain name "
                + "(a domain indicator has at least two labels, like example.com)")
        }
        let topLevel = UnsafeBufferPointer(rebasing: written[(lastDot + 1)...])
        if topLevel.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }) {
            let label = String(decoding: topLevel, as: UTF8.self)
            out.truncate(to: start)
            throw IDNA.domainError("the last label '\(label)' is all digits, which no top-level domain is "
                + "(an IPv4 address? use type ipv4)")
        }
        return CanonicalForm(type: .domain, coversSubdomains: coversSubdomains)
    }

    /// A reason when `input` has a character that belongs to another indicator type.
    static func otherTypeHint(_ input: UnsafeBufferPointer<UInt8>) -> String? {
        var colons = 0
        var slash = false
        var at = false
        for byte in input {
            switch byte {
            case UInt8(ascii: ":"): colons += 1
            case UInt8(ascii: "/"): slash = true
            case UInt8(ascii: "@"): at = true
            default: continue
            }
        }
        if colons > 0, slash { return "looks like a URL (it has ':' and '/'); use type url" }
        if slash { return "contains '/', which a domain name cannot (a URL? use type url)" }
        if at { return "contains '@': looks like an e-mail address; use type email" }
        if colons > 1 { return "contains ':': looks like an IPv6 address; use type ipv6" }
        if colons == 1 { return "contains ':' (a host with a port? a domain has no port; use type url)" }
        return nil
    }

    /// UTS #46 ToASCII (non-transitional) of a host name, appended to `out`: lower-case
    /// A-labels, one trailing dot stripped. Used by URL and email canonicalisation too.
    /// On error nothing is appended.
    static func toASCII(_ input: UnsafeBufferPointer<UInt8>, into out: inout ByteWriter) throws(IndicatorError) {
        let start = out.count
        do {
            if try asciiToASCII(input, into: &out) { return }
            out.truncate(to: start)
            try IDNA.toASCII(input, into: &out)
        } catch {
            out.truncate(to: start)
            throw error
        }
    }

    /// ToASCII for a name of ASCII bytes without `xn--` labels, where UTS #46 reduces to
    /// lower-casing and the STD3, hyphen and length rules. Returns false, having possibly
    /// written a prefix, when the name needs the general path. Allocates only to build an error.
    static func asciiToASCII(_ input: UnsafeBufferPointer<UInt8>, into out: inout ByteWriter) throws(IndicatorError) -> Bool {
        for byte in input where byte >= 0x80 { return false }
        var end = input.count
        if end > 0, input[end - 1] == UInt8(ascii: ".") { end -= 1 }  // the root's dot
        guard end > 0 else { throw IDNA.domainError("name is empty") }

        let start = out.count
        var labelStart = 0
        var number = 1
        var tooLong: (number: Int, range: Range<Int>)? = nil
        for index in 0...end {
            guard index == end || input[index] == UInt8(ascii: ".") else { continue }
            let range = labelStart..<index
            if range.isEmpty { throw IDNA.emptyLabel(number: number) }
            if range.count >= 4, isACEPrefix(input, at: labelStart) { return false }
            try checkLabel(input, range, number: number)
            if range.count > IDNA.maxLabelBytes, tooLong == nil { tooLong = (number, range) }
            do {
                if number > 1 { try out.append(UInt8(ascii: ".")) }
                for position in range { try out.append(lowercased(input[position])) }
            } catch {
                throw error.asIndicatorError
            }
            number += 1
            labelStart = index + 1
        }
        if let (number, range) = tooLong {
            throw IDNA.labelTooLong(number: number, display: display(input, range), bytes: range.count)
        }
        if out.count - start > IDNA.maxNameBytes { throw IDNA.nameTooLong(bytes: out.count - start) }
        return true
    }

    /// The hyphen and STD3 rules for one ASCII label.
    static func checkLabel(_ input: UnsafeBufferPointer<UInt8>, _ range: Range<Int>, number: Int) throws(IndicatorError) {
        let hyphen = UInt8(ascii: "-")
        let third = range.lowerBound + 2
        if input[range.lowerBound] == hyphen || input[range.upperBound - 1] == hyphen
            || (range.count >= 4 && input[third] == hyphen && input[third + 1] == hyphen)
        {
            let label = UnsafeBufferPointer(rebasing: input[range]).lazy.map(UInt32.init)
            try IDNA.checkHyphens(label, number: number, display: display(input, range))
        }
        for position in range {
            let byte = lowercased(input[position])
            if !IDNA.isLDH(UInt32(byte)) {
                throw IDNA.notLDH(UInt32(byte), number: number, display: display(input, range))
            }
        }
    }

    @inline(__always)
    static func lowercased(_ byte: UInt8) -> UInt8 {
        (byte >= 0x41 && byte <= 0x5A) ? byte | 0x20 : byte
    }

    /// Whether the label at `index` starts with `xn--` in any case (checked for 4 bytes).
    @inline(__always)
    static func isACEPrefix(_ input: UnsafeBufferPointer<UInt8>, at index: Int) -> Bool {
        lowercased(input[index]) == UInt8(ascii: "x") && lowercased(input[index + 1]) == UInt8(ascii: "n")
            && input[index + 2] == UInt8(ascii: "-") && input[index + 3] == UInt8(ascii: "-")
    }

    /// A label of the input, lower-cased and quoted, for a reason.
    static func display(_ input: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> String {
        IDNA.quote(range.map { UInt32(lowercased(input[$0])) })
    }
}
