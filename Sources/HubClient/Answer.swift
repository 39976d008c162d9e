public import HubWire

/// The hub's answer for one value of `HubClient.query`, in the order the values were given.
public enum Answer: Equatable, Sendable {
    /// No live entry matches.
    case miss
    /// A live entry matches; the fields are those the partner's policy reveals (often none).
    case hit(RevealedFields)
    /// The hub could not answer this value (empty, too long, not an indicator, invalid for its
    /// type, or a type the policy does not allow).
    case refused(ValueRefusal)
    /// The hub refused the whole batch this value travelled in (request-level ERROR: a
    /// purpose the policy does not allow, a rate or quota limit, …) with its code and reason.
    case batchRefused(code: ErrorCode, reason: String)

    /// Whether the value got a hit-or-miss answer.
    public var isAnswered: Bool {
        switch self {
        case .miss, .hit: true
        case .refused, .batchRefused: false
        }
    }
}
