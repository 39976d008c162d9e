import HubPolicy
import IndicatorKit
import Testing

/// The answer filter: minimisation by revealed fields, category and TLP ceiling.
@Suite struct RevealTests {
    static func policy(reveals: Set<PartnerPolicy.RevealedField>, ceiling: TLP = .amber) -> PartnerPolicy {
        PartnerPolicy(partner: "bank-a", role: .bank, version: 1, types: [.iban], categories: [.fraud, .muleAccount],
                      purposes: ["p"], legalBases: ["l"], reveals: reveals, maxBatch: 1, rate: .init(perSecond: 1, burst: 1),
                      dailyQuota: 1, tlpCeiling: ceiling)
    }

    static let entry = EntryMetadata(category: .fraud, confidence: 80, tlp: .green, action: .warn, sourceID: 42,
                                     firstSeenDay: 20_000, lastSeenDay: 20_100, expires: 1_900_000_000)

    @Test func byDefaultAHitSaysMatchOnly() {
        #expect(Self.policy(reveals: []).reveal(Self.entry) == Answer(match: true))
    }

    @Test func eachRevealedFieldAppearsAlone() {
        #expect(Self.policy(reveals: [.category]).reveal(Self.entry) == Answer(match: true, category: .fraud))
        #expect(Self.policy(reveals: [.confidence]).reveal(Self.entry) == Answer(match: true, confidence: 80))
        #expect(Self.policy(reveals: [.expires]).reveal(Self.entry) == Answer(match: true, expires: 1_900_000_000))
        #expect(Self.policy(reveals: [.action]).reveal(Self.entry) == Answer(match: true, action: .warn))
        #expect(Self.policy(reveals: Set(PartnerPolicy.RevealedField.allCases)).reveal(Self.entry)
                == Answer(match: true, category: .fraud, confidence: 80, expires: 1_900_000_000, action: .warn))
    }

    @Test func aNeverExpiringEntryRevealsZero() {
        var entry = Self.entry
        entry.expires = 0
        #expect(Self.policy(reveals: [.expires]).reveal(entry).expires == 0)
    }

    @Test func aHitInADisallowedCategoryIsAMiss() {
        var entry = Self.entry
        entry.category = .phishing
        let answer = Self.policy(reveals: [.category, .confidence]).reveal(entry)
        #expect(answer == .miss)
        #expect(answer == Self.policy(reveals: [.category]).reveal(nil))  // indistinguishable from no entry
        entry.category = .muleAccount
        #expect(Self.policy(reveals: []).reveal(entry).match)
    }

    @Test func aHitAboveTheTLPCeilingIsAMiss() {
        var entry = Self.entry
        for tlp in TLP.allCases {
            entry.tlp = tlp
            #expect(Self.policy(reveals: [.category], ceiling: .amber).reveal(entry).match == (tlp <= .amber), "\(tlp.name)")
        }
        entry.tlp = .red
        #expect(Self.policy(reveals: [], ceiling: .red).reveal(entry).match)
    }

    @Test func anAnalystLearnsNothing() {
        let analyst = PartnerPolicy.analyst(partner: "o", version: 1)
        #expect(analyst.reveal(Self.entry) == .miss)
        var limits = PartnerLimits()
        #expect(limits.admit(1, policy: analyst, clock: PolicyClock(unixSeconds: 0, monotonicNanoseconds: 0))?.code == .notAuthorised)
    }
}
