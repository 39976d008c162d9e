import Foundation
import IndicatorKit
import Testing
@testable import IndicatorStore

/// The reports table and upload index compaction writes beside a snapshot: they round-trip,
/// belong to the snapshot's sequence, and damage is refused naming the file.
@Suite struct LiveTablesTests {
    /// A compacted store with one multi-source value; returns the sequence.
    static func compactedStore(_ directory: TemporaryDirectory) throws -> UInt64 {
        let store = try Live.open(directory)
        defer { store.close() }
        _ = try store.upload(Live.request(Live.uploadID(1), source: 1, [(Live.digest(1), EntryMetadata(confidence: 10))]), time: 1)
        _ = try store.upload(Live.request(Live.uploadID(2), source: 2, [(Live.digest(1), EntryMetadata(confidence: 20))]), time: 2)
        return try store.compact(now: 2).sequence
    }

    @Test func tablesAreNamedBySequenceAndRoundTrip() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let sequence = try Self.compactedStore(directory)
        #expect(sequence == 2)
        #expect(directory.contents().sorted() == [
            "indicators.snap", "journal.0000000000000003", "reports.0000000000000002", "uploads.0000000000000002",
        ])
        let records = try TableFile.read(directory.file("reports.0000000000000002"), kind: .reports, keyID: testKey.id, sequence: 2)
        let table = try ReportsTable.decode(records, path: "r")
        #expect(table.reports[Live.digest(1)]?.map(\.upload) == [1, 2])
        #expect(table.encode() == records)
        let uploads = try UploadIndex.decode(
            try TableFile.read(directory.file("uploads.0000000000000002"), kind: .uploads, keyID: testKey.id, sequence: 2), path: "u")
        #expect(uploads[Live.uploadID(2)]?.receipt.uploadNumber == 2)
        #expect(uploads.lastNumber == 2)
        // A table of another sequence is refused.
        #expect(throws: LiveStoreError.tableCorrupt(path: directory.file("reports.0000000000000002"), reason: "sequence 2, the snapshot's is 3")) {
            _ = try TableFile.read(directory.file("reports.0000000000000002"), kind: .reports, keyID: testKey.id, sequence: 3)
        }
    }

    @Test func damagedOrMissingTablesAreRefused() throws {
        for (file, offset, reason) in [
            ("reports.0000000000000002", 130, "body checksum mismatch"),
            ("reports.0000000000000002", 20, "header checksum mismatch"),
            ("uploads.0000000000000002", 0, "bad magic"),
            ("uploads.0000000000000002", 200, "body checksum mismatch"),
        ] {
            let directory = TemporaryDirectory()
            defer { directory.remove() }
            _ = try Self.compactedStore(directory)
            var bytes = readFile(directory.file(file))
            bytes[offset] ^= 0x10
            writeFile(directory.file(file), bytes)
            #expect(throws: LiveStoreError.tableCorrupt(path: directory.file(file), reason: reason)) { _ = try Live.open(directory) }
        }
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        _ = try Self.compactedStore(directory)
        try FileManager.default.removeItem(atPath: directory.file("uploads.0000000000000002"))
        #expect(throws: LiveStoreError.tableCorrupt(
            path: directory.file("uploads.0000000000000002"), reason: "missing: the snapshot at sequence 2 needs it")) {
            _ = try Live.open(directory)
        }
    }

    /// A compaction that died after writing its tables but before renaming its snapshot leaves
    /// tables of a newer sequence: recovery deletes them and answers from the old snapshot and
    /// the journal.
    @Test func strayTablesOfAnUnfinishedCompactionAreRemoved() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        _ = try Self.compactedStore(directory)
        let store = try Live.open(directory)
        _ = try store.withdraw(values: [Live.digest(1)], source: 2)
        store.close()
        writeFile(directory.file("reports.0000000000000003"), [1, 2, 3])
        writeFile(directory.file("uploads.0000000000000003"), [])
        writeFile(directory.file(".indicators.snap.tmp-1-2"), [0])
        let reopened = try Live.open(directory)
        defer { reopened.close() }
        #expect(reopened.lookup(digest: Live.digest(1), now: 2)?.confidence == 10)
        #expect(directory.contents().sorted() == [
            "indicators.snap", "journal.0000000000000003", "reports.0000000000000002", "uploads.0000000000000002",
        ])
    }
}
