/// Defanged indicators (`hxxp://evil[.]example`) as CERTs publish them so that nobody clicks.
/// An upload that says it is defanged (`ihub ingest --defanged`) is refanged before reading;
/// otherwise a value carrying a marker is refused with a hint. Markers: `hxxp://`, `hxxps://`
/// (any case), `[.]`, `(.)`, `[dot]` (any case), `[:]`, `[@]`.
package enum Defang {
    /// The first marker in `value`, as written, or nil. Allocation-free for clean values.
    package static func firstMarker(in value: UnsafeBufferPointer<UInt8>) -> String? {
        if schemeMarkerLength(value) != nil {
            return String(decoding: value.prefix(4), as: UTF8.self) + "://"
        }
        var index = 0
        while index < value.count {
            let byte = value[index]
            if byte == UInt8(ascii: "[") || byte == UInt8(ascii: "("), let length = bracketMarkerLength(value, at: index) {
                return String(decoding: value[index..<(index + length)], as: UTF8.self)
            }
            index += 1
        }
        return nil
    }

    /// `value` with every marker replaced, written into `buffer` (at least as long as `value`:
    /// refanging only shortens).
    package static func refang(_ value: UnsafeBufferPointer<UInt8>, into buffer: UnsafeMutableBufferPointer<UInt8>) -> UnsafeBufferPointer<UInt8> {
        var out = 0
        var index = 0
        if schemeMarkerLength(value) != nil {
            for byte in Array("http".utf8) { buffer[out] = byte; out += 1 }
            index = 4
        }
        while index < value.count, out < buffer.count {
            let byte = value[index]
            if byte == UInt8(ascii: "[") || byte == UInt8(ascii: "("), let length = bracketMarkerLength(value, at: index) {
                buffer[out] = length == 5 ? UInt8(ascii: ".") : value[index + 1]
                out += 1
                index += length
                continue
            }
            buffer[out] = byte
            out += 1
            index += 1
        }
        return UnsafeBufferPointer(rebasing: buffer[0..<out])
    }

    /// `hxxp://` or `hxxps://` at the start (any case): the length of the `hxxp` part.
    private static func schemeMarkerLength(_ value: UnsafeBufferPointer<UInt8>) -> Int? {
        guard value.count >= 7, value[0] | 0x20 == UInt8(ascii: "h"), value[1] | 0x20 == UInt8(ascii: "x"),
              value[2] | 0x20 == UInt8(ascii: "x"), value[3] | 0x20 == UInt8(ascii: "p")
        else { return nil }
        var index = 4
        if value[index] | 0x20 == UInt8(ascii: "s") { index += 1 }
        guard index + 3 <= value.count, value[index] == UInt8(ascii: ":"), value[index + 1] == UInt8(ascii: "/"),
              value[index + 2] == UInt8(ascii: "/")
        else { return nil }
        return 4
    }

    /// `[.]`, `(.)`, `[:]`, `[@]` (3 bytes) or `[dot]` (5 bytes) at `index`.
    private static func bracketMarkerLength(_ value: UnsafeBufferPointer<UInt8>, at index: Int) -> Int? {
        guard index + 3 <= value.count else { return nil }
        let open = value[index], middle = value[index + 1], close = value[index + 2]
        if open == UInt8(ascii: "("), middle == UInt8(ascii: "."), close == UInt8(ascii: ")") { return 3 }
        guard open == UInt8(ascii: "[") else { return nil }
        if close == UInt8(ascii: "]"), middle == UInt8(ascii: ".") || middle == UInt8(ascii: ":") || middle == UInt8(ascii: "@") {
            return 3
        }
        if index + 5 <= value.count, value[index + 1] | 0x20 == UInt8(ascii: "d"), value[index + 2] | 0x20 == UInt8(ascii: "o"),
           value[index + 3] | 0x20 == UInt8(ascii: "t"), value[index + 4] == UInt8(ascii: "]")
        {
            return 5
        }
        return nil
    }
}
