public import IndicatorKit

/// The compact answer for one value, written by `Matcher.match(_:types:now:into:)` into
/// caller-owned storage: plain data (40 bytes, no references), so answering a batch neither
/// allocates nor touches reference counts. The metadata stays in its two stored words and is
/// decoded only when asked for; a refusal's reason is rebuilt only when asked for
/// (`Matcher.refusal(of:as:)`).
public struct MatchRecord: Equatable, Sendable {
    /// What happened to the value.
    public enum Status: UInt8, Sendable {
        /// Not a valid indicator (`Matcher.refusal(of:as:)` says why).
        case refused = 0
        /// Valid, of `type`, and not listed (or only by expired entries).
        case miss = 1
        /// Listed: `metadata` and `kind` say by what.
        case hit = 2
    }

    public var status: Status
    /// The value's type (for `miss` and `hit`; meaningless for `refused`).
    public var type: IndicatorType
    /// `Probe.kind` of the matching probe (hit only).
    var kindCode: UInt8
    /// `Probe.detail` of the matching probe (hit only).
    var detail: UInt8
    /// Cold record bytes 8..<16 and 16..<24 of the matching entry (hit only), little-endian words.
    var word2: UInt64
    var word3: UInt64
    /// The keyed digest of the matching probe (hit only): what the audit trail records for a
    /// hit instead of the value (the entry's key, not the queried value's when a network,
    /// parent domain or URL expression matched).
    var digestLo: UInt64
    var digestHi: UInt64

    @inline(__always)
    init(status: Status, type: IndicatorType, kindCode: UInt8 = 0, detail: UInt8 = 0, word2: UInt64 = 0, word3: UInt64 = 0,
         digestLo: UInt64 = 0, digestHi: UInt64 = 0) {
        self.status = status
        self.type = type
        self.kindCode = kindCode
        self.detail = detail
        self.word2 = word2
        self.word3 = word3
        self.digestLo = digestLo
        self.digestHi = digestHi
    }

    /// A refused value's record.
    public static let refused = MatchRecord(status: .refused, type: .ipv4)

    /// A miss of `type`.
    @inline(__always)
    static func miss(_ type: IndicatorType) -> MatchRecord { MatchRecord(status: .miss, type: type) }

    public var isHit: Bool { status == .hit }

    /// The matching entry's metadata (hit only), decoded from the stored words.
    public var metadata: EntryMetadata? {
        status == .hit ? Slot.decode(word2, word3) : nil
    }

    /// The digest of the matching entry (hit only).
    public var digest: IndicatorDigest? {
        status == .hit ? IndicatorDigest(lo: digestLo, hi: digestHi) : nil
    }

    /// Which probe matched (hit only).
    public var kind: MatchKind? {
        guard status == .hit else { return nil }
        return switch kindCode {
        case Probe.exact: .exact
        case Probe.network: .network(prefixLength: detail)
        case Probe.parent: .parent(levels: detail)
        default: .urlExpression
        }
    }
}

extension MatchResult {
    /// The full answer for a record; `refusal` is the reason for a refused record.
    public init(_ record: MatchRecord, refusal: @autoclosure () -> IndicatorError) {
        switch record.status {
        case .refused: self = .refused(refusal())
        case .miss: self = .miss(record.type)
        case .hit: self = .hit(record.type, record.metadata!, record.kind!)
        }
    }
}
