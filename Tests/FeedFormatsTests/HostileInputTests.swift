import Testing
import Foundation
@testable import FeedFormats
import IndicatorKit

/// Hostile bytes go through every reader without crashing, and every problem names a line.
@Suite struct HostileInputTests {
    @Test func naughtyStringsThroughBothReaders() throws {
        let bytes = try fixture("blns.txt")
        let lineCount = bytes.split(separator: 0x0A, omittingEmptySubsequences: false).count
        var listed = 0
        bytes.withUnsafeBufferPointer { buffer in
            ListReader.read(buffer, type: nil) { record in
                listed += 1
                #expect(record.line >= 1 && record.line <= lineCount)
            }
        }
        #expect(listed > 400)
        // As CSV with a header prepended: every line becomes a row or a problem, none crash.
        var rows = 0
        var problems: [FeedProblem] = []
        let csv = Array("value\n".utf8) + bytes
        try csv.withUnsafeBufferPointer { (buffer) throws(FeedError) in
            try CSVReader.read(buffer, file: "blns.csv", type: nil, { _ in rows += 1 },
                               problem: { problems.append($0) })
        }
        #expect(rows + problems.count > 0)
        #expect(problems.allSatisfy { $0.file == "blns.csv" && $0.line >= 1 })
    }

    @Test func randomBytesNeverCrash() throws {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<300 {
            let count = Int.random(in: 0..<400, using: &generator)
            var bytes = (0..<count).map { _ in UInt8.random(in: 0...255, using: &generator) }
            bytes.removeAll { $0 == 0 }
            let alphabet: [UInt8] = Array("\",\n\r#; value".utf8)
            for index in bytes.indices where Bool.random(using: &generator) {
                bytes[index] = alphabet.randomElement(using: &generator)!
            }
            bytes.withUnsafeBufferPointer { buffer in
                _ = FeedFormat.detect(buffer)
                ListReader.read(buffer, type: nil) { _ in }
                _ = try? CSVReader.read(buffer, file: "r.csv", type: nil, { _ in }, problem: { _ in })
            }
        }
    }
}

/// Hostile JSON through the STIX and MISP readers: every naughty string as a pattern value, an
/// attribute value and a field name; deep nesting; invalid UTF-8. Nothing crashes, every
/// problem names a path, every file-level error a position.
@Suite struct HostileJSONTests {
    static func jsonString(_ bytes: ArraySlice<UInt8>) -> String {
        var out = "\""
        for scalar in String(decoding: bytes, as: UTF8.self).unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            default:
                if scalar.value < 0x20 { out += String(format: "\\u%04X", scalar.value) } else { out.unicodeScalars.append(scalar) }
            }
        }
        return out + "\""
    }

    @Test func naughtyStringsInsideFeeds() throws {
        let lines = try fixture("blns.txt").split(separator: 0x0A)
        var objects: [String] = []
        var attributes: [String] = []
        for line in lines {
            let text = Self.jsonString(line)
            let pattern = Self.jsonString(ArraySlice(Array("[domain-name:value = '".utf8) + line + Array("']".utf8)))
            objects.append(#"{"type": "indicator", "pattern": \#(pattern), \#(text): 1}"#)
            objects.append(#"{"type": "indicator", "pattern": \#(text)}"#)
            attributes.append(#"{"type": "url", "to_ids": true, "value": \#(text)}"#)
            attributes.append(#"{"type": \#(text), "value": \#(text)}"#)
        }
        let bundle = "{\"type\": \"bundle\", \"objects\": [\n" + objects.joined(separator: ",\n") + "\n]}"
        let stix = try digest(Array(bundle.utf8), format: .stix)
        #expect(stix.report.problems.count + stix.entries.count >= lines.count)
        #expect(stix.report.problems.allSatisfy { $0.path?.hasPrefix("$.objects[") == true })
        let event = "{\"Event\": {\"Attribute\": [\n" + attributes.joined(separator: ",\n") + "\n]}}"
        let misp = try digest(Array(event.utf8), format: .misp)
        #expect(misp.report.problems.count + misp.entries.count + misp.report.skipped == 2 * lines.count)
        #expect(misp.report.problems.allSatisfy { $0.path?.hasPrefix("$.Event.Attribute[") == true })
    }

    @Test func nestingAndBrokenBytesAreFileErrors() {
        let cases: [[UInt8]] = [
            Array(("{\"type\": \"bundle\", \"objects\": [" + String(repeating: "{\"a\":", count: 100_000)).utf8),
            Array(("{\"Event\": {\"Object\": [" + String(repeating: "[", count: 100_000)).utf8),
            Array("{\"type\": \"bundle\", \"objects\": [\"".utf8) + [0xC0, 0xAF] + Array("\"]}".utf8),
            Array("{\"Event\": {\"Attribute\": [{\"value\": \"\\ud800\"}]}}".utf8),
            Array("{\"type\": \"bundle\", \"objects\": [], \"x\": 01}".utf8),
        ]
        for (index, bytes) in cases.enumerated() {
            for format in [FeedFormat.stix, .misp, nil] {
                do {
                    _ = try digest(bytes, format: format)
                    Issue.record("case \(index) as \(String(describing: format)) was read")
                } catch {
                    switch error {
                    case .json(_, let line, let column, _): #expect(line >= 1 && column >= 1)
                    case .notFeed, .unknownFormat: break
                    default: Issue.record("case \(index): \(error)")
                    }
                }
            }
        }
    }
}
