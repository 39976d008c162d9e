/// Why a query batch was refused. The raw values are the wire protocol's and the audit log's
/// codes (docs/POLICY.md, "Decisions"); never rename one.
public enum RefusalCode: String, CaseIterable, Sendable, Hashable {
    /// No policy for the partner, its policy expired, or its role may not query.
    case notAuthorised = "not_authorised"
    /// A request field the policy requires is empty.
    case missingField = "missing_field"
    case purposeNotAllowed = "purpose_not_allowed"
    case legalBasisNotAllowed = "legal_basis_not_allowed"
    case priorityNotAllowed = "priority_not_allowed"
    /// More values than the policy's `max_batch`.
    case batchTooLarge = "batch_too_large"
    /// A value of a type the policy does not allow: the whole batch is refused.
    case typeNotAllowed = "type_not_allowed"
    /// The batch does not fit the partner's daily quota (indicators per UTC day).
    case quotaExceeded = "quota_exceeded"
    /// The batch does not fit the partner's token bucket (indicators per second with a burst).
    case rateLimited = "rate_limited"
}

/// A refusal: the stable code and a human reason. Reasons name fields, types and numbers,
/// never an indicator value. `Code` is a query's `RefusalCode` or an upload's
/// `UploadPolicy.RefusalCode`.
public struct CodedRefusal<Code: RawRepresentable & Hashable & Sendable>: Equatable, Hashable, Sendable,
    CustomStringConvertible where Code.RawValue == String {
    public var code: Code
    public var reason: String

    public init(_ code: Code, _ reason: String) {
        self.code = code
        self.reason = reason
    }

    public var description: String { "\(code.rawValue): \(reason)" }
}

/// A query batch's refusal.
public typealias Refusal = CodedRefusal<RefusalCode>

/// The evaluator's decision on one query batch: what the server answers and what it audits.
public struct BatchDecision: Equatable, Hashable, Sendable {
    /// The partner as identified by its certificate.
    public var partner: String
    /// The version of the policy that decided; nil when the partner has no policy.
    public var policyVersion: UInt32?
    /// How many values the batch held (all of them count against rate and quota when accepted).
    public var valueCount: Int
    /// Nil when the batch is accepted.
    public var refusal: Refusal?

    public init(partner: String, policyVersion: UInt32?, valueCount: Int, refusal: Refusal?) {
        self.partner = partner
        self.policyVersion = policyVersion
        self.valueCount = valueCount
        self.refusal = refusal
    }

    public var isAccepted: Bool { refusal == nil }

    /// `accept` or `refuse` (the audit log's spelling).
    public var decision: String { refusal == nil ? "accept" : "refuse" }
}
