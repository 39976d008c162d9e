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
    /// An upload's or a withdrawal's details (kinds `upload` and `withdraw`); nil for a query.
    public var feed: FeedAudit?

    public init(
        timeMicros: UInt64, kind: Kind = .query, partner: String, certificateSHA256: [UInt8], requestID: UInt64,
        fields: RequestFields, valueCount: Int, countsByType: [IndicatorType: Int] = [:], unknownTypeCount: Int = 0,
        refusedValues: [String: Int] = [:], hitDigests: [IndicatorDigest] = [], decision: Decision,
        code: String = "", policyVersion: Int, latencyMicros: UInt64, feed: FeedAudit? = nil
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
        self.feed = feed
    }
}

/// Lower-case hex of a hash (the verifier's comparison value).
enum AuditHex {
    static func string(_ bytes: [UInt8]) -> String {
        var text: [UInt8] = []
        text.reserveCapacity(bytes.count * 2)
        bytes.withUnsafeBufferPointer { AuditBytes.appendHex($0, to: &text) }
        return String(decoding: text, as: UTF8.self)
    }
}
