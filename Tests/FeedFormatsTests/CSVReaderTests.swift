import Testing
@testable import FeedFormats
import IndicatorKit

@Suite struct CSVReaderTests {
    struct Row: Equatable {
        var line: Int
        var value: String
        var type: IndicatorType?
        var fields: RecordFields
    }

    func read(_ bytes: [UInt8], file: String = "feed.csv", column: String? = nil) throws(FeedError)
        -> (rows: [Row], problems: [FeedProblem])
    {
        var rows: [Row] = []
        var problems: [FeedProblem] = []
        try bytes.withUnsafeBufferPointer { (buffer) throws(FeedError) in
            try CSVReader.read(buffer, file: file, type: nil, valueColumn: column, { record in
                rows.append(Row(line: record.line, value: String(decoding: record.value, as: UTF8.self),
                                type: record.type, fields: record.fields))
            }, problem: { problems.append($0) })
        }
        return (rows, problems)
    }

    func read(_ text: String, column: String? = nil) throws(FeedError) -> (rows: [Row], problems: [FeedProblem]) {
        try read(Array(text.utf8), column: column)
    }

    @Test func readsFeodoTracker() throws {
        let result = try read(try fixture("feodotracker_ipblocklist.csv"), file: "feodo.csv")
        #expect(result.problems.isEmpty)
        #expect(result.rows.count == 28)
        let first = try #require(result.rows.first)
        #expect(first.value == "192.9.135.73")
        #expect(first.type == .ipv4)
        #expect(first.line == 10)
        // first_seen_utc 2023-05-23 → day 19500; last_online 2024-04-01 → 19814.
        #expect(first.fields.firstSeenDay == 19_500)
        #expect(first.fields.lastSeenDay == 19_814)
    }

    @Test func readsURLhausWithCommentedHeader() throws {
        let result = try read(try fixture("urlhaus_csv_recent_excerpt.csv"))
        #expect(result.problems.isEmpty)
        #expect(result.rows.map(\.value) == ["http://182.126.120.150:58801/i", "http://222.138.150.74:43262/i"])
        #expect(result.rows.allSatisfy { $0.type == .url && $0.fields.category == .malware })
    }

    @Test func detectsCSVFormats() throws {
        for name in ["feodotracker_ipblocklist.csv", "urlhaus_csv_recent_excerpt.csv"] {
            let bytes = try fixture(name)
            #expect(bytes.withUnsafeBufferPointer { FeedFormat.detect($0) } == .csv, "\(name)")
        }
    }

    @Test func quotedFieldsWithCommasEscapesAndNewlines() throws {
        let text = "value,comment\n\"a.example\",\"x, \"\"y\"\"\"\n\"b.example\",\"two\nlines\"\nc.example,z\n"
        let result = try read(text)
        #expect(result.problems.isEmpty)
        #expect(result.rows.map(\.value) == ["a.example", "b.example", "c.example"])
        #expect(result.rows.map(\.line) == [2, 3, 5])
    }

    @Test func metadataColumns() throws {
        let text = "indicator,type,category,confidence,tlp,action,first_seen,expires\n"
            + "evil.example,domain,phishing,90,green,warn,2024-01-02,2030-01-01T00:00:00Z\n"
        let row = try #require(try read(text).rows.first)
        #expect(row.type == .domain)
        #expect(row.fields.category == .phishing)
        #expect(row.fields.confidence == 90)
        #expect(row.fields.tlp == .green)
        #expect(row.fields.action == .warn)
        #expect(row.fields.firstSeenDay == 19_724)
        #expect(row.fields.expires == 1_893_456_000)
    }

    @Test func badCellsNameTheColumnAndLine() throws {
        let text = "value,confidence,tlp,first_seen,type\n"
            + "a.example,101,green,2024-01-01,domain\n"
            + "b.example,50,purple,2024-01-01,domain\n"
            + "c.example,50,green,2024-02-30,domain\n"
            + "d.example,50,green,2024-01-01,bogus\n"
            + "e.example,50,green\n"
            + ",50,green,2024-01-01,domain\n"
            + "f.example,50,green,2024-01-01,domain\n"
        let result = try read(text)
        #expect(result.rows.map(\.value) == ["f.example"])
        #expect(result.problems.map(\.line) == [2, 3, 4, 5, 6, 7])
        #expect(result.problems[0].reason == "column 'confidence': confidence '101' is not an integer from 0 to 100")
        #expect(result.problems[1].reason.hasPrefix("column 'tlp': TLP 'purple'"))
        #expect(result.problems[2].reason == "column 'first_seen': timestamp '2024-02-30' is not a real date")
        #expect(result.problems[3].reason == "column 'type': type 'bogus' is not a supported indicator type")
        #expect(result.problems[4].reason == "row has 3 fields; the header (line 1) has 5")
        #expect(result.problems[5].reason == "empty value in column 'value'")
        #expect(result.problems.allSatisfy { $0.file == "feed.csv" })
    }

    @Test func unterminatedQuoteStopsWithTheLineWhereItOpened() throws {
        let result = try read("value\na.example\n\"b.example\nc.example\n")
        #expect(result.rows.map(\.value) == ["a.example"])
        #expect(result.problems == [FeedProblem(file: "feed.csv", line: 3, reason: "quoted field never closes")])
    }

    @Test func noValueColumnIsAFileError() {
        #expect(throws: FeedError.noValueColumn(file: "feed.csv", line: 2, header: ["foo", "bar"])) {
            try read("# banner\nfoo,bar\n1,2\n")
        }
        #expect(throws: FeedError.noValueColumn(file: "feed.csv", line: 1, header: [])) {
            try read("")
        }
    }

    @Test func explicitValueColumn() throws {
        let result = try read("id,target\n1,evil.example\n", column: "target")
        #expect(result.rows.map(\.value) == ["evil.example"])
    }
}
