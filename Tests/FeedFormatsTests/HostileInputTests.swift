import Testing
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
