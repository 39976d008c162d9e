import Foundation
import HubJSON
import Testing

/// The shared JSON parser: JSONTestSuite (all 316 files), positions, depth, the pull interface.
@Suite struct JSONParserTests {
    static let directory = Bundle.module.resourceURL!.appendingPathComponent("Fixtures/JSONTestSuite")

    static var suiteFiles: [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []).sorted()
    }

    static func parse(_ name: String, maxDepth: Int = 64) throws -> Result<JSONValue, JSONSyntaxError> {
        let bytes = Array(try Data(contentsOf: directory.appendingPathComponent(name)))
        return Result { () throws(JSONSyntaxError) in try JSONParser.parse(bytes, maxDepth: maxDepth) }
    }

    @Test func allSuiteFilesAreThere() {
        #expect(Self.suiteFiles.count == 316)
        #expect(Self.suiteFiles.filter { $0.hasPrefix("y_") }.count == 95)
    }

    /// Every `y_` file parses, duplicate keys included (the tree keeps both members; readers
    /// that care refuse them).
    @Test(arguments: suiteFiles.filter { $0.hasPrefix("y_") })
    func mustAccept(_ name: String) throws {
        if case .failure(let error) = try Self.parse(name) {
            Issue.record("\(name) refused: \(error)")
        }
    }

    /// Every `n_` file is refused, with a position inside the file.
    @Test(arguments: suiteFiles.filter { $0.hasPrefix("n_") })
    func mustRefuse(_ name: String) throws {
        switch try Self.parse(name) {
        case .success(let value): Issue.record("\(name) parsed as \(value)")
        case .failure(let error):
            #expect(error.line >= 1 && error.column >= 1)
            #expect(!error.reason.isEmpty)
        }
    }

    /// Implementation-defined cases: what we do with each is pinned here.
    static let implementationDefined: [String: Bool] = [
        "i_number_double_huge_neg_exp.json": true, "i_number_huge_exp.json": true,
        "i_number_neg_int_huge_exp.json": true, "i_number_pos_double_huge_exp.json": true,
        "i_number_real_neg_overflow.json": true, "i_number_real_pos_overflow.json": true,
        "i_number_real_underflow.json": true, "i_number_too_big_neg_int.json": true,
        "i_number_too_big_pos_int.json": true, "i_number_very_big_negative_int.json": true,
        "i_object_key_lone_2nd_surrogate.json": false,
        "i_string_1st_surrogate_but_2nd_missing.json": false, "i_string_1st_valid_surrogate_2nd_invalid.json": false,
        "i_string_UTF-16LE_with_BOM.json": false, "i_string_UTF-8_invalid_sequence.json": false,
        "i_string_UTF8_surrogate_U+D800.json": false, "i_string_incomplete_surrogate_and_escape_valid.json": false,
        "i_string_incomplete_surrogate_pair.json": false, "i_string_incomplete_surrogates_escape_valid.json": false,
        "i_string_invalid_lonely_surrogate.json": false, "i_string_invalid_surrogate.json": false,
        "i_string_invalid_utf-8.json": false, "i_string_inverted_surrogates_U+1D11E.json": false,
        "i_string_iso_latin_1.json": false, "i_string_lone_second_surrogate.json": false,
        "i_string_lone_utf8_continuation_byte.json": false, "i_string_not_in_unicode_range.json": false,
        "i_string_overlong_sequence_2_bytes.json": false, "i_string_overlong_sequence_6_bytes.json": false,
        "i_string_overlong_sequence_6_bytes_null.json": false, "i_string_truncated-utf-8.json": false,
        "i_string_utf16BE_no_BOM.json": false, "i_string_utf16LE_no_BOM.json": false,
        "i_structure_500_nested_arrays.json": false,  // deeper than maxDepth
        "i_structure_UTF-8_BOM_empty_object.json": true,  // a leading BOM is skipped
    ]

    @Test(arguments: suiteFiles.filter { $0.hasPrefix("i_") })
    func implementationDefinedNeverCrash(_ name: String) throws {
        let outcome = try Self.parse(name)
        guard let expected = Self.implementationDefined[name] else {
            Issue.record("no pinned outcome for \(name): \(outcome)")
            return
        }
        switch outcome {
        case .success: #expect(expected, "\(name) parsed but we pinned refusal")
        case .failure(let error): #expect(!expected, "\(name) refused: \(error)")
        }
    }

    @Test func depthIsAParameter() throws {
        let deep = Array((String(repeating: "[", count: 64) + String(repeating: "]", count: 64)).utf8)
        _ = try JSONParser.parse(deep, maxDepth: 64)
        #expect(throws: JSONSyntaxError(line: 1, column: 33, reason: "nested deeper than 32 levels")) {
            try JSONParser.parse(deep, maxDepth: 32)
        }
    }

    /// The two suite files left out of the shared data, generated.
    @Test func hostileNestingIsRefusedWithoutRecursion() {
        let brackets = [UInt8](repeating: UInt8(ascii: "["), count: 100_000)
        #expect(throws: JSONSyntaxError(line: 1, column: 65, reason: "nested deeper than 64 levels")) {
            try JSONParser.parse(brackets, maxDepth: 64)
        }
        var openArrayObject = Array(String(repeating: #"[{"":"#, count: 50_000).utf8)
        openArrayObject.append(contentsOf: Array("\n".utf8))
        #expect(throws: JSONSyntaxError.self) { try JSONParser.parse(openArrayObject, maxDepth: 64) }
    }

    @Test func errorsCarryLineAndColumn() {
        #expect(throws: JSONSyntaxError(line: 3, column: 7, reason: "expected ':' after field name \"b\", found '2'")) {
            try JSONParser.parse(Array("{\n  \"a\": 1,\n  \"b\" 2\n}".utf8), maxDepth: 8)
        }
        #expect(throws: JSONSyntaxError(line: 2, column: 3, reason: "not valid UTF-8 (byte 0xC0)")) {
            try JSONParser.parse([0x5B, 0x0A, 0x22, 0x22, 0xC0, 0x80, 0x5D], maxDepth: 8)
        }
    }

    @Test func stringsDecodeEscapes() throws {
        let value = try JSONParser.parse(Array(#"["a\"b\\c\/\n", "\u00e9\ud83d\ude00", "plain é"]"#.utf8), maxDepth: 4)
        #expect(value == .array([.string("a\"b\\c/\n"), .string("é😀"), .string("plain é")]))
    }

    /// The pull interface reads a record at a time and keeps the line number.
    @Test func pullInterfaceWalksAnArrayOfRecords() throws {
        let text = "{\"skip\": {\"deep\": [1, 2, {\"x\": \"\\u0041\"}]},\n \"items\": [\n {\"n\": 1},\n {\"n\": 2}\n]}"
        let bytes = Array(text.utf8)
        var seen: [(Int, JSONValue)] = []
        try bytes.withUnsafeBufferPointer { buffer in
            var parser = try JSONParser(buffer, maxDepth: 8)
            try parser.beginObject()
            while let key = try parser.nextKey() {
                if key == "items" {
                    try parser.beginArray()
                    while try parser.nextItem() {
                        let line = parser.line
                        seen.append((line, try parser.value()))
                    }
                } else {
                    try parser.skipValue()
                }
            }
            try parser.finish()
            #expect(parser.depth == 0)
        }
        #expect(seen.map(\.0) == [3, 4])
        #expect(seen.map(\.1) == [.object([.init(key: "n", value: .number("1"))]), .object([.init(key: "n", value: .number("2"))])])
    }

    @Test func skipValueChecksWhatItSkips() {
        let bad = Array(#"{"a": ["\x"], "b": 1}"#.utf8)
        #expect(throws: JSONSyntaxError.self) {
            try bad.withUnsafeBufferPointer { buffer throws(JSONSyntaxError) in
                var parser = try JSONParser(buffer, maxDepth: 8)
                try parser.skipValue()
            }
        }
    }

    @Test func arbitraryBytesNeverCrash() {
        var generator = SystemRandomNumberGenerator()
        let alphabet = Array(#"{}[]",:0123456789.eE+-\ utrnfals"#.utf8) + [0x00, 0x0A, 0xC3, 0xA9, 0xFF]
        for _ in 0..<20_000 {
            let length = Int.random(in: 0..<40, using: &generator)
            let bytes = (0..<length).map { _ in alphabet.randomElement(using: &generator)! }
            _ = try? JSONParser.parse(bytes, maxDepth: 16)
        }
    }
}
