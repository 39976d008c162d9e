public import IndicatorKit

/// One audited request (docs/AUDIT-LOG.md, "Records"). Holds no raw indicator: counts, codes
/// and the keyed digests of hits only.
public struct AuditRecord: Equatable, Sendable {
    public enum Kind: String, Sendable {
        case query
        case upload
        case withdraw
    }

    public enum Decision: String, Sendable {
        case accepted
        case refused
    }

    /// Unix time in microseconds (UTC) when the request was decided.
    public var timeMicros: UInt64
    public var kind: Kind
    /// The partner's name from its verified certificate.
    public var partner: String
    /// SHA-256 of the client certificate (DER), 32 bytes.
    public var certificateSHA256: [UInt8]
    public var requestID: UInt64
    public var fields: RequestFields
    public var valueCount: Int
    /// Values per type; values refused before their type was known go in `unknownTypeCount`.
    public var countsByType: [IndicatorType: Int]
    public var unknownTypeCount: Int
    /// Values refused individually, by refusal code (`invalid_value`, …).
    public var refusedValues: [String: Int]
    /// The digest of the matching entry of each hit, in batch order.
    public var hitDigests: [IndicatorDigest]
    public var decision: Decision
    /// The refusal code of a refused batch (docs/PROTOCOL.md), else empty.
    public var code: String
    public var policyVersion: Int
    public var latencyMicros: UInt64

    public init(
        timeMicros: UInt64, kind: Kind = .query, partner: String, certificateSHA256: [UInt8], requestID: UInt64,
        fields: RequestFields, valueCount: Int, countsByType: [IndicatorType: Int] = [:], unknownTypeCount: Int = 0,
        refusedValues: [String: Int] = [:], hitDigests: [IndicatorDigest] = [], decision: Decision,
        code: String = "", policyVersion: Int, latencyMicros: UInt64
    ) {
        self.timeMicros = timeMicros
        self.kind = kind
        self.partner = partner
        self.certificateSHA256 = certificateSHA256
        self.requestID = requestID
        self.fields = fields
        self.valueCount = valueCount
        self.countsByType = countsByType
        self.unknownTypeCount = unknownTypeCount
        self.refusedValues = refusedValues
        self.hitDigests = hitDigests
        self.decision = decision
        self.code = code
        self.policyVersion = policyVersion
        self.latencyMicros = latencyMicros
    }
}

extension AuditRecord {
    /// The record's body (docs/AUDIT-LOG.md): members 1–22 in order, as UTF-8 bytes.
    package func body(seq: UInt64, prev: String, recoveredBytes: Int) -> [UInt8] {
        var out = AuditJSON()
        out.begin()
        out.member("seq", seq)
        out.member("time", AuditTime.timestamp(micros: timeMicros))
        out.member("kind", kind.rawValue)
        out.member("partner", partner)
        out.member("cert", AuditJSON.hex(certificateSHA256))
        out.member("request_id", requestID)
        out.member("purpose", fields.purpose)
        out.member("legal_basis", fields.legalBasis)
        out.member("reference", fields.reference)
        out.member("priority", fields.priority.name)
        out.member("time_zone", fields.timeZone)
        out.member("values", UInt64(valueCount))
        var counts: [(String, UInt64)] = IndicatorType.allCases.compactMap { type in
            guard let count = countsByType[type], count > 0 else { return nil }
            return (type.name, UInt64(count))
        }
        if unknownTypeCount > 0 { counts.append(("unknown", UInt64(unknownTypeCount))) }
        out.member("counts", object: counts)
        out.member("refused_values", object: refusedValues.filter { $0.value > 0 }.sorted { $0.key < $1.key }
            .map { ($0.key, UInt64($0.value)) })
        out.member("hits", UInt64(hitDigests.count))
        out.member("hit_digests", strings: hitDigests.map(\.hex))
        out.member("decision", decision.rawValue)
        out.member("code", code)
        out.member("policy_version", UInt64(max(0, policyVersion)))
        out.member("latency_us", latencyMicros)
        out.member("recovered_bytes", UInt64(recoveredBytes))
        out.member("prev", prev)
        out.end()
        return out.bytes
    }
}

/// The minimal JSON writer of the audit format: members in call order, no whitespace.
struct AuditJSON {
    private(set) var bytes: [UInt8] = []
    private var first = true

    mutating func begin() { bytes.append(UInt8(ascii: "{")) }
    mutating func end() { bytes.append(UInt8(ascii: "}")) }

    private mutating func key(_ name: String) {
        if !first { bytes.append(UInt8(ascii: ",")) }
        first = false
        Self.appendString(name, to: &bytes)
        bytes.append(UInt8(ascii: ":"))
    }

    mutating func member(_ name: String, _ value: UInt64) {
        key(name)
        bytes.append(contentsOf: String(value).utf8)
    }

    mutating func member(_ name: String, _ value: String) {
        key(name)
        Self.appendString(value, to: &bytes)
    }

    mutating func member(_ name: String, object: [(String, UInt64)]) {
        key(name)
        bytes.append(UInt8(ascii: "{"))
        for (index, (field, value)) in object.enumerated() {
            if index > 0 { bytes.append(UInt8(ascii: ",")) }
            Self.appendString(field, to: &bytes)
            bytes.append(UInt8(ascii: ":"))
            bytes.append(contentsOf: String(value).utf8)
        }
        bytes.append(UInt8(ascii: "}"))
    }

    mutating func member(_ name: String, strings: [String]) {
        key(name)
        bytes.append(UInt8(ascii: "["))
        for (index, value) in strings.enumerated() {
            if index > 0 { bytes.append(UInt8(ascii: ",")) }
            Self.appendString(value, to: &bytes)
        }
        bytes.append(UInt8(ascii: "]"))
    }

    /// `"` + the string with `"`, `\` and U+0000–U+001F escaped + `"` (docs/AUDIT-LOG.md).
    static func appendString(_ text: String, to bytes: inout [UInt8]) {
        let digits = Array("0123456789abcdef".utf8)
        bytes.append(UInt8(ascii: "\""))
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"):
                bytes.append(UInt8(ascii: "\\"))
                bytes.append(byte)
            case 0..<0x20:
                bytes.append(contentsOf: Array(#"\u00"#.utf8))
                bytes.append(digits[Int(byte >> 4)])
                bytes.append(digits[Int(byte & 0x0F)])
            default:
                bytes.append(byte)
            }
        }
        bytes.append(UInt8(ascii: "\""))
    }

    static func hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var text: [UInt8] = []
        text.reserveCapacity(bytes.count * 2)
        for byte in bytes {
            text.append(digits[Int(byte >> 4)])
            text.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: text, as: UTF8.self)
    }
}

/// UTC timestamps with microseconds, `YYYY-MM-DDTHH:MM:SS.ffffffZ`.
enum AuditTime {
    static func timestamp(micros: UInt64) -> String {
        CivilDate.timestamp(seconds: Int(micros / 1_000_000), micros: Int(micros % 1_000_000))
    }
}
