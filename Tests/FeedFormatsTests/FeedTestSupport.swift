@testable import FeedFormats
import IndicatorKit

/// What a reader produced: records (value, type, fields, path, action), problems, skips.
struct ReadResult {
    struct Record: Equatable {
        var value: String
        var type: IndicatorType?
        var fields: RecordFields
        var path: String?
        var line: Int
        var action: FeedRecord.Action
    }

    var records: [Record] = []
    var problems: [FeedProblem] = []
    var skipped: [String: Int] = [:]

    var skippedCount: Int { skipped.values.reduce(0, +) }
}

func readJSONFeed(_ bytes: [UInt8], format: FeedFormat, file: String = "feed.json") throws(FeedError) -> ReadResult {
    var result = ReadResult()
    try bytes.withUnsafeBufferPointer { (buffer) throws(FeedError) in
        let body: (FeedRecord) -> Void = { record in
            result.records.append(ReadResult.Record(
                value: String(decoding: record.value, as: UTF8.self), type: record.type, fields: record.fields,
                path: record.path, line: record.line, action: record.action))
        }
        let problem: (FeedProblem) -> Void = { result.problems.append($0) }
        let skipped: (String) -> Void = { result.skipped[$0, default: 0] += 1 }
        switch format {
        case .stix: try STIXReader.read(buffer, file: file, body, problem: problem, skipped: skipped)
        case .misp: try MISPReader.read(buffer, file: file, body, problem: problem, skipped: skipped)
        default: fatalError("not a JSON format")
        }
    }
    return result
}

let feedTestKey = DigestKey(bytes: Array(0..<16))!

/// Runs `bytes` through a `FeedDigester` (canonicalise + digest), as `ihub ingest` does.
func digest(_ bytes: [UInt8], file: String = "feed", format: FeedFormat? = nil, defanged: Bool = false,
            now: UInt32 = 1_763_856_000) throws(FeedError) -> (entries: [FeedDigester.Entry], report: FeedDigester.Report) {
    var digester = FeedDigester(key: feedTestKey, defaults: EntryMetadata(), now: now, defanged: defanged)
    defer { digester.release() }
    var entries: [FeedDigester.Entry] = []
    try bytes.withUnsafeBufferPointer { (buffer) throws(FeedError) in
        try digester.add(buffer, file: file, format: format, type: nil) { entries.append($0) }
    }
    return (entries, digester.currentReport)
}
