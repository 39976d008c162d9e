public import IndicatorKit

/// What one partner may do (docs/POLICY.md). Deny by default: a partner may ask only for the
/// types, purposes, legal bases and priorities listed, sees only the categories and TLP levels
/// listed, and learns only the answer fields listed (match / no match when none).
///
/// Made by `PartnerPolicy.parse(_:file:)` (from a `Policies/NAME.json` file) or by `init` in
/// tests; a value of this type always satisfies the rules of docs/POLICY.md.
public struct PartnerPolicy: Equatable, Hashable, Sendable {
    /// What kind of partner this is. An analyst reads the audit trail on the hub host and may not query.
    public enum Role: String, CaseIterable, Sendable, Hashable {
        case bank
        case isp
        case cert
        case analyst

        /// Whether partners of this role may send query batches at all.
        public var mayQuery: Bool { self != .analyst }
    }

    /// The answer fields a policy can reveal on a match, in answer order.
    public enum RevealedField: String, CaseIterable, Sendable, Hashable, Comparable {
        case category
        case confidence
        case expires
        case action

        public static func < (a: Self, b: Self) -> Bool {
            allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)!
        }
    }

    /// The structured request fields (PRODUCT.md principle 4) a policy can require.
    public enum RequestField: String, CaseIterable, Sendable, Hashable, Comparable {
        case purpose
        case legalBasis = "legal_basis"
        case reference
        case timeZone = "time_zone"

        /// Purpose and legal basis are required by every policy.
        public static let alwaysRequired: Set<RequestField> = [.purpose, .legalBasis]

        public static func < (a: Self, b: Self) -> Bool {
            allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)!
        }
    }

    /// Indicators per second with a burst: a token bucket holding at most `burst` tokens,
    /// refilled at `perSecond`; each queried value takes one token.
    public struct Rate: Equatable, Hashable, Sendable {
        public var perSecond: Int
        public var burst: Int

        public init(perSecond: Int, burst: Int) {
            self.perSecond = perSecond
            self.burst = burst
        }
    }

    /// The partner's name: its TLS client certificate's name, and the policy file's name.
    public var partner: String
    public var role: Role
    /// Raised on every change; recorded with every decision in the audit trail.
    public var version: UInt32
    /// The operator's note (free text, never used for decisions).
    public var comment: String?
    /// Unix seconds of the last second the policy is valid; after it the partner may do nothing.
    public var validUntil: Int64?
    public var types: Set<IndicatorType>
    /// Entries of other categories answer as a miss.
    public var categories: Set<ThreatCategory>
    /// Purposes in the order the file lists them (compared exactly).
    public var purposes: [String]
    /// Legal bases in the order the file lists them (compared exactly).
    public var legalBases: [String]
    /// Always contains `RequestField.alwaysRequired`.
    public var requiredFields: Set<RequestField>
    /// Empty: an answer says match / no match only.
    public var reveals: Set<RevealedField>
    /// Most values in one batch.
    public var maxBatch: Int
    public var rate: Rate
    /// Most values per UTC day.
    public var dailyQuota: Int
    /// Entries marked above this answer as a miss.
    public var tlpCeiling: TLP
    public var priorities: Set<RequestPriority>
    /// What the partner may upload and withdraw (only a `cert`); nil: neither.
    public var upload: UploadPolicy?

    public init(
        partner: String, role: Role, version: UInt32, comment: String? = nil, validUntil: Int64? = nil,
        types: Set<IndicatorType>, categories: Set<ThreatCategory>, purposes: [String], legalBases: [String],
        requiredFields: Set<RequestField> = Set(RequestField.allCases), reveals: Set<RevealedField> = [],
        maxBatch: Int, rate: Rate, dailyQuota: Int, tlpCeiling: TLP,
        priorities: Set<RequestPriority> = Set(RequestPriority.allCases), upload: UploadPolicy? = nil
    ) {
        self.partner = partner
        self.role = role
        self.version = version
        self.comment = comment
        self.validUntil = validUntil
        self.types = types
        self.categories = categories
        self.purposes = purposes
        self.legalBases = legalBases
        self.requiredFields = requiredFields.union(RequestField.alwaysRequired)
        self.reveals = reveals
        self.maxBatch = maxBatch
        self.rate = rate
        self.dailyQuota = dailyQuota
        self.tlpCeiling = tlpCeiling
        self.priorities = priorities
        self.upload = upload
    }

    /// An analyst's policy: identity, version and validity only; every query is refused.
    public static func analyst(partner: String, version: UInt32, comment: String? = nil,
                               validUntil: Int64? = nil) -> PartnerPolicy {
        PartnerPolicy(partner: partner, role: .analyst, version: version, comment: comment, validUntil: validUntil,
                      types: [], categories: [], purposes: [], legalBases: [], requiredFields: [], reveals: [],
                      maxBatch: 0, rate: Rate(perSecond: 0, burst: 0), dailyQuota: 0, tlpCeiling: .clear,
                      priorities: [])
    }

    /// Whether the policy is still in force at `now` (Unix seconds).
    public func isValid(at now: Int64) -> Bool {
        guard let validUntil else { return true }
        return now <= validUntil
    }

    /// Whether values of `type` may be asked about (the per-value check).
    public func allows(type: IndicatorType) -> Bool {
        role.mayQuery && types.contains(type)
    }

    /// Whether the two policies decide every request and answer alike (the comment, the
    /// version and the order of lists aside): a reload that changes a policy must raise its version.
    public func decidesLike(_ other: PartnerPolicy) -> Bool {
        var a = self
        var b = other
        a.version = 0
        b.version = 0
        a.comment = nil
        b.comment = nil
        a.purposes.sort()
        b.purposes.sort()
        a.legalBases.sort()
        b.legalBases.sort()
        return a == b
    }
}
