public import IndicatorKit

/// The two clocks a decision reads, passed in so the evaluator stays pure.
public struct PolicyClock: Equatable, Hashable, Sendable {
    /// Wall clock, Unix seconds (`CLOCK_REALTIME`): policy validity and the UTC-day quota.
    public var unixSeconds: Int64
    /// Monotonic nanoseconds (`CLOCK_MONOTONIC`): the token bucket.
    public var monotonicNanoseconds: UInt64

    public init(unixSeconds: Int64, monotonicNanoseconds: UInt64) {
        self.unixSeconds = unixSeconds
        self.monotonicNanoseconds = monotonicNanoseconds
    }
}

/// The evaluator (docs/POLICY.md, "Decisions"): the checks run in the documented order and the
/// first that fails refuses the whole batch.
extension PolicySet {
    /// Decides a batch from `partner` without touching rate or quota: steps 1–7 of the order.
    /// `types` holds the declared type of each value; nil is a value sent for detection (its
    /// detected type is checked per value when it is matched, and it counts toward the batch).
    public func evaluate(partner: String, request: RequestFields, types: [IndicatorType?], now: Int64) -> BatchDecision {
        guard let policy = self[partner: partner] else {
            return BatchDecision(partner: partner, policyVersion: nil, valueCount: types.count,
                                 refusal: Refusal(.notAuthorised, "no policy for partner \(PolicyText.quoted(partner))"))
        }
        return policy.evaluate(request: request, types: types, now: now)
    }

    /// Decides a batch and, when it passes every other check, admits it against the partner's
    /// quota and token bucket (`limits`, owned by the caller per partner): steps 1–9. A refused
    /// batch consumes nothing.
    public func evaluate(partner: String, request: RequestFields, types: [IndicatorType?], clock: PolicyClock,
                         limits: inout PartnerLimits) -> BatchDecision {
        guard let policy = self[partner: partner] else {
            return evaluate(partner: partner, request: request, types: types, now: clock.unixSeconds)
        }
        return policy.evaluate(request: request, types: types, clock: clock, limits: &limits)
    }
}

extension PartnerPolicy {
    /// Steps 1–7 (no rate or quota); see `PolicySet.evaluate(partner:request:types:now:)`.
    public func evaluate(request: RequestFields, types: [IndicatorType?], now: Int64) -> BatchDecision {
        BatchDecision(partner: partner, policyVersion: version, valueCount: types.count,
                      refusal: staticRefusal(request: request, types: types, now: now))
    }

    /// Steps 1–9; see `PolicySet.evaluate(partner:request:types:clock:limits:)`.
    public func evaluate(request: RequestFields, types: [IndicatorType?], clock: PolicyClock,
                         limits: inout PartnerLimits) -> BatchDecision {
        var refusal = staticRefusal(request: request, types: types, now: clock.unixSeconds)
        if refusal == nil {
            refusal = limits.admit(types.count, policy: self, clock: clock)
        }
        return BatchDecision(partner: partner, policyVersion: version, valueCount: types.count, refusal: refusal)
    }

    private func staticRefusal(request: RequestFields, types: [IndicatorType?], now: Int64) -> Refusal? {
        // 1. Who: the role may query and the policy is in force.
        guard role.mayQuery else {
            return Refusal(.notAuthorised, "partner \(PolicyText.quoted(partner)) has role \(role.rawValue), which may not query")
        }
        if let validUntil, now > validUntil {
            return Refusal(.notAuthorised, "the policy of partner \(PolicyText.quoted(partner)) (version \(version)) "
                           + "expired at \(PolicyDate.timestamp(validUntil))")
        }
        // 2. The structured request form: every required field is present.
        for field in RequestField.allCases where requiredFields.contains(field) && request.value(of: field).isEmpty {
            return Refusal(.missingField, "the request has no \(field.rawValue) (required by the policy)")
        }
        // 3–5. Purpose, legal basis and priority are allowed.
        guard purposes.contains(request.purpose) else {
            return Refusal(.purposeNotAllowed, "purpose \(PolicyText.quoted(request.purpose)) is not allowed "
                           + "(allowed: \(purposes.joined(separator: ", ")))")
        }
        guard legalBases.contains(request.legalBasis) else {
            return Refusal(.legalBasisNotAllowed, "legal basis \(PolicyText.quoted(request.legalBasis)) is not allowed "
                           + "(allowed: \(legalBases.joined(separator: ", ")))")
        }
        guard priorities.contains(request.priority) else {
            let allowed = priorities.sorted().map(\.name).joined(separator: ", ")
            return Refusal(.priorityNotAllowed, "priority \(request.priority.name) is not allowed (allowed: \(allowed))")
        }
        // 6. Size.
        guard types.count <= maxBatch else {
            return Refusal(.batchTooLarge, "\(types.count) values in one batch; the policy allows at most \(maxBatch)")
        }
        // 7. Every declared type is allowed (the first value that is not is named); a detected
        // type outside the policy refuses only its value (docs/POLICY.md, "Decisions").
        for (index, type) in types.enumerated() {
            if let type, !self.types.contains(type) {
                let allowed = self.types.sorted { $0.rawValue < $1.rawValue }.map(\.name).joined(separator: ", ")
                return Refusal(.typeNotAllowed, "value \(index + 1) is of type \(type.name), which the policy does not "
                               + "allow (allowed: \(allowed)); the whole batch is refused")
            }
        }
        return nil
    }
}

extension RequestFields {
    /// The text of one structured field (the priority always has a value and is never "missing").
    func value(of field: PartnerPolicy.RequestField) -> String {
        switch field {
        case .purpose: purpose
        case .legalBasis: legalBasis
        case .reference: reference
        case .timeZone: timeZone
        }
    }
}
