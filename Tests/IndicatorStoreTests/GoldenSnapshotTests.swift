import Foundation
import IndicatorKit
import Testing
@testable import IndicatorStore

/// The committed golden snapshot (Fixtures/golden-v3.snap): built with `testKey` from
/// `goldenEntries` (upload numbers from `goldenUpload`, the IBAN marked multi) at
/// `goldenCreatedAt` and journal sequence `goldenSequence`. Rebuilding must give the same
/// bytes; a change here is a format change (bump `StoreFormat.version` and
/// docs/STORE-FORMAT.md). Regenerate with
/// `INDICATORSTORE_WRITE_GOLDEN=$PWD/Tests/IndicatorStoreTests/Fixtures/golden-v3.snap swift test --filter rebuildingGivesTheCommittedBytes`
/// (deterministic: fixed key, entries and creation time). Fixtures/golden-v2.snap is the last
/// version 2 file (the same entries, no report fields), kept to test that it is still read;
/// Fixtures/golden-v1.snap is the last version 1 file, kept to test that it is refused.
@Suite struct GoldenSnapshotTests {
    static let goldenCreatedAt: UInt64 = 1_735_689_600  // 2025-01-01T00:00:00Z
    static let goldenSequence: UInt64 = 0x0102_0304_0506_0708

    /// The upload number of golden entry `index` (24 bits used in full for the last one).
    static func goldenUpload(_ index: Int) -> UInt32 { index == 22 ? 0xABCDEF : UInt32(index + 1) }

    static func goldenEntries() -> [(IndicatorDigest, EntryMetadata, CanonicalForm)] {
        var entries: [(IndicatorDigest, EntryMetadata, CanonicalForm)] = []
        for index in 0..<20 {
            let address: [UInt8] = [192, 0, 2, UInt8(index)]
            entries.append((
                digest(.ipv4, address),
                EntryMetadata(
                    category: ThreatCategory(rawValue: UInt8(index % 13))!, confidence: UInt8(index * 5),
                    tlp: TLP(rawValue: UInt8(index % 5))!, action: ActionHint(rawValue: UInt8(index % 3))!,
                    sourceID: UInt16(index), firstSeenDay: 20_000, lastSeenDay: 20_010 + UInt16(index),
                    expires: index % 4 == 0 ? 1_800_000_000 : 0),
                CanonicalForm(type: .ipv4, prefixLength: 32)))
        }
        entries.append((digest(.ipv4, [198, 51, 100, 0, 24]), EntryMetadata(category: .botnet),
                        CanonicalForm(type: .ipv4, prefixLength: 24)))
        entries.append((digest(.domain, "example.com"), EntryMetadata(category: .phishing, coversSubdomains: true),
                        CanonicalForm(type: .domain, coversSubdomains: true)))
        entries.append((digest(.iban, "DE89370400440532013000"), EntryMetadata(category: .muleAccount, tlp: .red),
                        CanonicalForm(type: .iban)))
        return entries
    }

    static func buildGolden(at path: String) throws -> SnapshotWriter.Summary {
        var writer = SnapshotWriter(key: testKey)
        writer.sequence = goldenSequence
        for (index, (digest, metadata, form)) in goldenEntries().enumerated() {
            writer.prefixes.insert(form)
            writer.add(digest, metadata, upload: goldenUpload(index), multi: index == 22)
        }
        return try writer.write(to: path, createdAt: goldenCreatedAt)
    }

    static var fixturePath: String {
        Bundle.module.resourceURL!.appendingPathComponent("Fixtures/golden-v3.snap").path
    }

    static var version2Path: String {
        Bundle.module.resourceURL!.appendingPathComponent("Fixtures/golden-v2.snap").path
    }

    static var version1Path: String {
        Bundle.module.resourceURL!.appendingPathComponent("Fixtures/golden-v1.snap").path
    }

    @Test func rebuildingGivesTheCommittedBytes() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        if let target = ProcessInfo.processInfo.environment["INDICATORSTORE_WRITE_GOLDEN"] {
            _ = try Self.buildGolden(at: target)
        }
        let summary = try Self.buildGolden(at: directory.file("golden.snap"))
        #expect(summary.entries == 23)
        let rebuilt = readFile(directory.file("golden.snap"))
        let committed = readFile(Self.fixturePath)
        #expect(rebuilt.count == committed.count)
        let identical = rebuilt == committed
        #expect(identical, "golden snapshot bytes changed: a format change?")
    }

    @Test func goldenSnapshotOpensAndAnswers() throws {
        let snapshot = try Snapshot.open(Self.fixturePath, key: testKey, verification: .full)
        #expect(snapshot.entryCount == 23)
        #expect(snapshot.header.createdAt == Self.goldenCreatedAt)
        #expect(snapshot.header.keyID == testKey.id)
        #expect(snapshot.header.hasSubdomainEntries)
        #expect(snapshot.header.prefixes.lengths(.ipv4) == [24])
        #expect(snapshot.header.homeBuckets == 6)  // ceil(23 × 5 / 21)
        #expect(snapshot.header.sequence == Self.goldenSequence)
        #expect(snapshot.header.formatVersion == 3)
        for (index, (digest, metadata, _)) in Self.goldenEntries().enumerated() {
            #expect(snapshot.lookup(digest, now: 1_700_000_000) == metadata)
            #expect(snapshot.storedEntry(digest) == StoredEntry(metadata: metadata, upload: Self.goldenUpload(index), multi: index == 22))
        }
        #expect(snapshot.lookup(digest(.ipv4, [192, 0, 2, 0]), now: 1_800_000_000) == nil)  // expired
        #expect(snapshot.lookup(digest(.ipv4, [192, 0, 2, 99]), now: 0) == nil)
    }

    /// The last version 2 file is still read: as version 3 with sequence 0, upload numbers 0
    /// and no multi bits (those bits were reserved zero in version 2).
    @Test func version2SnapshotsAreStillRead() throws {
        let snapshot = try Snapshot.open(Self.version2Path, key: testKey, verification: .full)
        #expect(snapshot.header.formatVersion == 2)
        #expect(snapshot.header.sequence == 0)
        #expect(snapshot.entryCount == 23)
        for (digest, metadata, _) in Self.goldenEntries() {
            #expect(snapshot.storedEntry(digest) == StoredEntry(metadata: metadata, upload: 0, multi: false))
        }
        // In version 2 the upload bytes are reserved: a non-zero one is malformed there.
        var bytes = readFile(Self.version2Path)
        let records = 4096 + Int(u64(bytes, 48)) * 64
        bytes[records + 21] = 1
        let body = Checksum.of(bytes.withUnsafeBytes { UnsafeRawBufferPointer(rebasing: $0[4096...]) })
        bytes.replaceSubrange(96..<128, with: body)
        var header = Array(bytes[0..<4096])
        SnapshotHeader.seal(&header)
        bytes.replaceSubrange(0..<4096, with: header)
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        writeFile(directory.file("v2.snap"), bytes)
        #expect(throws: StoreError.malformed(path: directory.file("v2.snap"), reason: "cold record 0 has invalid metadata")) {
            _ = try Snapshot.open(directory.file("v2.snap"), key: testKey, verification: .full)
        }
    }

    /// Field-by-field check of the golden header against docs/STORE-FORMAT.md's offsets.
    @Test func goldenHeaderLayoutMatchesTheDocument() throws {
        let bytes = readFile(Self.fixturePath)
        #expect(Array(bytes[0..<8]) == Array("IHUBSNAP".utf8))
        #expect(u32(bytes, 8) == 3)
        #expect(u32(bytes, 12) == 4096)
        #expect(u32(bytes, 16) == 64)
        #expect(bytes[20] == Canonicalizer.version)
        #expect(bytes[21] == 1)
        #expect(u16(bytes, 22) == 24)
        #expect(u64(bytes, 24) == testKey.id)
        #expect(u64(bytes, 32) == 23)
        #expect(u64(bytes, 40) == 6)
        #expect(u64(bytes, 48) >= 6)
        #expect(u64(bytes, 56) < u64(bytes, 48))
        #expect(u64(bytes, 64) == Self.goldenCreatedAt)
        #expect(u64(bytes, 72) == 1 << 24)
        #expect(u64(bytes, 80) == 0 && u64(bytes, 88) == 0)
        #expect(bytes.count == 4096 + Int(u64(bytes, 48)) * 64 + 23 * 24)
        #expect(u64(bytes, 128) == Self.goldenSequence)
        #expect(bytes[136..<4064].allSatisfy { $0 == 0 })
    }

    /// A second, deliberately naive reader written from docs/STORE-FORMAT.md alone (byte
    /// loads, no IndicatorStore code): it finds every golden entry and its metadata by the
    /// document's home function and lookup rule, and agrees that absent digests are absent.
    @Test func documentedLookupRuleFindsEveryGoldenEntry() throws {
        let bytes = readFile(Self.fixturePath)
        let entries = Int(u64(bytes, 32))
        let homeBuckets = u64(bytes, 40)
        let buckets = Int(u64(bytes, 48))
        let cold = 4096 + buckets * 64
        func find(_ lo: UInt64, _ hi: UInt64) -> Int? {
            var bucket = Int(lo.multipliedFullWidth(by: homeBuckets).high)
            while bucket < buckets {
                let at = 4096 + bucket * 64
                let base = Int(u32(bytes, at))
                let count = Int(bytes[at + 4])
                for slot in 0..<count {
                    let fingerprint = u64(bytes, at + 8 + 8 * slot)
                    if fingerprint > lo { return nil }
                    if fingerprint == lo && u64(bytes, cold + (base + slot) * 24) == hi { return base + slot }
                }
                if count < 7 { return nil }
                bucket += 1
            }
            return nil
        }
        for (index, (digest, metadata, _)) in Self.goldenEntries().enumerated() {
            let entry = try #require(find(digest.lo == 0 ? 1 : digest.lo, digest.hi), "\(digest)")
            #expect(entry < entries)
            let record = cold + entry * 24
            #expect(u32(bytes, record + 8) == metadata.expires)
            #expect(u16(bytes, record + 12) == metadata.firstSeenDay)
            #expect(u16(bytes, record + 14) == metadata.lastSeenDay)
            #expect(u16(bytes, record + 16) == metadata.sourceID)
            #expect(bytes[record + 18] == metadata.category.rawValue)
            #expect(bytes[record + 19] == metadata.confidence)
            #expect(bytes[record + 20] & 0x07 == metadata.tlp.rawValue)
            #expect((bytes[record + 20] >> 3) & 0x03 == metadata.action.rawValue)
            #expect((bytes[record + 20] & 0x20 != 0) == metadata.coversSubdomains)
            #expect((bytes[record + 20] & 0x40 != 0) == (index == 22))  // multi
            #expect(UInt32(bytes[record + 21]) | UInt32(bytes[record + 22]) << 8 | UInt32(bytes[record + 23]) << 16
                == Self.goldenUpload(index))
        }
        var random = SplitMix(seed: 17)
        for _ in 0..<1000 { #expect(find(random.next(), random.next()) == nil) }
    }

    /// The last version 1 file is refused with a typed error that says what to do.
    @Test func version1SnapshotsAreRefused() {
        let result = Result { () throws(StoreError) in try Snapshot.open(Self.version1Path, key: testKey) }
        guard case .failure(let error) = result else {
            Issue.record("a version 1 snapshot was opened")
            return
        }
        #expect(error == .unsupportedVersion(path: Self.version1Path, found: 1))
        #expect(error.description.contains("golden-v1.snap: snapshot format version 1 is no longer read; re-ingest"))
    }
}

func u16(_ bytes: [UInt8], _ offset: Int) -> UInt16 { UInt16(bytes[offset]) | UInt16(bytes[offset + 1]) << 8 }
func u32(_ bytes: [UInt8], _ offset: Int) -> UInt32 {
    bytes[offset..<offset + 4].reversed().reduce(0) { $0 << 8 | UInt32($1) }
}
func u64(_ bytes: [UInt8], _ offset: Int) -> UInt64 {
    bytes[offset..<offset + 8].reversed().reduce(0) { $0 << 8 | UInt64($1) }
}
