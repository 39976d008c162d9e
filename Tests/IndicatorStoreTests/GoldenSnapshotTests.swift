import Foundation
import IndicatorKit
import Testing
@testable import IndicatorStore

/// The committed golden snapshot (Fixtures/golden-v1.snap): built with `testKey` from
/// `goldenEntries` at `goldenCreatedAt`. Rebuilding must give the same bytes; a change here
/// is a format change (bump `StoreFormat.version` and docs/STORE-FORMAT.md).
/// Regenerate with `INDICATORSTORE_WRITE_GOLDEN=/path/golden-v1.snap swift test --filter GoldenSnapshotTests`.
@Suite struct GoldenSnapshotTests {
    static let goldenCreatedAt: UInt64 = 1_735_689_600  // 2025-01-01T00:00:00Z

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
        for (digest, metadata, form) in goldenEntries() { writer.add(digest, metadata, form: form) }
        return try writer.write(to: path, createdAt: goldenCreatedAt)
    }

    static var fixturePath: String {
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
        #expect(snapshot.header.capacity == 30)
        for (digest, metadata, _) in Self.goldenEntries() {
            #expect(snapshot.lookup(digest, now: 1_700_000_000) == metadata)
        }
        #expect(snapshot.lookup(digest(.ipv4, [192, 0, 2, 0]), now: 1_800_000_000) == nil)  // expired
        #expect(snapshot.lookup(digest(.ipv4, [192, 0, 2, 99]), now: 0) == nil)
    }

    /// Field-by-field check of the golden header against docs/STORE-FORMAT.md's offsets.
    @Test func goldenHeaderLayoutMatchesTheDocument() throws {
        let bytes = readFile(Self.fixturePath)
        func u32(_ offset: Int) -> UInt32 { bytes[offset..<offset + 4].reversed().reduce(0) { $0 << 8 | UInt32($1) } }
        func u64(_ offset: Int) -> UInt64 { bytes[offset..<offset + 8].reversed().reduce(0) { $0 << 8 | UInt64($1) } }
        #expect(Array(bytes[0..<8]) == Array("IHUBSNAP".utf8))
        #expect(u32(8) == 1)
        #expect(u32(12) == 4096)
        #expect(u32(16) == 32)
        #expect(bytes[20] == Canonicalizer.version)
        #expect(bytes[21] == 1)
        #expect(u64(24) == testKey.id)
        #expect(u64(32) == 23)
        #expect(u64(40) == 30)
        #expect(u64(48) == u64(56))
        #expect(u64(64) == Self.goldenCreatedAt)
        #expect(u64(72) == 1 << 24)
        #expect(u64(80) == 0 && u64(88) == 0)
        #expect(bytes.count == 4096 + Int(u64(40) + u64(48)) * 32)
        #expect(bytes[128..<4064].allSatisfy { $0 == 0 })
    }
}
