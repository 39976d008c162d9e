import Foundation
import Testing

/// Principle 1: no raw indicator at rest. Ingest and look up known values of every type,
/// then search every file under the data directory for their raw and canonical forms.
@Suite struct PrivacyTests {
    @Test func noRawValueReachesAnyFileTheHubWrote() throws {
        let temp = try TemporaryDirectory()
        let data = temp.path + "/data"
        #expect(try Ihub.run(["init", data]).status == 0)
        let feed = try temp.file("feed.txt", Sample.values.joined(separator: "\n") + "\n")
        let csv = try temp.file("feed.csv", "value,category\n" + Sample.values.map { "\"\($0)\",fraud" }.joined(separator: "\n"))
        let ingest = try Ihub.run(["ingest", "--data", data, "--source", "cert-test", "--json", feed, csv])
        #expect(ingest.status == 0, "\(ingest.stderr)")
        let report = try ingest.json()
        #expect(report["accepted"] as? Int == Sample.values.count)
        #expect(report["duplicates"] as? Int == Sample.values.count)

        let lookup = try Ihub.run(["lookup", "--data", data, "--json"] + Sample.values + Sample.absent)
        let answers = try lookup.jsonLines()
        #expect(answers.count == Sample.values.count + Sample.absent.count)
        #expect(answers.prefix(Sample.values.count).allSatisfy { $0["match"] as? Bool == true })
        #expect(answers.suffix(Sample.absent.count).allSatisfy { $0["match"] as? Bool == false })
        #expect(try Ihub.run(["verify", "--data", data]).status == 0)

        // Every file under the data directory, whatever its name.
        let files = try allFiles(under: data)
        #expect(files.count >= 3)  // key, sources, snapshot at least
        for file in files {
            let bytes = Array(try Data(contentsOf: URL(fileURLWithPath: file)))
            for needle in Sample.forbidden {
                #expect(!contains(bytes, Array(needle.utf8)), "\(file) contains '\(needle)'")
                #expect(!contains(bytes, Array(needle.lowercased().utf8)), "\(file) contains '\(needle.lowercased())'")
            }
            for needle in Sample.forbiddenBytes {
                #expect(!contains(bytes, needle), "\(file) contains the binary form \(needle)")
            }
        }
        // The test must be able to fail: the needle search finds what is there.
        let planted = try temp.file("planted", "x" + Sample.forbidden[3] + "y")
        #expect(contains(Array(try Data(contentsOf: URL(fileURLWithPath: planted))), Array(Sample.forbidden[3].utf8)))
    }

    func allFiles(under root: String) throws -> [String] {
        let enumerator = FileManager.default.enumerator(atPath: root)
        var result: [String] = []
        while let relative = enumerator?.nextObject() as? String {
            let path = root + "/" + relative
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue {
                result.append(path)
            }
        }
        return result
    }

    func contains(_ haystack: [UInt8], _ needle: [UInt8]) -> Bool {
        guard !needle.isEmpty, haystack.count >= needle.count else { return false }
        let first = needle[0]
        var index = 0
        while index <= haystack.count - needle.count {
            if haystack[index] == first, haystack[index..<(index + needle.count)].elementsEqual(needle) { return true }
            index += 1
        }
        return false
    }
}
