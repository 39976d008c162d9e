import IndicatorKit

/// The hash chain of docs/AUDIT-LOG.md: sealing a record body into a line, and verifying a
/// sequence of lines. Pure: callers read and write the segment files.
public enum AuditChain {
    /// Where the chain stands: the last `seq` and `hash` (genesis: 0 and 64 zeros).
    public struct Head: Equatable, Sendable {
        public var seq: UInt64
        public var hash: String

        public static let genesis = Head(seq: 0, hash: AuditFormat.genesis)

        public init(seq: UInt64, hash: String) {
            self.seq = seq
            self.hash = hash
        }
    }

    /// Seals `record` as the record after `head`: returns its line (with the final LF) and
    /// the new head.
    package static func seal(_ record: AuditRecord, after head: Head, recoveredBytes: Int = 0) -> (line: [UInt8], head: Head) {
        var line: [UInt8] = []
        var hash = Array(head.hash.utf8)
        seal(record, seq: head.seq + 1, prevHex: &hash, recoveredBytes: recoveredBytes, appendingTo: &line)
        return (line, Head(seq: head.seq + 1, hash: String(decoding: hash, as: UTF8.self)))
    }

    /// Appends `record`'s line (with its LF) as record `seq` after the record whose hash is
    /// `prevHex` (64 hex digits), and leaves the new record's hash in `prevHex`. The body is
    /// written and hashed in place in `buffer`: the writer reuses both and allocates nothing
    /// per record but the hasher.
    package static func seal(_ record: AuditRecord, seq: UInt64, prevHex: inout [UInt8], recoveredBytes: Int,
                             appendingTo buffer: inout [UInt8]) {
        precondition(prevHex.count == AuditFormat.hashHexDigits, "prev is 64 hex digits")
        let start = buffer.count
        prevHex.withUnsafeBufferPointer { record.appendBody(to: &buffer, seq: seq, prevHex: $0, recoveredBytes: recoveredBytes) }
        let hash = buffer.withUnsafeBytes { BLAKE2b.hash(UnsafeRawBufferPointer(rebasing: $0[start...])) }
        buffer.removeLast()  // the body's closing brace
        buffer.append(contentsOf: AuditFormat.hashPrefix)
        for (index, byte) in hash.enumerated() {
            prevHex[2 * index] = AuditBytes.nibble(byte >> 4)
            prevHex[2 * index + 1] = AuditBytes.nibble(byte & 0x0F)
        }
        buffer.append(contentsOf: prevHex)
        buffer.append(UInt8(ascii: "\""))
        buffer.append(UInt8(ascii: "}"))
        buffer.append(0x0A)
    }

    /// Why a line does not continue the chain. `line` is 1-based within its segment.
    public struct Break: Error, Equatable, Sendable, CustomStringConvertible {
        public var file: String
        public var line: Int
        public var reason: String

        public var description: String { "\(file):\(line): \(reason)" }
    }

    /// Checks one line (without its LF) as the record after `head`; returns the new head.
    package static func verify(line: UnsafeBufferPointer<UInt8>, after head: Head, file: String, lineNumber: Int)
        throws(Break) -> Head
    {
        func broken(_ reason: String) -> Break { Break(file: file, line: lineNumber, reason: reason) }
        let suffix = AuditFormat.hashSuffixLength
        guard line.count > suffix + 2, line.first == UInt8(ascii: "{") else {
            throw broken("not an audit record (too short or not a JSON object)")
        }
        let hashStart = line.count - suffix
        let prefixEnd = hashStart + AuditFormat.hashPrefix.count
        guard line[hashStart..<prefixEnd].elementsEqual(AuditFormat.hashPrefix),
              line[line.count - 2] == UInt8(ascii: "\""), line[line.count - 1] == UInt8(ascii: "}")
        else {
            throw broken("record does not end with its \"hash\" member")
        }
        let storedHash = String(decoding: line[prefixEnd..<(line.count - 2)], as: UTF8.self)
        guard storedHash.utf8.allSatisfy({ isLowerHex($0) }) else { throw broken("\"hash\" is not 64 lower-case hex digits") }
        var body = Array(line[0..<hashStart])
        body.append(UInt8(ascii: "}"))
        let computed = AuditHex.string(body.withUnsafeBytes { BLAKE2b.hash($0) })
        guard computed == storedHash else { throw broken("hash mismatch: the record was altered") }
        guard let seq = unsignedMember("seq", in: body), seq == head.seq + 1 else {
            throw broken("\"seq\" is not \(head.seq + 1): a record is missing or out of order")
        }
        guard let prev = stringMember("prev", in: body), prev == head.hash else {
            throw broken("\"prev\" does not match the previous record's hash: the chain is broken here")
        }
        return Head(seq: seq, hash: storedHash)
    }

    /// Verifies every complete line of one segment's bytes after `head`. A final line without
    /// LF is a torn write and is reported as such.
    package static func verify(segment bytes: [UInt8], file: String, after head: Head) throws(Break) -> Head {
        var current = head
        var lineNumber = 0
        var start = 0
        while start < bytes.count {
            lineNumber += 1
            guard let end = bytes[start...].firstIndex(of: 0x0A) else {
                throw Break(file: file, line: lineNumber, reason: "last line has no LF (torn write of \(bytes.count - start) bytes)")
            }
            try bytes.withUnsafeBufferPointer { (all) throws(Break) in
                current = try verify(line: UnsafeBufferPointer(rebasing: all[start..<end]), after: current,
                                     file: file, lineNumber: lineNumber)
            }
            start = end + 1
        }
        return current
    }

    /// The integer value of `"name":` in a body written by `AuditJSON` (members are unique and
    /// keys never occur inside string values unescaped as `"name":` because `"` is escaped).
    static func unsignedMember(_ name: String, in body: [UInt8]) -> UInt64? {
        guard let start = valueStart(name, in: body) else { return nil }
        var value: UInt64 = 0
        var index = start
        while index < body.count, body[index] >= 0x30, body[index] <= 0x39 {
            let (times, o1) = value.multipliedReportingOverflow(by: 10)
            let (plus, o2) = times.addingReportingOverflow(UInt64(body[index] - 0x30))
            guard !o1, !o2 else { return nil }
            value = plus
            index += 1
        }
        return index > start ? value : nil
    }

    static func stringMember(_ name: String, in body: [UInt8]) -> String? {
        guard let start = valueStart(name, in: body), start < body.count, body[start] == UInt8(ascii: "\"") else {
            return nil
        }
        guard let end = body[(start + 1)...].firstIndex(of: UInt8(ascii: "\"")) else { return nil }
        return String(decoding: body[(start + 1)..<end], as: UTF8.self)
    }

    private static func valueStart(_ name: String, in body: [UInt8]) -> Int? {
        let key = Array("\"\(name)\":".utf8)
        guard body.count >= key.count else { return nil }
        for index in 0...(body.count - key.count) where body[index] == key[0] {
            // A key is preceded by `{` or `,`; inside strings `"` is always escaped.
            guard index == 1 || (index > 0 && body[index - 1] == UInt8(ascii: ",")) else { continue }
            if body[index..<(index + key.count)].elementsEqual(key) { return index + key.count }
        }
        return nil
    }

    private static func isLowerHex(_ byte: UInt8) -> Bool {
        (byte >= 0x30 && byte <= 0x39) || (byte >= 0x61 && byte <= 0x66)
    }
}
