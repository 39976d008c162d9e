public import IndicatorKit

/// The protocol's rules for text (docs/PROTOCOL.md): well-formed UTF-8 without control
/// characters, and the time zone syntax of a QUERY. Allocation-free checks over bytes.
enum TextRules {
    /// The first fault of `bytes` as protocol text, or nil when it is acceptable. Checks
    /// well-formedness exactly as Unicode Table 3-7 (no overlong forms, no surrogates, nothing
    /// past U+10FFFF) and refuses U+0000–U+001F and U+007F.
    static func fault<C: Collection<UInt8>>(in bytes: C) -> TextFault? where C.Index == Int {
        // Control characters are ASCII, so a byte scan finds them; whichever fault comes
        // first is the one reported (a control byte inside a broken sequence is never first).
        let invalid = UTF8Check.firstInvalid(bytes)
        let limit = invalid.map { bytes.startIndex + $0 } ?? bytes.endIndex
        if let control = bytes[bytes.startIndex..<limit].firstIndex(where: { $0 < 0x20 || $0 == 0x7F }) {
            return .controlCharacter(offset: control - bytes.startIndex)
        }
        return invalid.map { .invalidUTF8(offset: $0) }
    }

    /// The first fault of a string's UTF-8 (always well-formed; control characters are not).
    static func fault(in string: String) -> TextFault? {
        var string = string
        return string.withUTF8 { fault(in: $0) }
    }

    /// An IANA-style name (an ASCII letter, then ASCII letters, digits, `/`, `_`, `+`, `-`) or
    /// a UTC offset `±HH:MM` with HH ≤ 14 and MM ≤ 59.
    static func isTimeZone<C: Collection<UInt8>>(_ bytes: C) -> Bool where C.Index == Int {
        guard let first = bytes.first else { return false }
        if first == UInt8(ascii: "+") || first == UInt8(ascii: "-") {
            guard bytes.count == 6 else { return false }
            let s = bytes.startIndex
            func digit(_ k: Int) -> Int? {
                let b = bytes[s + k]
                return b >= 0x30 && b <= 0x39 ? Int(b - 0x30) : nil
            }
            guard let h1 = digit(1), let h2 = digit(2), bytes[s + 3] == UInt8(ascii: ":"),
                  let m1 = digit(4), let m2 = digit(5) else { return false }
            return h1 * 10 + h2 <= 14 && m1 * 10 + m2 <= 59
        }
        guard isASCIILetter(first) else { return false }
        for b in bytes.dropFirst() {
            guard isASCIILetter(b) || (b >= 0x30 && b <= 0x39) || b == UInt8(ascii: "/") || b == UInt8(ascii: "_")
                || b == UInt8(ascii: "+") || b == UInt8(ascii: "-") else { return false }
        }
        return true
    }

    private static func isASCIILetter(_ b: UInt8) -> Bool { (b | 0x20) >= 0x61 && (b | 0x20) <= 0x7A }

    /// Checks one QUERY request field as a hub does (docs/PROTOCOL.md, QUERY step 5).
    static func checkRequestField<C: Collection<UInt8>>(_ bytes: C, _ field: RequestField) throws(WireError)
    where C.Index == Int {
        if bytes.isEmpty { throw .missingField(field) }
        if let fault = fault(in: bytes) { throw .invalidField(field, fault) }
        if field == .timeZone && !isTimeZone(bytes) { throw .invalidField(field, .malformedTimeZone) }
    }

    /// Checks the length of a text field against `limit` (and, when `required`, that it is not
    /// empty) before its bytes are read.
    static func lengthFault(_ length: Int, limit: Int, required: Bool) -> TextFault? {
        if required && length == 0 { return .empty }
        if length > limit { return .tooLong(length: length, limit: limit) }
        return nil
    }
}

extension RequestFields {
    /// Checks the fields as a hub does before policy (docs/PROTOCOL.md, QUERY steps 3 and 5):
    /// every text field present, at most 256 bytes, without control characters, and a
    /// well-formed time zone. Throws the error the hub would answer with.
    public func validate() throws(WireError) {
        for (text, field) in [(purpose, RequestField.purpose), (legalBasis, .legalBasis),
                              (reference, .reference), (timeZone, .timeZone)] {
            let count = text.utf8.count
            if count > WireFormat.maxFieldBytes {
                throw .invalidField(field, .tooLong(length: count, limit: WireFormat.maxFieldBytes))
            }
        }
        for (text, field) in [(purpose, RequestField.purpose), (legalBasis, .legalBasis),
                              (reference, .reference), (timeZone, .timeZone)] {
            var text = text
            let result = text.withUTF8 { (utf8) -> Result<Void, WireError> in
                Result { () throws(WireError) in try TextRules.checkRequestField(utf8, field) }
            }
            try result.get()
        }
    }
}
