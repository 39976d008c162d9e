import Foundation
@testable import HubPolicy
import Testing

/// The strict JSON parser under the policy loader: JSONTestSuite cases, positions, hostile nesting.
@Suite struct PolicyJSONTests {
    /// Outcomes for the implementation-defined (`i_`) cases we ship.
    static let implementationDefined: [String: Bool] = [
        "i_structure_500_nested_arrays.json": false,  // deeper than maxDepth
        "i_string_lone_second_surrogate.json": false,
        "i_structure_UTF-8_BOM_empty_object.json": true,  // a leading BOM is skipped
        "i_string_UTF-16LE_with_BOM.json": false,  // not UTF-8
        "i_string_overlong_sequence_2_bytes.json": false,
    ]

    static var suiteFiles: [String] {
        let directory = fixtureURL("JSONTestSuite")
        return ((try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []).sorted()
    }

    @Test func theFixturesAreThere() {
        #expect(Self.suiteFiles.count == 34)
    }

    @Test(arguments: suiteFiles)
    func jsonTestSuite(_ name: String) throws {
        let bytes = Array(try Data(contentsOf: fixtureURL("JSONTestSuite/" + name)))
        let expected: Bool
        if name.hasPrefix("y_") {
            expected = true
        } else if name.hasPrefix("n_") {
            expected = false
        } else {
            guard let outcome = Self.implementationDefined[name] else {
                Issue.record("no expected outcome for \(name)")
                return
            }
            expected = outcome
        }
        let result = Result { () throws(PolicyJSONSyntaxError) in try PolicyJSONParser.parse(bytes) }
        switch result {
        case .success: #expect(expected, "\(name) parsed but must be refused")
        case .failure(let error): #expect(!expected, "\(name) refused: \(error.reason)")
        }
    }

    @Test func aHundredThousandOpeningBracketsAreRefusedWithoutRecursion() {
        let bytes = [UInt8](repeating: UInt8(ascii: "["), count: 100_000)
        #expect(throws: PolicyJSONSyntaxError(line: 1, column: 33, reason: "nested deeper than 32 levels")) {
            try PolicyJSONParser.parse(bytes)
        }
        let objects = Array(String(repeating: #"[{"":"#, count: 50_000).utf8)
        #expect(throws: PolicyJSONSyntaxError.self) { try PolicyJSONParser.parse(objects) }
    }

    @Test func nestingUpToTheLimitParses() throws {
        let text = String(repeating: "[", count: 32) + String(repeating: "]", count: 32)
        _ = try PolicyJSONParser.parse(Array(text.utf8))
    }

    @Test func errorsCarryLineAndColumn() {
        let text = "{\n  \"a\": 1,\n  \"b\" 2\n}"
        #expect(throws: PolicyJSONSyntaxError(line: 3, column: 7, reason: "expected ':' after field name \"b\", found '2'")) {
            try PolicyJSONParser.parse(Array(text.utf8))
        }
        // Columns count characters, not bytes.
        let accented = "{\"é\": tru}"
        #expect(throws: PolicyJSONSyntaxError(line: 1, column: 7, reason: "unexpected 't', expected a value")) {
            try PolicyJSONParser.parse(Array(accented.utf8))
        }
    }

    @Test func specificSyntaxMessages() {
        func reason(_ text: String) -> String? {
            do {
                _ = try PolicyJSONParser.parse(Array(text.utf8))
                return nil
            } catch {
                return error.reason
            }
        }
        #expect(reason("") == "the file holds no JSON value")
        #expect(reason("[1,]") == "unexpected ']', expected a value")
        #expect(reason("{\"a\":1,}") == "expected a quoted field name, found '}'")
        #expect(reason("[01]") == "numbers must not have leading zeros")
        #expect(reason("\"abc") == "string is not closed before the end of the file")
        #expect(reason("[\"\\ud800\"]") == "lone UTF-16 high surrogate \\uD800 in a string")
        #expect(reason("{} x") == "unexpected 'x' after the JSON value")
        #expect(reason("[\"a\tb\"]") == "control character 0x9 in a string (write it as an escape)")
        #expect(reason("// comment\n{}") == "unexpected '/', expected a value")
    }

    @Test func invalidUTF8IsRefusedWithItsPosition() {
        #expect(throws: PolicyJSONSyntaxError(line: 2, column: 3, reason: "not valid UTF-8 (byte 0xC0)")) {
            try PolicyJSONParser.parse([0x5B, 0x0A, 0x22, 0x22, 0xC0, 0x80, 0x5D])
        }
    }

    @Test func valuesKeepTheirLiteralFormAndOrder() throws {
        let value = try PolicyJSONParser.parse(Array(#"{"b": 5.0, "a": [true, null, "\u00e9\ud83d\ude00"], "b": -0}"#.utf8))
        #expect(value == .object([
            .init(key: "b", value: .number("5.0")),
            .init(key: "a", value: .array([.bool(true), .null, .string("é😀")])),
            .init(key: "b", value: .number("-0")),
        ]))
    }

    @Test func arbitraryBytesNeverCrashTheParser() {
        var generator = SystemRandomNumberGenerator()
        let alphabet = Array(#"{}[]",:0123456789.eE+-\ utrnfals"#.utf8) + [0x00, 0x0A, 0xC3, 0xA9, 0xFF]
        for _ in 0..<20_000 {
            let length = Int.random(in: 0..<40, using: &generator)
            let bytes = (0..<length).map { _ in alphabet.randomElement(using: &generator)! }
            _ = try? PolicyJSONParser.parse(bytes)
        }
    }
}
