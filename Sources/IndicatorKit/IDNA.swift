/// UTS #46 (Unicode IDNA Compatibility Processing) ToASCII, as the hub applies it to host names:
/// non-transitional processing with UseSTD3ASCIIRules, CheckHyphens, CheckBidi, CheckJoiners and
/// VerifyDnsLength all on. One trailing dot (the DNS root) is dropped before the length checks;
/// the result is lower-case A-labels joined by '.'.
///
/// This is the general path, for names with non-ASCII characters or `xn--` labels; it allocates.
/// `DomainIndicator.toASCII` handles plain ASCII names itself without allocating and calls this
/// only when needed.
///
/// Steps (UTS #46 §4 and §4.2): decode UTF-8 strictly; map every code point with the IDNA mapping
/// table (IDNA+MappingTable.swift); normalise to NFC; split at '.'; decode `xn--` labels from
/// Punycode; check the validity criteria (§4.1), the CONTEXTJ rules and the Bidi rule; encode
/// non-ASCII labels with Punycode; check the DNS lengths (RFC 1035).
enum IDNA {
    /// Longest label, in bytes (RFC 1035 §2.3.4).
    static let maxLabelBytes = 63
    /// Longest name without the trailing dot, in bytes (RFC 1035's 255 less the length octets).
    static let maxNameBytes = 253

    static let fullStop: UInt32 = 0x2E
    static let hyphen: UInt32 = 0x2D
    /// `xn--`, the ACE prefix of A-labels.
    static let acePrefix: [UInt8] = [0x78, 0x6E, 0x2D, 0x2D]

    /// ToASCII of `input` (any bytes), appended to `out`. Throws with a precise reason naming
    /// the label (1-based) and the rule it breaks.
    static func toASCII(_ input: UnsafeBufferPointer<UInt8>, into out: inout ByteWriter) throws(IndicatorError) {
        let decoded = try decodeUTF8(input)
        var mapped: [UInt32] = []
        mapped.reserveCapacity(decoded.count)
        // Labels (0-based) that lost ignorable characters, so an empty one can say why.
        var labelsWithIgnored: Set<Int> = []
        var dots = 0
        for cp in decoded {
            let before = mapped.count
            appendMapping(of: cp, to: &mapped)
            if mapped.count == before { labelsWithIgnored.insert(dots) }
            dots += mapped[before...].count(where: { $0 == fullStop })
        }
        let normalized = nfc(mapped)

        var labels = normalized.split(separator: fullStop, omittingEmptySubsequences: false).map(Array.init)
        if labels.count > 1, labels[labels.count - 1].isEmpty { labels.removeLast() }  // the root's dot
        if labels.count == 1, labels[0].isEmpty {
            // Only dots were left: say so when characters were dropped as ignorable (U+00AD, …).
            let ignored = !labelsWithIgnored.isEmpty
            throw domainError(ignored ? "name is empty once ignored characters are removed" : "name is empty")
        }

        var unicodeLabels: [[UInt32]] = []
        unicodeLabels.reserveCapacity(labels.count)
        for (offset, label) in labels.enumerated() {
            if label.isEmpty {
                throw emptyLabel(number: offset + 1, ignoredCharacters: labelsWithIgnored.contains(offset))
            }
            unicodeLabels.append(try convert(label, number: offset + 1))
        }
        if isBidiDomainName(unicodeLabels) {
            for (offset, label) in unicodeLabels.enumerated() {
                try checkBidiRule(label, number: offset + 1)
            }
        }

        var ascii: [UInt8] = []
        ascii.reserveCapacity(maxNameBytes + 1)
        for (offset, label) in unicodeLabels.enumerated() {
            let number = offset + 1
            if offset > 0 { ascii.append(UInt8(fullStop)) }
            let labelStart = ascii.count
            if label.allSatisfy({ $0 < 0x80 }) {
                for cp in label { ascii.append(UInt8(cp)) }
            } else {
                ascii.append(contentsOf: acePrefix)
                do {
                    try Punycode.encode(label, into: &ascii)
                } catch {
                    throw domainError("label \(number) (\(quote(label))) is too long to encode as Punycode")
                }
            }
            let length = ascii.count - labelStart
            if length > maxLabelBytes {
                let form = label.allSatisfy({ $0 < 0x80 }) ? "" : " as an A-label"
                throw labelTooLong(number: number, display: quote(label), bytes: length, form: form)
            }
        }
        if ascii.count > maxNameBytes { throw nameTooLong(bytes: ascii.count) }
        for byte in ascii {
            do { try out.append(byte) } catch { throw error.asIndicatorError }
        }
    }

    /// Step 4 of UTS #46 processing for one label: decodes an A-label, then checks the validity
    /// criteria. Returns the label in Unicode.
    static func convert(_ label: [UInt32], number: Int) throws(IndicatorError) -> [UInt32] {
        guard !label.isEmpty else { throw emptyLabel(number: number) }
        guard label.count >= 4, label.prefix(4).elementsEqual(acePrefix.lazy.map(UInt32.init)) else {
            try validate(label, number: number, display: quote(label))
            return label
        }
        let shown = quote(label)
        if let wide = label.first(where: { $0 >= 0x80 }) {
            throw domainError("label \(number) (\(shown)) starts with 'xn--' but contains the non-ASCII "
                + "character U+\(hex(wide)); an A-label is ASCII only")
        }
        let encoded = label.dropFirst(4).map { UInt8(truncatingIfNeeded: $0) }
        let decoded: [UInt32]
        do {
            decoded = try encoded.withUnsafeBufferPointer { (bytes) throws(Punycode.Failure) in
                try Punycode.decode(bytes)
            }
        } catch {
            throw domainError("label \(number) (\(shown)) is not valid Punycode (\(describe(error)))")
        }
        guard !decoded.isEmpty else {
            throw domainError("label \(number) (\(shown)) is not a valid A-label: it decodes to nothing")
        }
        guard decoded.contains(where: { $0 >= 0x80 }) else {
            throw domainError("label \(number) (\(shown)) is not a valid A-label: it decodes to the ASCII "
                + "\(quote(decoded)), which must be written as is")
        }
        let display = "\(shown), decoded \(quote(decoded))"
        guard nfc(decoded) == decoded else {
            throw domainError("label \(number) (\(display)) is not in Unicode normalisation form C")
        }
        try validate(decoded, number: number, display: display)
        return decoded
    }

    /// The validity criteria of UTS #46 §4.1 (non-transitional, CheckHyphens, UseSTD3ASCIIRules,
    /// CheckJoiners) for one Unicode label; the Bidi rule is checked over the whole name later.
    static func validate(_ label: [UInt32], number: Int, display: String) throws(IndicatorError) {
        try checkHyphens(label, number: number, display: display)
        if let first = label.first, isMark(first) {
            throw domainError("label \(number) (\(display)) begins with the combining mark U+\(hex(first))")
        }
        for cp in label {
            if cp == fullStop {
                throw domainError("label \(number) (\(display)) contains a full stop")
            }
            switch status(of: cp) {
            case .valid, .deviation:
                if cp < 0x80, !isLDH(cp) {
                    throw notLDH(cp, number: number, display: display)
                }
            case .mapped, .ignored, .disallowed:
                throw domainError("disallowed character U+\(hex(cp)) in label \(number) (\(display))")
            }
        }
        try checkJoiners(label, number: number)
    }

    /// UTS #46 §4.1 criteria 2 and 3 (CheckHyphens).
    static func checkHyphens(_ label: some Collection<UInt32>, number: Int, display: String) throws(IndicatorError) {
        if label.first == hyphen {
            throw domainError("label \(number) (\(display)) starts with a hyphen")
        }
        if label.reversed().first == hyphen {  // `last` needs BidirectionalCollection
            throw domainError("label \(number) (\(display)) ends with a hyphen")
        }
        let third = label.dropFirst(2).prefix(2)
        if third.count == 2, third.allSatisfy({ $0 == hyphen }) {
            throw domainError("label \(number) (\(display)) has hyphens in the third and fourth positions, "
                + "which are reserved for encodings such as 'xn--'")
        }
    }

    /// Whether an ASCII code point is a lower-case letter, a digit or a hyphen (STD3 rules;
    /// upper-case letters were mapped to lower case before).
    @inline(__always)
    static func isLDH(_ cp: UInt32) -> Bool {
        (cp >= 0x61 && cp <= 0x7A) || (cp >= 0x30 && cp <= 0x39) || cp == hyphen
    }

    // MARK: Reasons shared with the ASCII fast path

    static func notLDH(_ cp: UInt32, number: Int, display: String) -> IndicatorError {
        let shown = isPrintable(cp) ? "'\(string(CollectionOfOne(cp)))' " : ""
        return domainError("character \(shown)(U+\(hex(cp))) is not allowed in label \(number) (\(display)): "
            + "a host name has only letters, digits and hyphens")
    }

    static func emptyLabel(number: Int, ignoredCharacters: Bool = false) -> IndicatorError {
        let why = ignoredCharacters ? "once ignored characters are removed"
            : number == 1 ? "the name starts with a dot" : "two dots in a row"
        return domainError("label \(number) is empty (\(why))")
    }

    static func labelTooLong(number: Int, display: String, bytes: Int, form: String = "") -> IndicatorError {
        domainError("label \(number) (\(display)) is \(bytes) bytes\(form); the limit is \(maxLabelBytes)")
    }

    static func nameTooLong(bytes: Int) -> IndicatorError {
        domainError("name is \(bytes) bytes; the limit is \(maxNameBytes)")
    }

    static func describe(_ failure: Punycode.Failure) -> String {
        switch failure {
        case .invalidDigit(let at): "character \(at + 5) is not a Punycode digit"
        case .nonBasic(let at): "character \(at + 5) is not ASCII"
        case .truncated: "it ends in the middle of a number"
        case .overflow: "a number overflows"
        case .invalidCodePoint(let cp):
            cp < 0x80 ? "it encodes the ASCII U+\(hex(cp))" : "it encodes U+\(hex(cp)), which is not a character"
        }
    }
}
