public import IndicatorKit

/// Plain lists: one value per line. Blank lines and comment lines (starting `#`, `;` or `//`)
/// are skipped; a trailing comment introduced by whitespace and then `#` or `;` is cut off
/// (Spamhaus DROP's `1.10.16.0/20 ; SBL256894`). Surrounding whitespace is trimmed; inner
/// whitespace stays (an IBAN may be written in groups of four).
public enum ListReader {
    /// Calls `body` for every value line of `bytes`, in order. `type` is the type every value
    /// is declared to have (nil = detect per value). List records carry no metadata.
    public static func read(
        _ bytes: UnsafeBufferPointer<UInt8>, type: IndicatorType?,
        _ body: (FeedRecord) -> Void
    ) {
        LineScanner.forEachLine(bytes) { number, line in
            let text = LineScanner.trim(line)
            if text.isEmpty || isCommentLine(text) { return true }
            let value = LineScanner.trim(stripTrailingComment(text))
            body(FeedRecord(line: number, value: value, type: type))
            return true
        }
    }

    /// A line whose first non-blank characters are `#`, `;` or `//`.
    @inline(__always)
    static func isCommentLine(_ text: UnsafeBufferPointer<UInt8>) -> Bool {
        guard let first = text.first else { return false }
        if first == 0x23 || first == 0x3B { return true }  // '#', ';'
        return first == 0x2F && text.count > 1 && text[1] == 0x2F  // "//"
    }

    /// Cuts `value<blank>#…` / `value<blank>;…`. A `#` not preceded by a blank (a URL
    /// fragment) is part of the value.
    @inline(__always)
    static func stripTrailingComment(_ text: UnsafeBufferPointer<UInt8>) -> UnsafeBufferPointer<UInt8> {
        var index = 1
        while index < text.count {
            let byte = text[index]
            if (byte == 0x23 || byte == 0x3B) && LineScanner.isBlank(text[index - 1]) {
                return UnsafeBufferPointer(rebasing: text[0..<index])
            }
            index += 1
        }
        return text
    }
}
