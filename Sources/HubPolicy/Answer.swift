public import IndicatorKit

/// What a partner learns about one queried value: match or not, plus only the fields its policy
/// reveals (PRODUCT.md principle 2). Never the source, the TLP or the seen dates.
public struct Answer: Equatable, Hashable, Sendable {
    public var match: Bool
    public var category: ThreatCategory?
    public var confidence: UInt8?
    /// Unix seconds after which the entry stops matching; 0 means it never expires.
    public var expires: UInt32?
    public var action: ActionHint?

    public init(match: Bool, category: ThreatCategory? = nil, confidence: UInt8? = nil, expires: UInt32? = nil,
                action: ActionHint? = nil) {
        self.match = match
        self.category = category
        self.confidence = confidence
        self.expires = expires
        self.action = action
    }

    /// No match, and nothing else.
    public static let miss = Answer(match: false)
}

extension PartnerPolicy {
    /// Whether a store hit with `metadata` may be shown to this partner at all: its category is
    /// allowed and its TLP is at or below the ceiling. Otherwise it answers as a miss, so the
    /// partner cannot tell a hidden entry from an absent one.
    public func mayLearn(_ metadata: EntryMetadata) -> Bool {
        role.mayQuery && categories.contains(metadata.category) && metadata.tlp <= tlpCeiling
    }

    /// The minimal answer for a store hit (nil: no hit): a miss when the entry is hidden from
    /// this partner, else a match with only the revealed fields.
    public func reveal(_ metadata: EntryMetadata?) -> Answer {
        guard let metadata, mayLearn(metadata) else { return .miss }
        return Answer(
            match: true,
            category: reveals.contains(.category) ? metadata.category : nil,
            confidence: reveals.contains(.confidence) ? metadata.confidence : nil,
            expires: reveals.contains(.expires) ? metadata.expires : nil,
            action: reveals.contains(.action) ? metadata.action : nil)
    }
}
