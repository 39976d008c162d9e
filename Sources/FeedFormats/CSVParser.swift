/// An RFC 4180 record parser over a whole buffer: comma-separated, fields optionally in double
/// quotes, `""` inside quotes is one quote, quoted fields may span lines. Field bytes are
/// collected in one reused arena, so parsing a record does not allocate once warm.
struct CSVParser {
    private(set) var arena: [UInt8] = []
    private(set) var fieldBounds: [(start: Int, count: Int)] = []

    enum ParseError: Error, Equatable {
        /// A quoted field that never closes; `line` is where it opened.
        case unterminatedQuote(line: Int)
        /// Text after a closing quote and before the next separator.
        case textAfterQuote(line: Int)
    }

    var fieldCount: Int { fieldBounds.count }

    /// Calls `body` with field `index`'s bytes.
    func withField<R>(_ index: Int, _ body: (UnsafeBufferPointer<UInt8>) -> R) -> R {
        let bounds = fieldBounds[index]
        return arena.withUnsafeBufferPointer { all in
            body(UnsafeBufferPointer(rebasing: all[bounds.start..<(bounds.start + bounds.count)]))
        }
    }

    func fieldString(_ index: Int) -> String {
        withField(index) { String(decoding: $0, as: UTF8.self) }
    }

    /// Parses the record starting at `offset` (a line start). Returns the offset after the
    /// record's line terminator and how many lines it spanned.
    mutating func parseRecord(
        _ bytes: UnsafeBufferPointer<UInt8>, at offset: Int, line: Int
    ) throws(ParseError) -> (next: Int, lines: Int) {
        arena.removeAll(keepingCapacity: true)
        fieldBounds.removeAll(keepingCapacity: true)
        var index = offset
        var lines = 1
        let end = bytes.count
        var fieldStart = 0
        while true {
            // Start of a field.
            while index < end, bytes[index] == 0x20 || bytes[index] == 0x09 { index += 1 }
            if index < end, bytes[index] == 0x22 {  // quoted
                index += 1
                let openedOn = line + lines - 1
                while true {
                    guard index < end else { throw .unterminatedQuote(line: openedOn) }
                    let byte = bytes[index]
                    if byte == 0x22 {
                        if index + 1 < end, bytes[index + 1] == 0x22 {
                            arena.append(0x22)
                            index += 2
                            continue
                        }
                        index += 1
                        break
                    }
                    if byte == 0x0A { lines += 1 }
                    arena.append(byte)
                    index += 1
                }
                while index < end, bytes[index] == 0x20 || bytes[index] == 0x09 || bytes[index] == 0x0D {
                    index += 1
                }
                if index < end, bytes[index] != 0x2C, bytes[index] != 0x0A {
                    throw .textAfterQuote(line: line + lines - 1)
                }
            } else {
                while index < end, bytes[index] != 0x2C, bytes[index] != 0x0A {
                    arena.append(bytes[index])
                    index += 1
                }
                // Trim trailing blanks (and a CR) of an unquoted field.
                while arena.count > fieldStart, let last = arena.last, LineScanner.isBlank(last) {
                    arena.removeLast()
                }
            }
            fieldBounds.append((fieldStart, arena.count - fieldStart))
            fieldStart = arena.count
            if index < end, bytes[index] == 0x2C {
                index += 1
                continue
            }
            // End of record: at LF or end of buffer.
            if index < end { index += 1 }
            return (index, lines)
        }
    }

    /// Splits one line into cells for header sniffing (quotes honoured, no multi-line).
    static func splitSimple(_ line: UnsafeBufferPointer<UInt8>) -> [String] {
        var parser = CSVParser()
        guard (try? parser.parseRecord(line, at: 0, line: 1)) != nil else { return [] }
        return (0..<parser.fieldCount).map { parser.fieldString($0) }
    }
}
