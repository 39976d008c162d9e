import IndicatorKit
import Testing
@testable import IndicatorStore

@Suite struct SnapshotRoundTripTests {
    @Test func roundTripKeepsMetadata() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let metadata = EntryMetadata(
            category: .muleAccount, confidence: 87, tlp: .amberStrict, action: .warn, sourceID: 513,
            firstSeenDay: 19_000, lastSeenDay: 19_500, expires: 2_000_000_000, coversSubdomains: true)
        let entries = [
            (digest(.iban, "DE89370400440532013000"), metadata),
            (digest(.domain, "example.com"), EntryMetadata(category: .phishing)),
        ]
        let (snapshot, summary) = try writeSnapshot(entries, to: directory.file("store.snap"))
        #expect(summary.entries == 2)
        #expect(summary.duplicates == 0)
        #expect(snapshot.entryCount == 2)
        #expect(snapshot.header.hasSubdomainEntries)
        #expect(snapshot.header.createdAt == 1_700_000_000)
        #expect(snapshot.lookup(entries[0].0, now: 1_900_000_000) == metadata)
        #expect(snapshot.lookup(entries[1].0, now: 1_900_000_000) == EntryMetadata(category: .phishing))
        #expect(snapshot.lookup(digest(.iban, "GB82WEST12345698765432"), now: 0) == nil)
    }

    @Test func everySizeFromZeroTo300FindsAllAndOnlyItsEntries() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        var random = SplitMix(seed: 7)
        for count in 0...300 {
            let entries = (0..<count).map { _ in
                (IndicatorDigest(lo: random.next(), hi: random.next()), EntryMetadata(confidence: UInt8(count % 101)))
            }
            let (snapshot, summary) = try writeSnapshot(entries, to: directory.file("sweep.snap"))
            #expect(summary.entries == count)
            #expect(snapshot.header.homeBuckets == Bucket.homeBuckets(forEntries: count))
            for (digest, metadata) in entries {
                #expect(snapshot.lookup(digest, now: 0) == metadata, "n=\(count) \(digest)")
            }
            var absentFound = 0
            for _ in 0..<1000 where snapshot.lookup(IndicatorDigest(lo: random.next(), hi: random.next()), now: 0) != nil {
                absentFound += 1
            }
            #expect(absentFound == 0, "n=\(count)")
            var seen = 0
            snapshot.forEachEntry { _, _ in seen += 1 }
            #expect(seen == count)
        }
    }

    @Test func digestsSharingAHomeSlotAreAllFound() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        // 40 digests with the same lo (same home, ordered by hi; equal fingerprints spanning
        // several buckets, told apart by the cold record's hi), 40 more with neighbouring lo
        // values (same home bucket), plus background entries.
        var random = SplitMix(seed: 11)
        var entries: [(IndicatorDigest, EntryMetadata)] = []
        let base: UInt64 = 0x8000_0000_0000_0000
        for index in 0..<40 {
            entries.append((IndicatorDigest(lo: base, hi: random.next()), EntryMetadata(sourceID: UInt16(index))))
            entries.append((IndicatorDigest(lo: base + 1 + UInt64(index), hi: 7), EntryMetadata(sourceID: UInt16(100 + index))))
        }
        for _ in 0..<200 { entries.append((IndicatorDigest(lo: random.next(), hi: random.next()), EntryMetadata())) }
        let (snapshot, _) = try writeSnapshot(entries, to: directory.file("collide.snap"))
        #expect(snapshot.header.maxSpill >= 79 / StoreFormat.slotsPerBucket)
        for (digest, metadata) in entries { #expect(snapshot.lookup(digest, now: 0) == metadata) }
        #expect(snapshot.lookup(IndicatorDigest(lo: base, hi: 1), now: 0) == nil)
        #expect(snapshot.lookup(IndicatorDigest(lo: base + 41, hi: 8), now: 0) == nil)
    }

    @Test func zeroLowHalfIsStoredAsOne() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let zero = IndicatorDigest(lo: 0, hi: 0)
        let zeroLo = IndicatorDigest(lo: 0, hi: 42)
        let (snapshot, _) = try writeSnapshot(
            [(zero, EntryMetadata(sourceID: 1)), (zeroLo, EntryMetadata(sourceID: 2))], to: directory.file("zero.snap"))
        #expect(snapshot.lookup(zero, now: 0)?.sourceID == 1)
        #expect(snapshot.lookup(zeroLo, now: 0)?.sourceID == 2)
        #expect(snapshot.lookup(IndicatorDigest(lo: 1, hi: 42), now: 0)?.sourceID == 2)
    }

    @Test func duplicatesAreMergedAndCounted() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let value = digest(.ipv4, [192, 0, 2, 1])
        let first = EntryMetadata(category: .botnet, confidence: 40, tlp: .green, firstSeenDay: 100, lastSeenDay: 120, expires: 5000)
        let second = EntryMetadata(category: .c2, confidence: 90, tlp: .clear, firstSeenDay: 90, lastSeenDay: 110, expires: 9000)
        let third = EntryMetadata(category: .spam, confidence: 10, tlp: .red, firstSeenDay: 0, lastSeenDay: 130, expires: 0)
        let other = digest(.ipv4, [192, 0, 2, 2])
        let (snapshot, summary) = try writeSnapshot(
            [(value, first), (other, first), (value, second), (value, third)], to: directory.file("dup.snap"))
        #expect(summary.entries == 2)
        #expect(summary.duplicates == 2)
        let merged = try #require(snapshot.lookup(value, now: 0))
        #expect(merged == first.merged(with: second).merged(with: third) || merged == first.merged(with: third).merged(with: second))
        #expect(merged.category == .c2)
        #expect(merged.confidence == 90)
        #expect(merged.tlp == .red)
        #expect(merged.firstSeenDay == 90)
        #expect(merged.lastSeenDay == 130)
        #expect(merged.expires == 0)
    }

    @Test func expiredEntriesNeverMatchAndAreDroppedOnRewrite() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let soon = digest(.domain, "soon.example")
        let later = digest(.domain, "later.example")
        let never = digest(.domain, "never.example")
        let entries = [
            (soon, EntryMetadata(expires: 1000)), (later, EntryMetadata(expires: 2000)), (never, EntryMetadata(expires: 0)),
        ]
        let (snapshot, _) = try writeSnapshot(entries, to: directory.file("expiry.snap"))
        #expect(snapshot.lookup(soon, now: 999) != nil)
        #expect(snapshot.lookup(soon, now: 1000) == nil)
        #expect(snapshot.lookup(later, now: 1500) != nil)
        #expect(snapshot.lookup(later, now: 2000) == nil)
        #expect(snapshot.lookup(never, now: .max) != nil)

        var live = 0
        snapshot.forEachEntry(liveAt: 1500) { _, _ in live += 1 }
        #expect(live == 2)

        let (rewritten, summary) = try writeSnapshot(entries, to: directory.file("expiry2.snap"), droppingExpiredAt: 1500)
        #expect(summary.expired == 1)
        #expect(rewritten.entryCount == 2)
        #expect(rewritten.lookup(soon, now: 0) == nil)
        #expect(rewritten.lookup(later, now: 0) != nil)
    }

    @Test func mergingAnIngestIntoAnExistingSnapshot() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.file("store.snap")
        var prefixes = NetworkPrefixes()
        prefixes.insert(.ipv4, prefixLength: 24)
        let old = digest(.ipv4, [10, 0, 0, 0, 24])
        let gone = digest(.ipv4, [10, 0, 1, 0, 24])
        let (existing, _) = try writeSnapshot(
            [(old, EntryMetadata(confidence: 30)), (gone, EntryMetadata(expires: 100))], to: path, prefixes: prefixes)

        var writer = SnapshotWriter(key: testKey)
        try writer.add(contentsOf: existing, liveAt: 200)
        writer.add(old, EntryMetadata(confidence: 80))
        writer.add(digest(.domain, "new.example"), EntryMetadata())
        let summary = try writer.write(to: path, createdAt: 1)
        #expect(summary.entries == 2)
        #expect(summary.duplicates == 1)
        let merged = try Snapshot.open(path, key: testKey, verification: .full)
        #expect(merged.lookup(old, now: 0)?.confidence == 80)
        #expect(merged.lookup(gone, now: 0) == nil)
        #expect(merged.header.prefixes.contains(.ipv4, prefixLength: 24))
        // The old snapshot stays readable while mapped, even though its file was replaced.
        #expect(existing.lookup(old, now: 0)?.confidence == 30)
    }

    @Test func bytesPerEntryStayWithin40ForTenThousandAndMore() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        var random = SplitMix(seed: 3)
        for count in [10_000, 50_000, 200_000] {
            var writer = SnapshotWriter(key: testKey, reservingCapacity: count)
            for _ in 0..<count { writer.add(IndicatorDigest(lo: random.next(), hi: random.next()), EntryMetadata()) }
            let summary = try writer.write(to: directory.file("size.snap"), createdAt: 0)
            let size = readFile(directory.file("size.snap")).count
            #expect(size == summary.header.fileSize)
            #expect(Double(size) / Double(count) <= 40.0, "n=\(count): \(Double(size) / Double(count)) bytes per entry")
        }
    }

    @Test func largeWriterUsesTheRadixPathAndKeepsOrder() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        var random = SplitMix(seed: 5)
        let entries = (0..<150_000).map { index in
            (IndicatorDigest(lo: random.next(), hi: random.next()), EntryMetadata(sourceID: UInt16(index & 0xFFFF)))
        }
        let (snapshot, summary) = try writeSnapshot(entries + entries.prefix(1000), to: directory.file("big.snap"))
        #expect(summary.duplicates == 1000)
        for (digest, metadata) in entries.prefix(5000) { #expect(snapshot.lookup(digest, now: 0) == metadata) }
    }
}
