/// Percent-unescaping and -escaping for URL canonicalisation (steps 1–3 and 8 of
/// `URLIndicator`'s documentation).
extension URLIndicator {
    /// Copies `input` into `scratch` without tab, CR and LF, stopping at the first `#`
    /// (the fragment), and percent-unescapes it until no `%XY` escape is left.
    ///
    /// After each byte is written, the last three output bytes are checked for an escape and
    /// decoded; a decoded byte can complete another escape with the two bytes before it, so the
    /// check repeats. The output therefore never contains an escape, and since escapes cannot
    /// overlap (an escape's digits are never `%`) the result is the same fixed point that
    /// "unescape the whole URL again until nothing changes" reaches — in one linear pass.
    ///
    /// `scratch` must hold `input.count` bytes (the output is never longer than the input).
    static func unescapeRemovingFragment(
        _ input: UnsafeBufferPointer<UInt8>, into scratch: UnsafeMutableBufferPointer<UInt8>
    ) -> UnsafeBufferPointer<UInt8> {
        precondition(scratch.count >= input.count)
        var count = 0
        for byte in input {
            if byte == 0x09 || byte == 0x0A || byte == 0x0D { continue }
            if byte == UInt8(ascii: "#") { break }
            scratch[count] = byte
            count += 1
            while count >= 3, scratch[count - 3] == UInt8(ascii: "%"),
                let high = hexValue(scratch[count - 2]), let low = hexValue(scratch[count - 1])
            {
                scratch[count - 3] = high << 4 | low
                count -= 2
            }
        }
        return UnsafeBufferPointer(rebasing: scratch[..<count])
    }

    /// The value of an ASCII hex digit, or nil.
    @inline(__always)
    static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case 0x30...0x39: byte - 0x30
        case 0x41...0x46: byte - 0x41 + 10
        case 0x61...0x66: byte - 0x61 + 10
        default: nil
        }
    }

    /// Whether Safe Browsing escapes `byte` in a canonical URL: ≤ 0x20, ≥ 0x7F, `#` and `%`.
    @inline(__always)
    static func needsEscape(_ byte: UInt8) -> Bool {
        byte <= 0x20 || byte >= 0x7F || byte == UInt8(ascii: "#") || byte == UInt8(ascii: "%")
    }

    /// Appends `bytes`, escaping the bytes `needsEscape` selects as `%XY` (upper-case hex).
    static func appendEscaped(
        _ bytes: UnsafeBufferPointer<UInt8>, to out: inout ByteWriter
    ) throws(ByteWriter.Overflow) {
        for byte in bytes {
            if needsEscape(byte) {
                try out.append(UInt8(ascii: "%"))
                try out.append(upperHexDigit(byte >> 4))
                try out.append(upperHexDigit(byte & 0x0F))
            } else {
                try out.append(byte)
            }
        }
    }

    /// Escapes, in place, the bytes of `out` from `start` to its end (used for hosts, which are
    /// normalised in the writer before it is known whether they need escaping).
    static func escapeInPlace(from start: Int, in out: inout ByteWriter) throws(ByteWriter.Overflow) {
        var extra = 0
        for index in start..<out.count where needsEscape(out[index]) { extra += 2 }
        guard extra > 0 else { return }
        var source = out.count - 1
        for _ in 0..<extra { try out.append(0) }
        var target = out.count - 1
        while source >= start {
            let byte = out[source]
            if needsEscape(byte) {
                out.set(upperHexDigit(byte & 0x0F), at: target)
                out.set(upperHexDigit(byte >> 4), at: target - 1)
                out.set(UInt8(ascii: "%"), at: target - 2)
                target -= 3
            } else {
                out.set(byte, at: target)
                target -= 1
            }
            source -= 1
        }
    }

    @inline(__always)
    static func upperHexDigit(_ nibble: UInt8) -> UInt8 {
        nibble < 10 ? 0x30 + nibble : 0x41 + nibble - 10
    }
}
