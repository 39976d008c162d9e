import Glibc

/// Buffered standard output and unbuffered standard error.
enum Console {
    nonisolated(unsafe) private static var buffer: [UInt8] = []

    static func out(_ line: String) {
        buffer.append(contentsOf: line.utf8)
        buffer.append(0x0A)
        if buffer.count >= 1 << 16 { flush() }
    }

    static func flush() {
        var offset = 0
        buffer.withUnsafeBytes { raw in
            while offset < raw.count {
                let written = write(1, raw.baseAddress! + offset, raw.count - offset)
                if written < 0 {
                    if errno == EINTR { continue }
                    return
                }
                offset += written
            }
        }
        buffer.removeAll(keepingCapacity: true)
    }

    static func err(_ line: String) {
        flush()
        let text = Array((line + "\n").utf8)
        text.withUnsafeBytes { raw in _ = write(2, raw.baseAddress!, raw.count) }
    }

    /// Whether progress lines may be shown: stderr is a terminal and output is not JSON.
    static func showsProgress(json: Bool) -> Bool {
        !json && isatty(2) == 1
    }

    /// Rewrites the current terminal line on stderr.
    static func progress(_ text: String) {
        let line = Array(("\r\u{1B}[K" + text).utf8)
        line.withUnsafeBytes { raw in _ = write(2, raw.baseAddress!, raw.count) }
    }

    static func endProgress() {
        let line = Array("\r\u{1B}[K".utf8)
        line.withUnsafeBytes { raw in _ = write(2, raw.baseAddress!, raw.count) }
    }

    /// Reads all of standard input.
    static func readStandardInput() -> [UInt8] {
        var data: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let count = chunk.withUnsafeMutableBytes { read(0, $0.baseAddress!, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                break
            }
            if count == 0 { break }
            data.append(contentsOf: chunk[0..<count])
        }
        return data
    }

    /// The values named on the command line, or one per line of standard input for `-`.
    static func values(from positionals: [String]) -> [String] {
        var result: [String] = []
        for argument in positionals {
            if argument == "-" {
                let text = String(decoding: readStandardInput(), as: UTF8.self)
                for line in text.split(separator: "\n", omittingEmptySubsequences: true) {
                    var value = Substring(line)
                    if value.last == "\r" { value = value.dropLast() }
                    if !value.isEmpty { result.append(String(value)) }
                }
            } else {
                result.append(argument)
            }
        }
        return result
    }
}

/// Exit statuses (PRODUCT.md).
enum ExitStatus: Int32 {
    case success = 0
    case someRefused = 1
    case usage = 2
    case unreachable = 3
}
