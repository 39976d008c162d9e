import IndicatorKit

extension AuditRecord {
    /// The record's body (docs/AUDIT-LOG.md): members 1–22 in order, as UTF-8 bytes.
    package func body(seq: UInt64, prev: String, recoveredBytes: Int) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(512)
        var prev = prev
        prev.withUTF8 { appendBody(to: &out, seq: seq, prevHex: $0, recoveredBytes: recoveredBytes) }
        return out
    }

    /// Appends the body to `out` without building a `String`: the array grows once by an upper
    /// bound of the body's size (`bodyBound`), the members are stored through a pointer
    /// (`AuditBodyWriter`), and the unused tail is cut off — a writer that reuses `out` seals a
    /// record without allocating (the hot path of the audit log). `prevHex` is the previous
    /// record's `hash` as 64 hex digits.
    package func appendBody(to out: inout [UInt8], seq: UInt64, prevHex: UnsafeBufferPointer<UInt8>,
                            recoveredBytes: Int) {
        let bound = bodyBound(prevHex: prevHex.count)
        let start = out.count
        out.append(contentsOf: repeatElement(0, count: bound))
        let used = out.withUnsafeMutableBufferPointer { buffer in
            var writer = AuditBodyWriter(buffer.baseAddress! + start, capacity: bound)
            writeBody(&writer, seq: seq, prevHex: prevHex, recoveredBytes: recoveredBytes)
            return writer.count
        }
        out.removeLast(bound - used)
    }

    /// At least the size of the body: every member's name and punctuation, 20 digits per
    /// integer, and 6 bytes (`\u00XX`) per byte of every string.
    func bodyBound(prevHex: Int) -> Int {
        var texts = partner.utf8.count + fields.purpose.utf8.count + fields.legalBasis.utf8.count
            + fields.reference.utf8.count + fields.timeZone.utf8.count + code.utf8.count
            + kind.rawValue.utf8.count + fields.priority.name.utf8.count + decision.rawValue.utf8.count
        for name in refusedValues.keys { texts += name.utf8.count }
        return 512 + 6 * texts + 2 * certificateSHA256.count + prevHex
            + 48 * (countsByType.count + 1 + refusedValues.count) + 35 * hitDigests.count
            + (feed?.bodyBound ?? 0)
    }

    private func writeBody(_ out: inout AuditBodyWriter, seq: UInt64, prevHex: UnsafeBufferPointer<UInt8>,
                           recoveredBytes: Int) {
        out.byte(UInt8(ascii: "{"))
        out.member("seq", seq, first: true)
        out.key("time")
        out.byte(UInt8(ascii: "\""))
        out.timestamp(micros: timeMicros)
        out.byte(UInt8(ascii: "\""))
        out.member("kind", kind.rawValue)
        out.member("partner", partner)
        out.key("cert")
        out.byte(UInt8(ascii: "\""))
        certificateSHA256.withUnsafeBufferPointer { out.hex($0) }
        out.byte(UInt8(ascii: "\""))
        out.member("request_id", requestID)
        out.member("purpose", fields.purpose)
        out.member("legal_basis", fields.legalBasis)
        out.member("reference", fields.reference)
        out.member("priority", fields.priority.name)
        out.member("time_zone", fields.timeZone)
        out.member("values", count: valueCount)

        out.key("counts")
        out.byte(UInt8(ascii: "{"))
        var firstCount = true
        if countsByType.count == 1, let (type, count) = countsByType.first {
            // The common case (one type per batch): no walk over every type.
            if count > 0 { out.countMember(type.name, count, first: &firstCount) }
        } else if !countsByType.isEmpty {
            for (type, count) in countsByType.sorted(by: { $0.key.rawValue < $1.key.rawValue }) where count > 0 {
                out.countMember(type.name, count, first: &firstCount)
            }
        }
        if unknownTypeCount > 0 { out.countMember("unknown", unknownTypeCount, first: &firstCount) }
        out.byte(UInt8(ascii: "}"))

        out.key("refused_values")
        out.byte(UInt8(ascii: "{"))
        if !refusedValues.isEmpty {
            var firstRefusal = true
            for (code, count) in refusedValues.sorted(by: { $0.key < $1.key }) where count > 0 {
                out.countMember(code, count, first: &firstRefusal)
            }
        }
        out.byte(UInt8(ascii: "}"))

        out.member("hits", count: hitDigests.count)
        out.key("hit_digests")
        out.byte(UInt8(ascii: "["))
        for (index, digest) in hitDigests.enumerated() {
            if index > 0 { out.byte(UInt8(ascii: ",")) }
            out.byte(UInt8(ascii: "\""))
            out.hexLittleEndian(digest.lo)
            out.hexLittleEndian(digest.hi)
            out.byte(UInt8(ascii: "\""))
        }
        out.byte(UInt8(ascii: "]"))
        out.member("decision", decision.rawValue)
        out.member("code", code)
        out.member("policy_version", count: policyVersion)
        out.member("latency_us", latencyMicros)
        feed?.write(to: &out)
        out.member("recovered_bytes", count: recoveredBytes)
        out.key("prev")
        out.byte(UInt8(ascii: "\""))
        out.bytes(prevHex)
        out.byte(UInt8(ascii: "\""))
        out.byte(UInt8(ascii: "}"))
    }
}

/// Hex digits for the audit format (docs/AUDIT-LOG.md).
enum AuditBytes {
    /// The lower-case hex digit of a nibble.
    @inline(__always)
    static func nibble(_ value: UInt8) -> UInt8 {
        value < 10 ? 0x30 &+ value : 0x57 &+ value  // '0'… or 'a'…
    }

    /// Two hex digits per byte.
    static func appendHex(_ bytes: UnsafeBufferPointer<UInt8>, to out: inout [UInt8]) {
        for byte in bytes {
            out.append(nibble(byte >> 4))
            out.append(nibble(byte & 0x0F))
        }
    }
}

/// Stores a record body's JSON (docs/AUDIT-LOG.md, "Records") through a pointer into memory
/// the caller sized with `AuditRecord.bodyBound`: members in call order, no whitespace,
/// minimal escaping, numbers and hex without intermediate strings. Every store checks the
/// capacity (a wrong bound traps instead of writing past it). Must not escape the closure
/// that owns the memory.
struct AuditBodyWriter {
    private let base: UnsafeMutablePointer<UInt8>
    private let capacity: Int
    private(set) var count = 0

    init(_ base: UnsafeMutablePointer<UInt8>, capacity: Int) {
        self.base = base
        self.capacity = capacity
    }

    @inline(__always)
    private mutating func room(_ bytes: Int) {
        precondition(bytes <= capacity - count, "audit body larger than its bound")
    }

    @inline(__always)
    mutating func byte(_ value: UInt8) {
        room(1)
        base[count] = value
        count += 1
    }

    mutating func bytes(_ source: UnsafeBufferPointer<UInt8>) {
        guard let from = source.baseAddress, !source.isEmpty else { return }
        room(source.count)
        (base + count).update(from: from, count: source.count)
        count += source.count
    }

    /// `,"name":` (`"name":` for the first member). Names are ASCII without escapes.
    @inline(__always)
    mutating func key(_ name: StaticString, first: Bool = false) {
        if !first { byte(UInt8(ascii: ",")) }
        byte(UInt8(ascii: "\""))
        name.withUTF8Buffer { bytes($0) }
        byte(UInt8(ascii: "\""))
        byte(UInt8(ascii: ":"))
    }

    /// `"name":count` inside an object, with a comma before every member but the first.
    mutating func countMember(_ name: String, _ count: Int, first: inout Bool) {
        if !first { byte(UInt8(ascii: ",")) }
        first = false
        string(name)
        byte(UInt8(ascii: ":"))
        decimal(UInt64(max(0, count)))
    }

    /// Plain decimal, most significant digit first.
    mutating func decimal(_ value: UInt64) {
        if value < 10 {
            byte(0x30 &+ UInt8(value))
            return
        }
        var digits = 0
        var rest = value
        while rest > 0 {
            digits += 1
            rest /= 10
        }
        room(digits)
        rest = value
        var position = count + digits
        while rest > 0 {
            position -= 1
            base[position] = 0x30 &+ UInt8(rest % 10)
            rest /= 10
        }
        count += digits
    }

    /// `value` written with exactly `width` digits (zero-padded; `value` < 10^width).
    @inline(__always)
    mutating func padded(_ value: Int, width: Int) {
        room(width)
        var rest = value
        var position = count + width
        while position > count {
            position -= 1
            base[position] = 0x30 &+ UInt8(truncatingIfNeeded: rest % 10)
            rest /= 10
        }
        count += width
    }

    /// `YYYY-MM-DDTHH:MM:SS.ffffffZ` (UTC) for Unix time in microseconds.
    mutating func timestamp(micros: UInt64) {
        let seconds = Int(micros / 1_000_000)
        let days = seconds / 86_400
        let rest = seconds - days * 86_400
        let (year, month, day) = CivilDate.date(days: days)
        padded(year, width: 4)
        byte(UInt8(ascii: "-"))
        padded(month, width: 2)
        byte(UInt8(ascii: "-"))
        padded(day, width: 2)
        byte(UInt8(ascii: "T"))
        padded(rest / 3600, width: 2)
        byte(UInt8(ascii: ":"))
        padded(rest / 60 % 60, width: 2)
        byte(UInt8(ascii: ":"))
        padded(rest % 60, width: 2)
        byte(UInt8(ascii: "."))
        padded(Int(micros % 1_000_000), width: 6)
        byte(UInt8(ascii: "Z"))
    }

    /// Two hex digits per byte.
    mutating func hex(_ source: UnsafeBufferPointer<UInt8>) {
        room(2 * source.count)
        for value in source {
            base[count] = AuditBytes.nibble(value >> 4)
            base[count + 1] = AuditBytes.nibble(value & 0x0F)
            count += 2
        }
    }

    /// The 8 bytes of `value` in little-endian order, as hex (a digest half, `IndicatorDigest.bytes` order).
    @inline(__always)
    mutating func hexLittleEndian(_ value: UInt64) {
        room(16)
        var rest = value
        for _ in 0..<8 {
            let octet = UInt8(truncatingIfNeeded: rest)
            base[count] = AuditBytes.nibble(octet >> 4)
            base[count + 1] = AuditBytes.nibble(octet & 0x0F)
            count += 2
            rest >>= 8
        }
    }

    /// `,"name":"text"` (escaped as `string` does).
    mutating func member(_ name: StaticString, _ text: String, first: Bool = false) {
        key(name, first: first)
        string(text)
    }

    /// `,"name":value` in decimal.
    mutating func member(_ name: StaticString, _ value: UInt64, first: Bool = false) {
        key(name, first: first)
        decimal(value)
    }

    /// `,"name":count` in decimal, a negative count written as 0.
    mutating func member(_ name: StaticString, count: Int, first: Bool = false) {
        member(name, UInt64(max(0, count)), first: first)
    }

    /// `,"name":true` or `,"name":false`.
    mutating func member(_ name: StaticString, _ flag: Bool, first: Bool = false) {
        key(name, first: first)
        let text: StaticString = flag ? "true" : "false"
        text.withUTF8Buffer { bytes($0) }
    }

    /// `"` + the string with `"`, `\` and U+0000–U+001F escaped + `"` (docs/AUDIT-LOG.md).
    mutating func string(_ text: String) {
        byte(UInt8(ascii: "\""))
        var text = text
        text.withUTF8 { source in
            // Runs without anything to escape are copied whole.
            var runStart = 0
            for index in 0..<source.count {
                let value = source[index]
                guard value < 0x20 || value == UInt8(ascii: "\"") || value == UInt8(ascii: "\\") else { continue }
                bytes(UnsafeBufferPointer(rebasing: source[runStart..<index]))
                byte(UInt8(ascii: "\\"))
                if value < 0x20 {
                    byte(UInt8(ascii: "u"))
                    byte(0x30)
                    byte(0x30)
                    byte(AuditBytes.nibble(value >> 4))
                    byte(AuditBytes.nibble(value & 0x0F))
                } else {
                    byte(value)
                }
                runStart = index + 1
            }
            bytes(UnsafeBufferPointer(rebasing: source[runStart..<source.count]))
        }
        byte(UInt8(ascii: "\""))
    }
}
