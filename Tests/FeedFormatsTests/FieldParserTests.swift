import Testing
@testable import FeedFormats

@Suite struct FieldParserTests {
    @Test func timestamps() throws {
        #expect(try FieldParsers.timestamp("1970-01-01") == 0)
        #expect(try FieldParsers.timestamp("2024-04-04 07:03:03") == 1_712_214_183)
        #expect(try FieldParsers.timestamp("2024-04-04T07:03:03Z") == 1_712_214_183)
        #expect(try FieldParsers.timestamp("2024-04-04T09:03:03.123+02:00") == 1_712_214_183)
        #expect(try FieldParsers.timestamp("2000-02-29") == 951_782_400)
        #expect(try FieldParsers.timestamp("1712214183") == 1_712_214_183)
        #expect(try FieldParsers.timestamp("") == nil)
    }

    @Test func badTimestampsSayWhy() {
        let cases: [(String, String)] = [
            ("2023-02-29", "timestamp '2023-02-29' is not a real date"),
            ("2024-13-01", "timestamp '2024-13-01' is not a real date"),
            ("2024-01-01 25:00", "timestamp '2024-01-01 25:00' has an impossible time of day"),
            ("2024-01-01x", "timestamp '2024-01-01x' has trailing text"),
            ("24-01-01", "timestamp '24-01-01' has '-' where a digit belongs"),
            ("1969-12-31", "timestamp '1969-12-31' is outside 1970–2106"),
            ("99999999999", "timestamp '99999999999' is out of range"),
        ]
        for (input, reason) in cases {
            #expect(throws: FieldParsers.FieldError(reason: reason)) { try FieldParsers.timestamp(input) }
        }
    }

    @Test func categoriesAndAliases() throws {
        #expect(try FieldParsers.category("mule-account") == .muleAccount)
        #expect(try FieldParsers.category("malware_download") == .malware)
        #expect(try FieldParsers.category("botnet_cc") == .c2)
        #expect(throws: FieldParsers.FieldError.self) { try FieldParsers.category("gremlins") }
    }
}
