import IndicatorKit
import Testing
@testable import IndicatorStore

/// The matcher's branch-free stages (Matcher+Resolve.swift) must give the answers of the
/// snapshot's own lookup rule: the bucket scan the same cold index as `BucketTable.locate`,
/// and a value that finds no entry (its record read from the zero `absentRecord`) a plain miss.
@Suite struct MatcherLocateTests {
    @Test func branchFreeLocateEqualsTheLookupRule() throws {
        func lo(_ home: Int, _ offset: UInt64) -> UInt64 { CraftedSnapshot.lo(home: home, of: 4, offset: offset) }
        // Bucket 0 full, one of its digests spilled into bucket 1; bucket 2 partly used.
        let full0 = (0..<7).map { (lo: lo(0, UInt64(10 + 2 * $0)), hi: UInt64($0)) }
        let buckets: [[(lo: UInt64, hi: UInt64)]] = [
            full0, [(lo(0, 40), 7), (lo(1, 5), 8)], [(lo(2, 1), 9), (lo(2, 3), 10)], [],
        ]
        let crafted = CraftedSnapshot(homeBuckets: 4, buckets: buckets, maxSpill: 1)
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let snapshot = try CorruptSnapshotTests.open(crafted.bytes(), in: directory, verification: .full).get()
        let table = snapshot.table
        var probes: [UInt64] = [0, 1, UInt64.max, UInt64.max - 1]
        for bucket in buckets { for entry in bucket { probes += [entry.lo - 1, entry.lo, entry.lo + 1] } }
        for home in 0..<4 { for offset in 0..<50 { probes.append(lo(home, UInt64(offset))) } }
        var found = 0
        for probe in probes {
            let expected = table.locate(lo: probe)
            #expect(Matcher.locate(table, lo: probe) == expected, "lo \(probe)")
            if expected >= 0 { found += 1 }
        }
        #expect(found >= 11)
        #expect(Matcher.locate(table, lo: lo(0, 40)) == 7)  // the spilled digest, found in bucket 1
        #expect(Matcher.locate(table, lo: lo(0, 41)) == -1)
    }

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
