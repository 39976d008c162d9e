import Glibc

/// Splits a byte buffer into lines (LF or CRLF; a lone CR is kept as content), skipping a UTF-8
/// byte-order mark. Allocation-free.
enum LineScanner {
    /// Calls `body(lineNumber, lineBytes)` for each line (without its terminator) until it
    /// returns false. Line numbers start at 1.
    @inline(__always)
    static func forEachLine(
        _ bytes: UnsafeBufferPointer<UInt8>,
        _ body: (Int, UnsafeBufferPointer<UInt8>) throws -> Bool
    ) rethrows {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return }
        var start = 0
        if bytes.count >= 3, bytes[0] == 0xEF, bytes[1] == 0xBB, bytes[2] == 0xBF { start = 3 }
        var lineNumber = 1
        let end = bytes.count
        while start < end {
            let remaining = end - start
            let found = memchrLF(base + start, remaining)
            let lineEnd = found.map { $0 - base } ?? end
            var contentEnd = lineEnd
            if contentEnd > start, base[contentEnd - 1] == 0x0D { contentEnd -= 1 }
            let line = UnsafeBufferPointer(start: base + start, count: contentEnd - start)
            if try !body(lineNumber, line) { return }
            lineNumber += 1
            start = lineEnd + 1
        }
    }

    /// `memchr(3)` for LF.
    @inline(__always)
    private static func memchrLF(_ pointer: UnsafePointer<UInt8>, _ count: Int) -> UnsafePointer<UInt8>? {
        memchr(pointer, 0x0A, count).map { UnsafePointer($0.assumingMemoryBound(to: UInt8.self)) }
    }

    /// Strips ASCII spaces and tabs (and a stray CR) from both ends.
    @inline(__always)
    static func trim(_ line: UnsafeBufferPointer<UInt8>) -> UnsafeBufferPointer<UInt8> {
        var start = 0
        var end = line.count
        while start < end, isBlank(line[start]) { start += 1 }
        while end > start, isBlank(line[end - 1]) { end -= 1 }
        return UnsafeBufferPointer(rebasing: line[start..<end])
    }

    @inline(__always)
    static func isBlank(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x09 || byte == 0x0D || byte == 0x0B || byte == 0x0C
    }

    /// True when the first 4 KiB contain a NUL byte.
    static func looksBinary(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        bytes.prefix(4096).contains(0)
    }
}
