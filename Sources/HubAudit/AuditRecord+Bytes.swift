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

    /// Appends the body to `out` with byte appends only: no `String` is built, so a writer
    /// that reuses `out` seals a record without allocating (the hot path of the audit writer).
    /// `prevHex` is the previous record's `hash` as 64 hex digits.
    package func appendBody(to out: inout [UInt8], seq: UInt64, prevHex: UnsafeBufferPointer<UInt8>,
                            recoveredBytes: Int) {
        out.append(UInt8(ascii: "{"))
        AuditBytes.key("seq", first: true, to: &out)
        AuditBytes.appendDecimal(seq, to: &out)
        AuditBytes.key("time", to: &out)
        out.append(UInt8(ascii: "\""))
        AuditBytes.appendTimestamp(micros: timeMicros, to: &out)
        out.append(UInt8(ascii: "\""))
        AuditBytes.key("kind", to: &out)
        AuditBytes.appendString(kind.rawValue, to: &out)
        AuditBytes.key("partner", to: &out)
        AuditBytes.appendString(partner, to: &out)
        AuditBytes.key("cert", to: &out)
        out.append(UInt8(ascii: "\""))
        certificateSHA256.withUnsafeBufferPointer { AuditBytes.appendHex($0, to: &out) }
        out.append(UInt8(ascii: "\""))
        AuditBytes.key("request_id", to: &out)
        AuditBytes.appendDecimal(requestID, to: &out)
        AuditBytes.key("purpose", to: &out)
        AuditBytes.appendString(fields.purpose, to: &out)
        AuditBytes.key("legal_basis", to: &out)
        AuditBytes.appendString(fields.legalBasis, to: &out)
        AuditBytes.key("reference", to: &out)
        AuditBytes.appendString(fields.reference, to: &out)
        AuditBytes.key("priority", to: &out)
        AuditBytes.appendString(fields.priority.name, to: &out)
        AuditBytes.key("time_zone", to: &out)
        AuditBytes.appendString(fields.timeZone, to: &out)
        AuditBytes.key("values", to: &out)
        AuditBytes.appendDecimal(UInt64(max(0, valueCount)), to: &out)

        AuditBytes.key("counts", to: &out)
        out.append(UInt8(ascii: "{"))
        var firstCount = true
        if countsByType.count == 1, let (type, count) = countsByType.first {
            // The common case (one type per batch): no walk over every type.
            if count > 0 { AuditBytes.countMember(type.name, count, first: &firstCount, to: &out) }
        } else if !countsByType.isEmpty {
            for (type, count) in countsByType.sorted(by: { $0.key.rawValue < $1.key.rawValue }) where count > 0 {
                AuditBytes.countMember(type.name, count, first: &firstCount, to: &out)
            }
        }
        if unknownTypeCount > 0 { AuditBytes.countMember("unknown", unknownTypeCount, first: &firstCount, to: &out) }
        out.append(UInt8(ascii: "}"))

        AuditBytes.key("refused_values", to: &out)
        out.append(UInt8(ascii: "{"))
        if !refusedValues.isEmpty {
            var firstRefusal = true
            for (code, count) in refusedValues.sorted(by: { $0.key < $1.key }) where count > 0 {
                AuditBytes.countMember(code, count, first: &firstRefusal, to: &out)
            }
        }
        out.append(UInt8(ascii: "}"))

        AuditBytes.key("hits", to: &out)
        AuditBytes.appendDecimal(UInt64(hitDigests.count), to: &out)
        AuditBytes.key("hit_digests", to: &out)
        out.append(UInt8(ascii: "["))
        for (index, digest) in hitDigests.enumerated() {
            if index > 0 { out.append(UInt8(ascii: ",")) }
            out.append(UInt8(ascii: "\""))
            AuditBytes.appendHexLittleEndian(digest.lo, to: &out)
            AuditBytes.appendHexLittleEndian(digest.hi, to: &out)
            out.append(UInt8(ascii: "\""))
        }
        out.append(UInt8(ascii: "]"))
        AuditBytes.key("decision", to: &out)
        AuditBytes.appendString(decision.rawValue, to: &out)
        AuditBytes.key("code", to: &out)
        AuditBytes.appendString(code, to: &out)
        AuditBytes.key("policy_version", to: &out)
        AuditBytes.appendDecimal(UInt64(max(0, policyVersion)), to: &out)
        AuditBytes.key("latency_us", to: &out)
        AuditBytes.appendDecimal(latencyMicros, to: &out)
        feed?.append(to: &out)
        AuditBytes.key("recovered_bytes", to: &out)
        AuditBytes.appendDecimal(UInt64(max(0, recoveredBytes)), to: &out)
        AuditBytes.key("prev", to: &out)
        out.append(UInt8(ascii: "\""))
        out.append(contentsOf: prevHex)
        out.append(UInt8(ascii: "\""))
        out.append(UInt8(ascii: "}"))
    }
}

/// The byte appends of the audit format's JSON (docs/AUDIT-LOG.md, "Records"): members in call
/// order, no whitespace, minimal escaping, numbers and hex without intermediate strings.
enum AuditBytes {
    /// The lower-case hex digit of a nibble.
    @inline(__always)
    static func nibble(_ value: UInt8) -> UInt8 {
        value < 10 ? 0x30 &+ value : 0x57 &+ value  // '0'… or 'a'…
    }

    /// `,"name":` (`"name":` for the first member). Names are ASCII without escapes.
    @inline(__always)
    static func key(_ name: StaticString, first: Bool = false, to out: inout [UInt8]) {
        if !first { out.append(UInt8(ascii: ",")) }
        out.append(UInt8(ascii: "\""))
        name.withUTF8Buffer { out.append(contentsOf: $0) }
        out.append(UInt8(ascii: "\""))
        out.append(UInt8(ascii: ":"))
    }

    /// `"name":count` inside an object, with a comma before every member but the first.
    static func countMember(_ name: String, _ count: Int, first: inout Bool, to out: inout [UInt8]) {
        if !first { out.append(UInt8(ascii: ",")) }
        first = false
        appendString(name, to: &out)
        out.append(UInt8(ascii: ":"))
        appendDecimal(UInt64(max(0, count)), to: &out)
    }

    /// Plain decimal, most significant digit first.
    static func appendDecimal(_ value: UInt64, to out: inout [UInt8]) {
        if value < 10 {
            out.append(0x30 &+ UInt8(value))
            return
        }
        var scratch: (UInt64, UInt64, UInt64) = (0, 0, 0)  // 24 bytes ≥ 20 digits
        withUnsafeMutableBytes(of: &scratch) { raw in
            var position = raw.count
            var rest = value
            while rest > 0 {
                position -= 1
                raw[position] = 0x30 &+ UInt8(rest % 10)
                rest /= 10
            }
            out.append(contentsOf: UnsafeRawBufferPointer(rebasing: raw[position...]))
        }
    }

    /// `value` written with exactly `width` digits (zero-padded; `value` < 10^width).
    @inline(__always)
    static func appendPadded(_ value: Int, width: Int, to out: inout [UInt8]) {
        var divisor = 1
        for _ in 1..<width { divisor *= 10 }
        var rest = value
        while divisor > 0 {
            out.append(0x30 &+ UInt8(truncatingIfNeeded: rest / divisor % 10))
            rest %= divisor
            divisor /= 10
        }
    }

    /// `YYYY-MM-DDTHH:MM:SS.ffffffZ` (UTC) for Unix time in microseconds.
    static func appendTimestamp(micros: UInt64, to out: inout [UInt8]) {
        let seconds = Int(micros / 1_000_000)
        let days = seconds / 86_400
        let rest = seconds - days * 86_400
        let (year, month, day) = CivilDate.date(days: days)
        appendPadded(year, width: 4, to: &out)
        out.append(UInt8(ascii: "-"))
        appendPadded(month, width: 2, to: &out)
        out.append(UInt8(ascii: "-"))
        appendPadded(day, width: 2, to: &out)
        out.append(UInt8(ascii: "T"))
        appendPadded(rest / 3600, width: 2, to: &out)
        out.append(UInt8(ascii: ":"))
        appendPadded(rest / 60 % 60, width: 2, to: &out)
        out.append(UInt8(ascii: ":"))
        appendPadded(rest % 60, width: 2, to: &out)
        out.append(UInt8(ascii: "."))
        appendPadded(Int(micros % 1_000_000), width: 6, to: &out)
        out.append(UInt8(ascii: "Z"))
    }

    /// Two hex digits per byte.
    static func appendHex(_ bytes: UnsafeBufferPointer<UInt8>, to out: inout [UInt8]) {
        for byte in bytes {
            out.append(nibble(byte >> 4))
            out.append(nibble(byte & 0x0F))
        }
    }

    /// The 8 bytes of `value` in little-endian order, as hex (a digest half, `IndicatorDigest.bytes` order).
    @inline(__always)
    static func appendHexLittleEndian(_ value: UInt64, to out: inout [UInt8]) {
        var rest = value
        for _ in 0..<8 {
            let byte = UInt8(truncatingIfNeeded: rest)
            out.append(nibble(byte >> 4))
            out.append(nibble(byte & 0x0F))
            rest >>= 8
        }
    }

    /// `"` + the string with `"`, `\` and U+0000–U+001F escaped + `"` (docs/AUDIT-LOG.md).
    static func appendString(_ text: String, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        var text = text
        text.withUTF8 { bytes in
            // Runs without anything to escape are copied whole.
            var runStart = 0
            for index in 0..<bytes.count {
                let byte = bytes[index]
                guard byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") else { continue }
                out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[runStart..<index]))
                out.append(UInt8(ascii: "\\"))
                if byte < 0x20 {
                    out.append(UInt8(ascii: "u"))
                    out.append(0x30)
                    out.append(0x30)
                    out.append(nibble(byte >> 4))
                    out.append(nibble(byte & 0x0F))
                } else {
                    out.append(byte)
                }
                runStart = index + 1
            }
            out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[runStart..<bytes.count]))
        }
        out.append(UInt8(ascii: "\""))
    }
}
