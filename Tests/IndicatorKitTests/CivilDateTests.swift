import Testing
@testable import IndicatorKit

@Suite struct CivilDateTests {
    @Test func knownDates() {
        #expect(CivilDate.days(year: 1970, month: 1, day: 1) == 0)
        #expect(CivilDate.days(year: 2000, month: 3, day: 1) == 11_017)
        #expect(CivilDate.dateText(days: 19_782) == "2024-02-29")
        #expect(CivilDate.timestamp(seconds: 1_709_209_800) == "2024-02-29T12:30:00Z")
        #expect(CivilDate.timestamp(seconds: 0, micros: 42) == "1970-01-01T00:00:00.000042Z")
    }

    @Test func negativeSecondsBelongToThePreviousDay() {
        #expect(CivilDate.timestamp(seconds: -1) == "1969-12-31T23:59:59Z")
        #expect(CivilDate.timestamp(seconds: -86_400) == "1969-12-31T00:00:00Z")
        #expect(CivilDate.timestamp(seconds: -86_401) == "1969-12-30T23:59:59Z")
    }

    @Test func parseRoundTripsEveryFormWritten() {
        var random = SplitMix64(seed: 7)
        for _ in 0..<5_000 {
            let seconds = Int(random.next() % 253_402_300_800)  // up to 9999-12-31
            let text = CivilDate.timestamp(seconds: seconds)
            #expect(CivilDate.parseTimestamp(text) == seconds, "\(text)")
            let day = CivilDate.dateText(days: seconds / 86_400)
            #expect(CivilDate.parseTimestamp(day) == seconds / 86_400 * 86_400, "\(day)")
        }
    }

    @Test(arguments: [
        "", "2024-02-30", "2023-02-29", "1900-02-29", "1969-12-31", "2024-13-01", "2024-00-10",
        "2024-01-00", "2024-1-01", "2024/01/01", "2024-01-01T24:00:00Z", "2024-01-01T23:60:00Z",
        "2024-01-01T23:59:60Z", "2024-01-01T00:00:00", "2024-01-01 00:00:00Z", "2024-01-01T00:00:00+00:00",
        "2024-01-01T00:00:00z", "２０２４-01-01", "2024-01-01T00:00:0Z", "+024-01-01",
    ])
    func parseRefuses(_ text: String) {
        #expect(CivilDate.parseTimestamp(text) == nil, "\(text)")
    }
}
