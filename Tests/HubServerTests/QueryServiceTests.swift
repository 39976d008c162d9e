import Foundation
import HubAudit
import HubPolicy
import HubTLS
import HubWire
import IndicatorKit
import IndicatorStore
import Testing
@testable import HubServer

/// The request pipeline without sockets: policy, matcher, minimisation, audit record.
@Suite struct QueryServiceTests {
    final class Fixture {
        let temp: TempDir
        let key = DigestKey.generate()
        let service: QueryService
        let policies: PolicySet
        var clock = RequestClock(wallMicros: 1_800_000_000_000_000, monotonicNanos: 1_000_000_000_000)
        var nextID: UInt64 = 1

        init() throws {
            temp = try TempDir()
            let snapshot = try writeTestStore(key: key, path: temp.path + "/test.snap")
            try writeTestPolicies(temp.path + "/policies")
            policies = try PolicySet.load(directory: temp.path + "/policies")
            service = QueryService(matcher: try Matcher(snapshot: snapshot, key: key), limits: PartnerLimitsTable())
        }

        func peer(_ name: String) -> PeerIdentity {
            PeerIdentity(name: name, role: .bank, serial: 7, fingerprint: [UInt8](repeating: 0xAB, count: 32),
                         notAfter: "2030-01-01T00:00:00Z")
        }

        func ask(_ values: [(IndicatorType?, String)], partner: String = "bank", fields: RequestFields = goodFields())
            throws -> QueryOutcome {
            defer { nextID += 1 }
            let batch = QueryBatch(requestID: nextID, fields: fields, values: try QueryValues(values))
            return service.answer(batch, from: peer(partner), policies: policies, clock: clock)
        }
    }

    static func entries(_ outcome: QueryOutcome) -> [ResultEntry]? {
        guard case .result(let result) = outcome.answer else { return nil }
        return Array(result.entries)
    }

    static func errorCode(_ outcome: QueryOutcome) -> ErrorCode? {
        guard case .error(let error) = outcome.answer else { return nil }
        return error.code
    }

    @Test func hitsMissesAndMinimisation() throws {
        let fixture = try Fixture()
        let outcome = try fixture.ask([
            (.iban, Listed.iban), (.iban, Listed.unlistedIBAN), (nil, "sub.evil.example"),
            (.domain, Listed.hiddenCategory), (.domain, Listed.hiddenTLP), (.ipv4, Listed.inNetwork),
        ])
        let entries = try #require(Self.entries(outcome))
        #expect(entries == [
            .hit(RevealedFields(category: .fraud, confidence: 90)),
            .miss,
            .hit(RevealedFields(category: .phishing, confidence: 70)),
            .miss,  // malware: a category the bank may not see
            .miss,  // TLP red: above the ceiling
            .hit(RevealedFields(category: .scam, confidence: 60)),
        ])
        let record = outcome.record
        #expect(record.decision == .accepted && record.code == "")
        #expect(record.valueCount == 6)
        #expect(record.countsByType == [.iban: 2, .domain: 3, .ipv4: 1])
        #expect(record.policyVersion == 1)
        #expect(record.hitDigests == [
            try listedDigest(Listed.iban, .iban, key: fixture.key),
            try listedDigest(Listed.domain, .domain, key: fixture.key),
            try listedDigest(Listed.network, .ipv4, key: fixture.key),
        ])
    }

    @Test func perValueRefusalsAndDetectedTypesOutsideThePolicy() throws {
        let fixture = try Fixture()
        let outcome = try fixture.ask([
            (.iban, "DE00 0000"), (nil, "   "), (nil, "?!"), (nil, "+4930123456"), (.iban, Listed.iban),
        ])
        let entries = try #require(Self.entries(outcome))
        #expect(entries == [
            .refused(.invalidValue), .refused(.empty), .refused(.unrecognised),
            .refused(.typeNotAllowed),  // a phone number: detected, not allowed for this policy
            .hit(RevealedFields(category: .fraud, confidence: 90)),
        ])
        #expect(outcome.record.refusedValues == ["invalid_value": 1, "empty": 1, "unrecognised": 1, "type_not_allowed": 1])
        #expect(outcome.record.unknownTypeCount == 2)
        #expect(outcome.record.countsByType == [.iban: 2, .phone: 1])
    }

    @Test func everyPolicyRefusalIsARequestLevelErrorAndAudited() throws {
        let fixture = try Fixture()
        let cases: [(ErrorCode, () throws -> QueryOutcome)] = [
            (.operationNotAllowed, { try fixture.ask([(.iban, Listed.iban)], partner: "auditor") }),
            (.operationNotAllowed, { try fixture.ask([(.iban, Listed.iban)], partner: "stranger") }),
            (.missingField, { try fixture.ask([(.iban, Listed.iban)], fields: goodFields(reference: "")) }),
            (.purposeNotAllowed, { try fixture.ask([(.iban, Listed.iban)], fields: goodFields(purpose: "curiosity")) }),
            (.priorityNotAllowed, { try fixture.ask([(.iban, Listed.iban)], fields: goodFields(priority: .critical)) }),
            (.typeNotAllowed, { try fixture.ask([(.phone, "+4930123456")]) }),
            (.batchTooLarge, { try fixture.ask([(IndicatorType?, String)](repeating: (.iban, Listed.iban), count: 101)) }),
        ]
        var legal = goodFields()
        legal.legalBasis = "because"
        let basis = try fixture.ask([(.iban, Listed.iban)], fields: legal)
        #expect(Self.errorCode(basis) == .legalBasisNotAllowed)
        for (expected, ask) in cases {
            let outcome = try ask()
            #expect(Self.errorCode(outcome) == expected)
            #expect(outcome.record.decision == .refused)
            #expect(outcome.record.code == expected.name)
            #expect(outcome.record.hitDigests.isEmpty)
            guard case .error(let error) = outcome.answer else { continue }
            #expect(!error.code.closesConnection)
            #expect(error.requestID == outcome.record.requestID)
        }
    }

    @Test func rateAndQuota() throws {
        let fixture = try Fixture()
        // Burst 5 at 1/s: five values pass, the sixth waits.
        #expect(Self.entries(try fixture.ask([(IndicatorType?, String)](repeating: (.iban, Listed.iban), count: 5),
                                             partner: "tight")) != nil)
        let limited = try fixture.ask([(.iban, Listed.iban)], partner: "tight")
        #expect(Self.errorCode(limited) == .rateLimited)
        #expect(limited.record.code == "rate_limited")
        // Three seconds later three tokens are back, but the quota of 8 leaves only 3.
        fixture.clock.monotonicNanos += 3_000_000_000
        #expect(Self.errorCode(try fixture.ask([(IndicatorType?, String)](repeating: (.iban, Listed.iban), count: 4),
                                               partner: "tight")) == .quotaExceeded)
        #expect(Self.entries(try fixture.ask([(IndicatorType?, String)](repeating: (.iban, Listed.iban), count: 3),
                                             partner: "tight")) != nil)
        // Other partners are unaffected.
        #expect(Self.entries(try fixture.ask([(.iban, Listed.iban)])) != nil)
    }

    @Test func aReferenceThatIsAnIndicatorIsRefusedAndNotAudited() throws {
        let fixture = try Fixture()
        for reference in [Listed.iban, "  evil.example ", "198.51.100.7", "https://evil.example/login"] {
            let outcome = try fixture.ask([(.iban, Listed.unlistedIBAN)], fields: goodFields(reference: reference))
            #expect(Self.errorCode(outcome) == .invalidField)
            #expect(outcome.record.fields.reference == "")
            #expect(outcome.record.decision == .refused && outcome.record.code == "invalid_field")
        }
        #expect(Self.entries(try fixture.ask([(.iban, Listed.iban)], fields: goodFields(reference: "CASE-2026/0042"))) != nil)
    }

    @Test func auditRecordsHoldNoRawValueAndVerify() throws {
        let fixture = try Fixture()
        let log = try AuditLog(directory: fixture.temp.path + "/audit")
        let batches: [[(IndicatorType?, String)]] = [
            Listed.allRaw.map { (nil, $0) },
            [(.iban, Listed.iban), (.domain, Listed.hiddenTLP)],
        ]
        for values in batches {
            _ = try log.appendAndWait(try fixture.ask(values).record)
        }
        _ = try log.appendAndWait(try fixture.ask([(.iban, Listed.iban)], fields: goodFields(reference: Listed.iban)).record)
        log.close()
        #expect(try AuditVerifier.verify(directory: fixture.temp.path + "/audit").seq == 3)
        let bytes = allBytes(under: fixture.temp.path + "/audit")
        #expect(contains(bytes, "CASE-77"))  // the reference number is audited…
        #expect(contains(bytes, "invalid_field"))
        for raw in Listed.allRaw where raw != "CASE-77" {
            #expect(!contains(bytes, raw), "audit log contains \(raw)")  // …no indicator is
        }
        #expect(!contains(bytes, "DE89"))
    }
}
