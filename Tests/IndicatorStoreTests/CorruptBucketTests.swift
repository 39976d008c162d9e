import IndicatorKit
import Testing
@testable import IndicatorStore

/// A snapshot written byte by byte, bypassing `SnapshotWriter`: the given buckets (each a list
/// of `(lo, hi)` in slot order) with dense cold records, a correct body checksum and a sealed
/// header — what a buggy or hostile writer could produce.
struct CraftedSnapshot {
    var homeBuckets: Int
    var buckets: [[(lo: UInt64, hi: UInt64)]]
    var maxSpill: Int
    var metadata = EntryMetadata()

    /// A `lo` whose home bucket is `bucket` (of `homeBuckets`), plus `offset`.
    static func lo(home bucket: Int, of homeBuckets: Int, offset: UInt64 = 0) -> UInt64 {
        let start = (UInt64(bucket) << 32) / UInt64(homeBuckets) + 1
        return (start << 32) + offset
    }

    func bytes() -> [UInt8] {
        var hot: [UInt8] = []
        var cold: [UInt8] = []
        func append<T: FixedWidthInteger>(_ value: T, to bytes: inout [UInt8]) {
            withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
        }
        var base = 0
        let (word2, word3) = Slot.encode(metadata)
        for bucket in buckets {
            append(UInt32(base), to: &hot)
            hot += [UInt8(bucket.count), 0, 0, 0]
            for slot in 0..<7 { append(slot < bucket.count ? bucket[slot].lo : 0, to: &hot) }
            for entry in bucket {
                append(entry.hi, to: &cold)
                append(word2, to: &cold)
                append(word3, to: &cold)
            }
            base += bucket.count
        }
        let body = hot + cold
        let header = SnapshotHeader(
            canonicalizerVersion: Canonicalizer.version, hasSubdomainEntries: metadata.coversSubdomains,
            keyID: testKey.id, entryCount: base, homeBuckets: homeBuckets, bucketCount: buckets.count,
            maxSpill: maxSpill, createdAt: 0, prefixes: NetworkPrefixes(),
            bodyChecksum: body.withUnsafeBytes { Checksum.of($0) })
        return header.encode() + body
    }
}

/// Bodies that carry a valid checksum but break a structural rule of the bucket array or the
/// cold records: `.full` refuses each with `.malformed` naming the file and the rule.
@Suite struct CorruptBucketTests {
    static let golden = CorruptSnapshotTests.golden

    /// `golden` with `change` applied to the body, the body checksum recomputed and the header
    /// resealed.
    static func resealed(_ change: (inout [UInt8]) -> Void) -> [UInt8] {
        var bytes = golden
        change(&bytes)
        let headerSize = StoreFormat.headerSize
        let sum = bytes.withUnsafeBytes { Checksum.of(UnsafeRawBufferPointer(rebasing: $0[headerSize...])) }
        var header = Array(bytes[0..<headerSize])
        header.replaceSubrange(StoreFormat.Offset.bodyChecksum..<StoreFormat.Offset.bodyChecksum + 32, with: sum)
        SnapshotHeader.seal(&header)
        bytes.replaceSubrange(0..<headerSize, with: header)
        return bytes
    }

    /// Expects `.full` to refuse `bytes` as malformed with a reason containing `reason`, and a
    /// header-only open to accept it (the damage is in the body).
    static func expectMalformed(
        _ bytes: [UInt8], _ reason: String, headerOnlyOpens: Bool = true, sourceLocation: SourceLocation = #_sourceLocation
    ) {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        switch CorruptSnapshotTests.open(bytes, in: directory, verification: .full) {
        case .success: Issue.record("accepted; expected: \(reason)", sourceLocation: sourceLocation)
        case .failure(let error):
            guard case .malformed(let file, let why) = error else {
                Issue.record("expected .malformed (\(reason)), got \(error)", sourceLocation: sourceLocation)
                return
            }
            #expect(file == directory.file("corrupt.snap"), sourceLocation: sourceLocation)
            #expect(why.contains(reason), "\(why)", sourceLocation: sourceLocation)
        }
        if headerOnlyOpens {
            #expect((try? CorruptSnapshotTests.open(bytes, in: directory).get()) != nil, sourceLocation: sourceLocation)
        }
    }

    /// The golden file's buckets: (file offset, count).
    static var goldenBuckets: [(offset: Int, count: Int)] {
        let buckets = Int(u64(golden, StoreFormat.Offset.bucketCount))
        return (0..<buckets).map { index in
            let offset = StoreFormat.headerSize + index * StoreFormat.bucketSize
            return (offset, Int(golden[offset + StoreFormat.BucketOffset.count]))
        }
    }

    static var recordsOffset: Int {
        StoreFormat.headerSize + Int(u64(golden, StoreFormat.Offset.bucketCount)) * StoreFormat.bucketSize
    }

    @Test func damagedGoldenBucketsAreRefused() throws {
        let buckets = Self.goldenBuckets
        let twoOrMore = try #require(buckets.first { $0.count >= 2 })
        let notFull = try #require(buckets.first { $0.count < 7 })
        let second = buckets[1]
        let fingerprint = StoreFormat.BucketOffset.fingerprints
        Self.expectMalformed(Self.resealed { bytes in  // two fingerprints swapped
            let a = twoOrMore.offset + fingerprint, b = a + 8
            let first = Array(bytes[a..<a + 8])
            bytes.replaceSubrange(a..<a + 8, with: bytes[b..<b + 8])
            bytes.replaceSubrange(b..<b + 8, with: first)
        }, "out of digest order")
        Self.expectMalformed(Self.resealed { $0[second.offset] &+= 1 }, "bucket 1 starts at cold record")
        Self.expectMalformed(Self.resealed { $0[notFull.offset + StoreFormat.BucketOffset.count] = 8 }, "at most 7")
        Self.expectMalformed(Self.resealed { $0[second.offset + StoreFormat.BucketOffset.reserved + 2] = 1 }, "reserved bytes")
        Self.expectMalformed(Self.resealed { $0[notFull.offset + fingerprint + 8 * 6] = 1 }, "non-zero fingerprint after")
        Self.expectMalformed(Self.resealed { bytes in  // an entry's fingerprint removed, its record kept
            let count = twoOrMore.offset + StoreFormat.BucketOffset.count
            bytes[count] -= 1
            let last = twoOrMore.offset + fingerprint + 8 * Int(bytes[count])
            for index in 0..<8 { bytes[last + index] = 0 }
        }, "starts at cold record")
    }

    @Test func damagedGoldenRecordsAreRefused() {
        let records = Self.recordsOffset
        typealias R = StoreFormat.RecordOffset
        let size = StoreFormat.recordSize
        Self.expectMalformed(Self.resealed { $0[records + 3 * size + R.flags] |= 0x80 }, "cold record 3 has invalid metadata")
        Self.expectMalformed(Self.resealed { $0[records + size + R.category] = 200 }, "cold record 1 has invalid metadata")
        Self.expectMalformed(Self.resealed { $0[records + size + R.confidence] = 101 }, "cold record 1 has invalid metadata")
        Self.expectMalformed(Self.resealed { $0[records + 2 * size + R.flags] = 0x07 }, "cold record 2 has invalid metadata")
        Self.expectMalformed(Self.resealed { bytes in
            for entry in 0..<23 { bytes[records + entry * size + R.flags] |= 1 << 5 }
            bytes[StoreFormat.Offset.flags] = 0
        }, "header flag is not set")
    }

    @Test func craftedBucketArraysBreakingARuleAreRefused() {
        func lo(_ home: Int, _ offset: UInt64 = 0, of homeBuckets: Int = 4) -> UInt64 {
            CraftedSnapshot.lo(home: home, of: homeBuckets, offset: offset)
        }
        let full0 = (0..<7).map { (lo: lo(0, UInt64(10 + $0)), hi: UInt64($0)) }
        // Valid: bucket 0 full, one entry spilled into bucket 1.
        let valid = CraftedSnapshot(homeBuckets: 4, buckets: [full0, [(lo(0, 20), 1)], [], []], maxSpill: 1)
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        #expect((try? CorruptSnapshotTests.open(valid.bytes(), in: directory, verification: .full).get()) != nil)

        Self.expectMalformed(
            CraftedSnapshot(homeBuckets: 4, buckets: [full0, [(lo(0, 20), 1)], [], []], maxSpill: 0).bytes(),
            "1 buckets from its home, max spill is 0")
        Self.expectMalformed(
            CraftedSnapshot(homeBuckets: 4, buckets: [[(lo(1), 1)], [], [], []], maxSpill: 0).bytes(),
            "home bucket 1 is after it")
        Self.expectMalformed(
            CraftedSnapshot(homeBuckets: 4, buckets: [[(lo(0, 1), 1)], [(lo(0, 2), 1)], [], []], maxSpill: 1).bytes(),
            "bucket 0 is not full but lies between")
        Self.expectMalformed(
            CraftedSnapshot(homeBuckets: 4, buckets: [full0, [(lo(0, 5), 1)], [], []], maxSpill: 1).bytes(),
            "bucket 1 slot 0 is out of digest order")
        Self.expectMalformed(
            CraftedSnapshot(homeBuckets: 4, buckets: [[(lo(0, 2), 1), (lo(0, 1), 1)], [], [], []], maxSpill: 0).bytes(),
            "bucket 0 slot 1 is out of digest order")
        Self.expectMalformed(
            CraftedSnapshot(homeBuckets: 4, buckets: [[(lo(0, 2), 1), (lo(0, 2), 1)], [], [], []], maxSpill: 0).bytes(),
            "out of digest order")
        let full3 = (0..<7).map { (lo: lo(3, UInt64($0)), hi: UInt64($0)) }
        Self.expectMalformed(
            CraftedSnapshot(homeBuckets: 4, buckets: [[], [], [], full3], maxSpill: 0).bytes(),
            "the last bucket 3 is full")
    }

    /// Digests sharing a `lo` (a 2⁻⁶⁴ event per pair, but the format must handle it): equal
    /// fingerprints spanning a bucket boundary are told apart by their cold `hi`, by the
    /// snapshot's lookup and by the matcher's locate-then-confirm stages alike.
    @Test func equalFingerprintsAcrossBucketsAreToldApartByHi() throws {
        let shared = CraftedSnapshot.lo(home: 1, of: 4, offset: 7)
        let before = CraftedSnapshot.lo(home: 1, of: 4, offset: 3)
        let bucket1: [(lo: UInt64, hi: UInt64)] = [(before, 9)] + (0..<6).map { (shared, UInt64(10 + 2 * $0)) }
        let bucket2: [(lo: UInt64, hi: UInt64)] = (6..<9).map { (shared, UInt64(10 + 2 * $0)) }
        let crafted = CraftedSnapshot(
            homeBuckets: 4, buckets: [[], bucket1, bucket2, []], maxSpill: 1, metadata: EntryMetadata(sourceID: 77))
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let snapshot = try CorruptSnapshotTests.open(crafted.bytes(), in: directory, verification: .full).get()
        let matcher = try Matcher(snapshot: snapshot, key: testKey, batchSize: 4)
        for index in 0..<9 {
            let digest = IndicatorDigest(lo: shared, hi: UInt64(10 + 2 * index))
            #expect(snapshot.lookup(digest, now: 0)?.sourceID == 77, "hi \(digest.hi)")
            #expect(matcher.match(digest: digest, type: .domain, now: 0) == .hit(.domain, EntryMetadata(sourceID: 77), .exact))
            let absent = IndicatorDigest(lo: shared, hi: UInt64(11 + 2 * index))
            #expect(snapshot.lookup(absent, now: 0) == nil, "hi \(absent.hi)")
            #expect(matcher.match(digest: absent, type: .domain, now: 0) == .miss(.domain))
        }
        #expect(snapshot.lookup(IndicatorDigest(lo: before, hi: 9), now: 0) != nil)
        #expect(snapshot.lookup(IndicatorDigest(lo: shared + 1, hi: 10), now: 0) == nil)
        var seen: [IndicatorDigest] = []
        snapshot.forEachEntry { digest, _ in seen.append(digest) }
        #expect(seen.count == 10)
        #expect(seen == seen.sorted { ($0.lo, $0.hi) < ($1.lo, $1.hi) })
    }
}
