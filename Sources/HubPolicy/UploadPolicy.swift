public import IndicatorKit

/// What a source (a `cert` partner) may upload and withdraw over the protocol (docs/POLICY.md,
/// "Uploads"): the `upload` section of its policy. Deny by default: a policy without the
/// section may neither upload nor withdraw.
public struct UploadPolicy: Equatable, Hashable, Sendable {
    /// The metadata a record gets for each field it leaves out (docs/PROTOCOL.md,
    /// "UPLOAD_RECORDS"): first and last seen default to the day of the upload.
    public struct Defaults: Equatable, Hashable, Sendable {
        public var category: ThreatCategory
        /// 0–100.
        public var confidence: UInt8
        public var tlp: TLP
        public var action: ActionHint
        /// A record without an expiry expires this many days after the upload.
        public var ttlDays: Int

        public init(category: ThreatCategory, confidence: UInt8, tlp: TLP, action: ActionHint, ttlDays: Int) {
            self.category = category
            self.confidence = min(confidence, 100)
            self.tlp = tlp
            self.action = action
            self.ttlDays = ttlDays
        }
    }

    /// The UPLOAD_BEGIN texts a policy can require (both are optional in the protocol).
    public enum RequiredField: String, CaseIterable, Sendable, Hashable, Comparable {
        case legalBasis = "legal_basis"
        case reference

        public static func < (a: Self, b: Self) -> Bool {
            allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)!
        }
    }

    /// Why an upload or a withdrawal is refused before any record is read. The raw values are
    /// the wire protocol's code names (docs/PROTOCOL.md, "Error codes").
    public enum RefusalCode: String, CaseIterable, Sendable, Hashable {
        /// The policy expired, the role is not `cert`, there is no `upload` section, or (for a
        /// withdrawal) `withdraw` is false.
        case operationNotAllowed = "operation_not_allowed"
        /// A text the policy requires (legal basis, reference) is empty.
        case missingField = "missing_field"
        /// More records than `max_records`.
        case uploadTooLarge = "upload_too_large"
    }

    /// A refusal of a whole upload or withdrawal; the reason names fields and numbers, never a value.
    public typealias Refusal = CodedRefusal<RefusalCode>

    public static let maxRecordsLimit = 1_000_000
    /// Ten years: a default time to live longer than that is a typo.
    public static let maxTTLDays = 3650

    /// The indicator types the source may list; a record of another type is refused
    /// (per-record `type_not_allowed`).
    public var types: Set<IndicatorType>
    /// The categories the source may list (the default category is one of them); a record
    /// stating another is refused (per-record `type_not_allowed`).
    public var categories: Set<ThreatCategory>
    public var defaults: Defaults
    /// UPLOAD_BEGIN texts that must be non-empty (default: both).
    public var requiredFields: Set<RequiredField>
    /// Most records in one upload (1 … 1,000,000).
    public var maxRecords: Int
    /// Whether the source may withdraw its own reports (default: no).
    public var mayWithdraw: Bool

    public init(types: Set<IndicatorType>, categories: Set<ThreatCategory>, defaults: Defaults,
                requiredFields: Set<RequiredField> = Set(RequiredField.allCases), maxRecords: Int = maxRecordsLimit,
                mayWithdraw: Bool = false) {
        self.types = types
        self.categories = categories
        self.defaults = defaults
        self.requiredFields = requiredFields
        self.maxRecords = maxRecords
        self.mayWithdraw = mayWithdraw
    }

    /// Whether a record of `type` stating (or defaulting to) `category` may be listed.
    public func allows(type: IndicatorType, category: ThreatCategory) -> Bool {
        types.contains(type) && categories.contains(category)
    }

    /// The expiry of a record without one, uploaded at `now` (Unix seconds): 00:00 UTC
    /// `ttl_days` days after the day of the upload, clamped to the 32-bit field. Whole days, as
    /// first and last seen are, so that a retry of the upload the same day has the same content
    /// (docs/PROTOCOL.md, "Retries").
    public func defaultExpiry(now: Int64) -> UInt32 {
        UInt32(clamping: (max(0, now) / 86_400 + Int64(defaults.ttlDays)) * 86_400)
    }
}

extension PartnerPolicy {
    /// Decides an UPLOAD_BEGIN before any record is read (docs/POLICY.md, "Uploads"), in this
    /// order: the policy is in force, the role is `cert` and there is an `upload` section;
    /// the required texts are present (legal basis, then reference); the record count is
    /// within `max_records`. Nil: the upload may start.
    public func uploadRefusal(legalBasis: String, reference: String, recordCount: Int, now: Int64) -> UploadPolicy.Refusal? {
        if let refusal = feedRightsRefusal(operation: "upload", now: now) { return refusal }
        guard let upload else { return nil }
        for field in UploadPolicy.RequiredField.allCases where upload.requiredFields.contains(field) {
            let text = field == .legalBasis ? legalBasis : reference
            if text.isEmpty {
                return UploadPolicy.Refusal(.missingField, "the upload has no \(field.rawValue) (required by the policy)")
            }
        }
        guard recordCount <= upload.maxRecords else {
            return UploadPolicy.Refusal(.uploadTooLarge, "\(recordCount) records in one upload; the policy allows at most \(upload.maxRecords)")
        }
        return nil
    }

    /// Decides a WITHDRAW: the policy is in force, the role is `cert`, there is an `upload`
    /// section and it sets `withdraw`. Nil: the withdrawal may proceed.
    public func withdrawRefusal(now: Int64) -> UploadPolicy.Refusal? {
        if let refusal = feedRightsRefusal(operation: "withdraw", now: now) { return refusal }
        guard upload?.mayWithdraw == true else {
            return UploadPolicy.Refusal(.operationNotAllowed, "the policy of partner \(PolicyText.quoted(partner)) "
                                        + "does not allow withdrawals (upload.withdraw is false)")
        }
        return nil
    }

    private func feedRightsRefusal(operation: String, now: Int64) -> UploadPolicy.Refusal? {
        guard role == .cert else {
            return UploadPolicy.Refusal(.operationNotAllowed, "partner \(PolicyText.quoted(partner)) has role "
                                        + "\(role.rawValue); only a cert may \(operation)")
        }
        if let validUntil, now > validUntil {
            return UploadPolicy.Refusal(.operationNotAllowed, "the policy of partner \(PolicyText.quoted(partner)) "
                                        + "(version \(version)) expired at \(PolicyDate.timestamp(validUntil))")
        }
        guard upload != nil else {
            return UploadPolicy.Refusal(.operationNotAllowed, "the policy of partner \(PolicyText.quoted(partner)) "
                                        + "has no upload section: it may not \(operation)")
        }
        return nil
    }
}
