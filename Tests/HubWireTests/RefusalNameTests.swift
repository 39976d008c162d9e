import HubWire
import Testing

/// Refusal names are what `ihub push --json` and the audit trail show: pinned here.
@Suite struct RefusalNameTests {
    @Test func recordRefusalNames() {
        #expect(RecordRefusal.allCases.map(\.name) == [
            "empty", "too_long", "unrecognised", "invalid_value", "type_not_allowed", "expired", "looks_defanged",
        ])
    }

    @Test func sharedCodesAreNamedAsInQueries() {
        for refusal in ValueRefusal.allCases {
            #expect(RecordRefusal(rawValue: refusal.rawValue)?.name == refusal.name)
        }
    }
}
