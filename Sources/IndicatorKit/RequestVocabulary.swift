/// The seeds' standard request form (EU Council conclusions 2008, annex): every query batch
/// says why it is asked (purpose), under which legal basis, the partner's reference number,
/// how urgent it is and the requester's time zone. Shared by the wire protocol, the policies
/// and the audit trail, so all three spell it the same way.
public enum RequestPriority: UInt8, CaseIterable, Sendable, Hashable, Comparable {
    case routine = 0
    case urgent = 1
    case critical = 2

    public var name: String {
        switch self {
        case .routine: "routine"
        case .urgent: "urgent"
        case .critical: "critical"
        }
    }

    public init?(name: String) {
        let lowered = name.lowercased()
        guard let match = Self.allCases.first(where: { $0.name == lowered }) else { return nil }
        self = match
    }

    public static func < (a: RequestPriority, b: RequestPriority) -> Bool { a.rawValue < b.rawValue }
}

/// The structured fields of a query batch (PRODUCT.md principle 4). Text fields are UTF-8,
/// at most `RequestFields.maxFieldBytes` bytes each; an empty string means "not given".
public struct RequestFields: Equatable, Hashable, Sendable {
    public static let maxFieldBytes = 256

    /// Why the partner asks, e.g. `payment-screening`; must be one its policy allows.
    public var purpose: String
    /// The legal basis the partner relies on, e.g. `gdpr-6-1-f`.
    public var legalBasis: String
    /// The partner's own reference number for the request (its case or transaction id).
    public var reference: String
    public var priority: RequestPriority
    /// The requester's time zone: an IANA name (`Europe/Berlin`) or a UTC offset (`+01:00`).
    public var timeZone: String

    public init(purpose: String, legalBasis: String, reference: String, priority: RequestPriority = .routine,
                timeZone: String) {
        self.purpose = purpose
        self.legalBasis = legalBasis
        self.reference = reference
        self.priority = priority
        self.timeZone = timeZone
    }
}
