import BenchSupport
import Glibc

/// RESP (the Redis serialisation protocol) commands: `*N\r\n` then N bulk strings `$len\r\n…\r\n`.
enum RESP {
    static func command(_ arguments: [ArraySlice<UInt8>], into out: inout [UInt8]) {
        out.append(UInt8(ascii: "*"))
        out.append(contentsOf: String(arguments.count).utf8)
        out.append(contentsOf: [13, 10])
        for argument in arguments {
            out.append(UInt8(ascii: "$"))
            out.append(contentsOf: String(argument.count).utf8)
            out.append(contentsOf: [13, 10])
            out.append(contentsOf: argument)
            out.append(contentsOf: [13, 10])
        }
    }

    static func command(_ words: [String], into out: inout [UInt8]) {
        command(words.map { Array($0.utf8)[...] }, into: &out)
    }
}

/// `SMISMEMBER key v1 … vB` for a pool of values, encoded once, shared by every connection.
struct RedisRequestPool {
    var bytes: [UInt8] = []
    var offsets: [Int] = [0]

    init(_ queries: QuerySet, batch: Int, key: String) {
        let head: [ArraySlice<UInt8>] = [Array("SMISMEMBER".utf8)[...], Array(key.utf8)[...]]
        for first in stride(from: 0, to: queries.count - batch + 1, by: batch) {
            RESP.command(head + (first..<(first + batch)).map { queries.value($0) }, into: &bytes)
            offsets.append(bytes.count)
        }
    }

    var count: Int { offsets.count - 1 }
}

/// A plain TCP connection to Redis that pipelines commands and parses their replies: integer
/// arrays (`*N` then N `:0`/`:1` lines), integers, simple strings and errors. Redis answers a
/// connection's commands in order.
final class RedisConnection: PipelinedConnection {
    let fd: Int32
    let pool: RedisRequestPool?
    var next: Int
    var out: [UInt8] = []
    /// Bytes received and not yet parsed start at `parsed`.
    var input: [UInt8] = []
    var parsed = 0
    /// Inside an array reply: integers still to come, and the hits so far.
    var remaining = -1
    var arrayLength = 0
    var arrayHits = 0

    init(port: UInt16, pool: RedisRequestPool?, start: Int = 0) throws(BenchFailure) {
        fd = try connectLoopback(port: port)
        self.pool = pool
        next = pool.map { start % $0.count } ?? 0
        input.reserveCapacity(1 << 17)
    }

    func send(count: Int) throws(BenchFailure) {
        guard let pool else { throw BenchFailure("no request pool") }
        for _ in 0..<count {
            out.append(contentsOf: pool.bytes[pool.offsets[next]..<pool.offsets[next + 1]])
            next = next + 1 == pool.count ? 0 : next + 1
        }
        try flush()
    }

    /// Sends raw commands (loading, PING, INFO).
    func send(raw: [UInt8]) throws(BenchFailure) {
        out.append(contentsOf: raw)
        try flush()
    }

    func receive() throws(BenchFailure) -> (answers: Int, checks: Int, hits: Int) {
        var answers = 0
        var checks = 0
        var hits = 0
        while answers == 0 {
            if parsed == input.count { try fill() }
            while let line = nextLine() {
                let first = input[line.lowerBound]
                let body = input[(line.lowerBound + 1)..<line.upperBound]
                if remaining > 0 {
                    guard first == UInt8(ascii: ":"), let value = Self.integer(body) else {
                        throw BenchFailure("Redis: unexpected array element '\(String(decoding: input[line], as: UTF8.self))'")
                    }
                    if value == 1 { arrayHits += 1 }
                    remaining -= 1
                    if remaining == 0 {
                        answers += 1
                        checks += arrayLength
                        hits += arrayHits
                        remaining = -1
                    }
                    continue
                }
                switch first {
                case UInt8(ascii: "*"):
                    guard let count = Self.integer(body), count >= 0 else { throw BenchFailure("Redis: bad array header") }
                    if count == 0 { answers += 1 } else {
                        remaining = count
                        arrayLength = count
                        arrayHits = 0
                    }
                case UInt8(ascii: ":"):
                    lastInteger = Self.integer(body) ?? -1
                    answers += 1
                case UInt8(ascii: "+"):
                    answers += 1
                case UInt8(ascii: "-"):
                    throw BenchFailure("Redis: \(String(decoding: body, as: UTF8.self))")
                case UInt8(ascii: "$"):
                    // A bulk string (INFO): skip its body.
                    guard let length = Self.integer(body) else { throw BenchFailure("Redis: bad bulk header") }
                    if length >= 0 {
                        while input.count - parsed < length + 2 { try fill() }
                        lastBulk = String(decoding: input[parsed..<(parsed + length)], as: UTF8.self)
                        parsed += length + 2
                    }
                    answers += 1
                default:
                    throw BenchFailure("Redis: unexpected reply '\(String(decoding: input[line], as: UTF8.self))'")
                }
            }
        }
        return (answers, checks, hits)
    }

    /// The last bulk string received (INFO's text) and the last integer reply (SCARD).
    var lastBulk = ""
    var lastInteger = -1

    /// The next complete line (without CRLF) from `parsed`, advancing past it.
    private func nextLine() -> Range<Int>? {
        var index = parsed
        while index + 1 < input.count {
            if input[index] == 13 && input[index + 1] == 10 {
                let line = parsed..<index
                parsed = index + 2
                return line.isEmpty ? nil : line
            }
            index += 1
        }
        return nil
    }

    private static func integer(_ bytes: ArraySlice<UInt8>) -> Int? {
        var value = 0
        var negative = false
        for (offset, byte) in bytes.enumerated() {
            if offset == 0 && byte == UInt8(ascii: "-") { negative = true; continue }
            guard byte >= 0x30 && byte <= 0x39 else { return nil }
            value = value * 10 + Int(byte - 0x30)
        }
        return negative ? -value : value
    }

    /// Reads more bytes (blocking), first dropping what has been parsed.
    private func fill() throws(BenchFailure) {
        if parsed > 0 {
            input.removeSubrange(0..<parsed)
            parsed = 0
        }
        let old = input.count
        input.append(contentsOf: repeatElement(0, count: 1 << 16))
        let count = input.withUnsafeMutableBytes { read(fd, $0.baseAddress! + old, 1 << 16) }
        if count <= 0 {
            input.removeSubrange(old...)
            if count < 0 && errno == EINTR { return }
            throw BenchFailure(count == 0 ? "Redis closed the connection" : "reading from Redis: \(String(cString: strerror(errno)))")
        }
        input.removeSubrange((old + count)...)
    }

    private func flush() throws(BenchFailure) {
        var done = 0
        while done < out.count {
            let count = out.withUnsafeBytes { write(fd, $0.baseAddress! + done, $0.count - done) }
            if count < 0 {
                if errno == EINTR { continue }
                throw BenchFailure("writing to Redis: \(String(cString: strerror(errno)))")
            }
            done += count
        }
        out.removeAll(keepingCapacity: true)
    }

    func close() { Glibc.close(fd) }
}
