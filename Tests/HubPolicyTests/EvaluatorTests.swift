import HubPolicy
import IndicatorKit
import Testing

/// The evaluator: one test per refusal code, the order of the checks, and accounting.
@Suite struct EvaluatorTests {
    static let bank = PartnerPolicy(
        partner: "bank-a", role: .bank, version: 7, validUntil: 2_000_000_000, types: [.iban, .email],
        categories: [.fraud], purposes: ["payment-screening"], legalBases: ["psd2-art-94"], reveals: [.category],
        maxBatch: 10, rate: .init(perSecond: 5, burst: 10), dailyQuota: 25, tlpCeiling: .amber,
        priorities: [.routine, .urgent])
    static let set = try! PolicySet([bank, .analyst(partner: "oversight", version: 2)])
    static let now: Int64 = 1_800_000_000
    static let good = RequestFields(purpose: "payment-screening", legalBasis: "psd2-art-94", reference: "TX-1",
                                    priority: .urgent, timeZone: "Europe/Berlin")

    func decide(_ request: RequestFields = good, types: [IndicatorType?] = [.iban, .email], partner: String = "bank-a",
                now: Int64 = now) -> BatchDecision {
        Self.set.evaluate(partner: partner, request: request, types: types, now: now)
    }

    @Test func aProperBatchIsAccepted() {
        let decision = decide()
        #expect(decision == BatchDecision(partner: "bank-a", policyVersion: 7, valueCount: 2, refusal: nil))
        #expect(decision.isAccepted && decision.decision == "accept")
    }

    @Test func unknownPartnerExpiredPolicyAndAnalystAreNotAuthorised() {
        let unknown = decide(partner: "mallory")
        #expect(unknown.refusal == Refusal(.notAuthorised, #"no policy for partner "mallory""#))
        #expect(unknown.policyVersion == nil)
        let expired = decide(now: 2_000_000_001)
        #expect(expired.refusal == Refusal(.notAuthorised, #"the policy of partner "bank-a" (version 7) expired at 2033-05-18T03:33:20Z"#))
        #expect(expired.policyVersion == 7)
        #expect(decide(now: 2_000_000_000).isAccepted)  // the last valid second
        let analyst = decide(partner: "oversight")
        #expect(analyst.refusal == Refusal(.notAuthorised, #"partner "oversight" has role analyst, which may not query"#))
    }

    @Test func missingFields() {
        var request = Self.good
        request.purpose = ""
        #expect(decide(request).refusal == Refusal(.missingField, "the request has no purpose (required by the policy)"))
        request = Self.good
        request.legalBasis = ""
        #expect(decide(request).refusal?.code == .missingField)
        request = Self.good
        request.reference = ""
        #expect(decide(request).refusal == Refusal(.missingField, "the request has no reference (required by the policy)"))
        request = Self.good
        request.timeZone = ""
        #expect(decide(request).refusal == Refusal(.missingField, "the request has no time_zone (required by the policy)"))
        // A policy that does not require the reference accepts a batch without one.
        var relaxed = Self.bank
        relaxed.requiredFields = [.purpose, .legalBasis, .timeZone]
        request = Self.good
        request.reference = ""
        #expect(relaxed.evaluate(request: request, types: [.iban], now: Self.now).isAccepted)
        // …but purpose and legal basis stay required whatever the model says.
        #expect(PartnerPolicy(partner: "x", role: .bank, version: 1, types: [.iban], categories: [.fraud], purposes: ["p"],
                              legalBases: ["l"], requiredFields: [], maxBatch: 1, rate: .init(perSecond: 1, burst: 1),
                              dailyQuota: 1, tlpCeiling: .clear).requiredFields == [.purpose, .legalBasis])
    }

    @Test func purposeLegalBasisAndPriority() {
        var request = Self.good
        request.purpose = "marketing"
        #expect(decide(request).refusal == Refusal(.purposeNotAllowed, #"purpose "marketing" is not allowed (allowed: payment-screening)"#))
        request.purpose = "Payment-Screening"  // compared exactly
        #expect(decide(request).refusal?.code == .purposeNotAllowed)
        request = Self.good
        request.legalBasis = "curiosity"
        #expect(decide(request).refusal == Refusal(.legalBasisNotAllowed, #"legal basis "curiosity" is not allowed (allowed: psd2-art-94)"#))
        request = Self.good
        request.priority = .critical
        #expect(decide(request).refusal == Refusal(.priorityNotAllowed, "priority critical is not allowed (allowed: routine, urgent)"))
    }

    @Test func batchSizeAndTypes() {
        #expect(decide(types: Array(repeating: .iban, count: 10)).isAccepted)
        #expect(decide(types: Array(repeating: .iban, count: 11)).refusal
                == Refusal(.batchTooLarge, "11 values in one batch; the policy allows at most 10"))
        #expect(decide(types: [.iban, .email, .ipv4, .url]).refusal
                == Refusal(.typeNotAllowed, "value 3 is of type ipv4, which the policy does not allow (allowed: email, iban); the whole batch is refused"))
        // A value whose type could not be determined is answered on its own; it still counts.
        let untyped = decide(types: [.iban, nil])
        #expect(untyped.isAccepted && untyped.valueCount == 2)
        #expect(Self.bank.allows(type: .iban) && !Self.bank.allows(type: .ipv4))
        #expect(decide(types: []).isAccepted)
    }

    @Test func theFirstFailingCheckInTheDocumentedOrderDecides() {
        var request = Self.good
        request.purpose = "marketing"
        request.priority = .critical
        request.reference = ""
        // missing_field comes before purpose_not_allowed, which comes before priority and types.
        #expect(decide(request, types: [.ipv4]).refusal?.code == .missingField)
        request.reference = "r"
        #expect(decide(request, types: [.ipv4]).refusal?.code == .purposeNotAllowed)
        #expect(decide(Self.good, types: Array(repeating: .ipv4, count: 11)).refusal?.code == .batchTooLarge)
        #expect(decide(request, partner: "mallory").refusal?.code == .notAuthorised)
    }

    @Test func rateAndQuotaAreAdmittedOnlyForOtherwiseGoodBatches() {
        var limits = PartnerLimits()
        var clock = PolicyClock(unixSeconds: Self.now, monotonicNanoseconds: 1_000)
        func run(_ count: Int, request: RequestFields = Self.good) -> BatchDecision {
            Self.set.evaluate(partner: "bank-a", request: request, types: Array(repeating: .iban, count: count),
                              clock: clock, limits: &limits)
        }
        #expect(run(10).isAccepted)  // the full burst
        let limited = run(1)
        #expect(limited.refusal == Refusal(.rateLimited, "a batch of 1 exceeds the rate of 5/s (burst 10, 0 available now); retry in 200 ms"))
        var bad = Self.good
        bad.purpose = "x"
        clock.monotonicNanoseconds += 2_000_000_000  // 10 tokens back
        #expect(run(10, request: bad).refusal?.code == .purposeNotAllowed)
        #expect(limits.bucket?.available(at: clock.monotonicNanoseconds) == 10)  // the refused batch took nothing
        #expect(limits.quota?.used == 10)
        #expect(run(10).isAccepted)
        clock.monotonicNanoseconds += 2_000_000_000
        let overQuota = run(10)  // 20 used, 5 left
        #expect(overQuota.refusal?.code == .quotaExceeded)
        #expect(overQuota.refusal?.reason.hasPrefix("a batch of 10 does not fit the daily quota of 25 (5 left today); it resets at 00:00 UTC, in ") == true)
        #expect(run(5).isAccepted)
        clock.monotonicNanoseconds += 2_000_000_000
        #expect(run(10).refusal?.code == .quotaExceeded)
        clock.unixSeconds = (Self.now / 86_400 + 1) * 86_400  // next UTC midnight
        #expect(run(10).isAccepted)
    }

    @Test func limitsFollowAReloadedPolicy() {
        var limits = PartnerLimits()
        let clock = PolicyClock(unixSeconds: Self.now, monotonicNanoseconds: 0)
        #expect(limits.admit(8, policy: Self.bank, clock: clock) == nil)
        var tighter = Self.bank
        tighter.version = 8
        tighter.rate = .init(perSecond: 1, burst: 1)
        tighter.dailyQuota = 9
        #expect(limits.admit(1, policy: tighter, clock: clock) == nil)  // 2 tokens were left; capped to the new burst
        #expect(limits.bucket?.burst == 1)
        #expect(limits.admit(1, policy: tighter, clock: PolicyClock(unixSeconds: Self.now, monotonicNanoseconds: 2_000_000_000))?.code
                == .quotaExceeded)  // 9 of 9 used today
    }
}
