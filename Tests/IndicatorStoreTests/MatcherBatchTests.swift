import IndicatorKit
import Testing
@testable import IndicatorStore

/// The matcher's batch path (one fast-path call per batch, `FastDigestBatch`): an empty table,
/// a mix of hits, misses and refusals in batches smaller than the input, and miss records
/// equal to `.miss` in every field.
@Suite struct MatcherBatchTests {
    @Test func anEmptySnapshotAnswersMisses() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let (snapshot, _) = try writeSnapshot([], to: directory.file("empty.snap"))
        let matcher = try Matcher(snapshot: snapshot, key: testKey, batchSize: 3)
        let results = matcher.match(["1.2.3.4", "example.com", "not an indicator!", "EXAMPLE.org"], now: 0)
        #expect(results[0] == .miss(.ipv4))
        #expect(results[1] == .miss(.domain))
        guard case .refused = results[2] else { Issue.record("expected a refusal, got \(results[2])"); return }
        #expect(results[3] == .miss(.domain))
    }

    @Test func missRecordsCarryNoStaleFields() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let listed = digest(.domain, "listed.example")
        let (snapshot, _) = try writeSnapshot([(listed, EntryMetadata(sourceID: 9))], to: directory.file("one.snap"))
        let matcher = try Matcher(snapshot: snapshot, key: testKey, batchSize: 2)
        let values = ["listed.example", "other.example", "listed.example", "1.2.3.4"].map { Array($0.utf8) }
        var records = [MatchRecord](repeating: .refused, count: values.count)
        let storage = values.map { bytes in bytes.withUnsafeBufferPointer { UnsafeBufferPointer(start: UnsafeMutablePointer(mutating: $0.baseAddress!).copy(count: $0.count), count: $0.count) } }
        defer { storage.forEach { UnsafeMutablePointer(mutating: $0.baseAddress!).deallocate() } }
        storage.withUnsafeBufferPointer { buffers in
            records.withUnsafeMutableBufferPointer { matcher.match(buffers, now: 0, into: $0) }
        }
        #expect(records[0].isHit && records[2].isHit)
        #expect(records[0].metadata?.sourceID == 9)
        #expect(records[1] == .miss(.domain))  // every other field zero, as `.miss` has them
        #expect(records[3] == .miss(.ipv4))
    }
}

extension UnsafeMutablePointer where Pointee == UInt8 {
    /// A fresh copy of `count` bytes (the test owns and frees it).
    fileprivate func copy(count: Int) -> UnsafeMutablePointer<UInt8> {
        let copy = UnsafeMutablePointer<UInt8>.allocate(capacity: max(count, 1))
        copy.initialize(from: self, count: count)
        return copy
    }
}
