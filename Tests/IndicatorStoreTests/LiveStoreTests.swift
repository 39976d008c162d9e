import Foundation
import IndicatorKit
import Testing
@testable import IndicatorStore

/// The live store's semantics (docs/LIVE-UPDATES.md): merge rules, per-source withdrawals,
/// whole-upload withdrawals, idempotent retries, expiry, snapshot + delta answers, reopening.
@Suite struct LiveStoreTests {
    @Test func reportsMergeByTheDocumentedRules() {
        let a = Report(source: 3, upload: 1, metadata: EntryMetadata(
            category: .phishing, confidence: 60, tlp: .clear, action: .warn, firstSeenDay: 0, lastSeenDay: 20_010, expires: 2_000))
        let b = Report(source: 5, upload: 2, metadata: EntryMetadata(
            category: .malware, confidence: 80, tlp: .amber, action: .block, firstSeenDay: 19_990, lastSeenDay: 20_005, expires: 3_000))
        let c = Report(source: 2, upload: 3, metadata: EntryMetadata(
            category: .c2, confidence: 80, tlp: .green, action: .monitor, firstSeenDay: 19_995, lastSeenDay: 20_001,
            expires: 1_000, coversSubdomains: true))
        for order in [[a, b, c], [c, b, a], [b, a, c]] {
            let entry = ReportMerge.entry(order)
            #expect(entry.confidence == 80)
            #expect(entry.category == .c2 && entry.action == .monitor)  // highest confidence, tie → lowest source (2)
            #expect(entry.firstSeenDay == 19_990)  // earliest non-zero
            #expect(entry.lastSeenDay == 20_010)
            #expect(entry.expires == 3_000)
            #expect(entry.tlp == .amber)  // the strictest
            #expect(entry.coversSubdomains)
            #expect(entry.sourceID == 2)
        }
        var never = a
        never.metadata.expires = 0
        #expect(ReportMerge.entry([never, b]).expires == 0)
        #expect(ReportMerge.entry([a]) == { var m = a.metadata; m.sourceID = 3; return m }())
    }

    @Test func uploadsAreVisibleOnReturnAndSurviveReopening() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let store = try Live.open(directory)
        #expect(store.view().isDeltaEmpty)
        let metadata = EntryMetadata(category: .botnet, confidence: 70)
        let receipt = try store.upload(
            Live.request(Live.uploadID(1), source: 4, [(Live.digest(1), metadata), (Live.digest(2), metadata), (Live.digest(1), metadata)]),
            time: 500)
        #expect(receipt == UploadReceipt(uploadNumber: 1, accepted: 2, duplicates: 1, refused: 0, time: 500))
        var expected = metadata
        expected.sourceID = 4
        #expect(store.lookup(digest: Live.digest(1), now: 600) == expected)
        #expect(store.lookup(digests: [Live.digest(2), Live.digest(3)], now: 600) == [expected, nil])
        store.close()
        let reopened = try Live.open(directory)
        defer { reopened.close() }
        #expect(reopened.lookup(digest: Live.digest(2), now: 600) == expected)
        #expect(reopened.receipt(of: Live.uploadID(1)) == receipt)
        #expect(reopened.view().sequence == 1)
    }

    @Test func retriesAreIdempotentAndReusedIDsRefused() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let store = try Live.open(directory)
        defer { store.close() }
        let content = [(Live.digest(1), EntryMetadata(confidence: 10)), (Live.digest(2), EntryMetadata(confidence: 20))]
        let first = try store.upload(Live.request(Live.uploadID(7), source: 1, content), time: 100)
        // Same id, same content in another order and later: the first answer, nothing new journaled.
        let retry = try store.upload(Live.request(Live.uploadID(7), source: 1, content.reversed()), time: 900)
        #expect(retry == first)
        #expect(store.view().sequence == 1)
        #expect(throws: LiveStoreError.uploadIDReused) {
            _ = try store.upload(Live.request(Live.uploadID(7), source: 1, [(Live.digest(1), EntryMetadata(confidence: 11))]), time: 900)
        }
        #expect(throws: LiveStoreError.uploadIDReused) {
            _ = try store.upload(Live.request(Live.uploadID(7), source: 2, content), time: 900)
        }
        #expect(store.lookup(digest: Live.digest(1), now: 0)?.confidence == 10)
        // Upload numbers are not consumed by refusals.
        #expect(try store.upload(Live.request(Live.uploadID(8), source: 1, content), time: 901).uploadNumber == 2)
        // After reopening (replay) and after compaction (checkpoint), the same.
        store.close()
        let reopened = try Live.open(directory)
        defer { reopened.close() }
        #expect(try reopened.upload(Live.request(Live.uploadID(7), source: 1, content), time: 5) == first)
        try reopened.compact(now: 1000)
        #expect(try reopened.upload(Live.request(Live.uploadID(7), source: 1, content), time: 5) == first)
        #expect(throws: LiveStoreError.uploadIDReused) {
            _ = try reopened.upload(Live.request(Live.uploadID(7), source: 1, []), time: 5)
        }
    }

    @Test func aSourceWithdrawsOnlyItsOwnReports() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let store = try Live.open(directory)
        defer { store.close() }
        let low = EntryMetadata(category: .spam, confidence: 30, tlp: .clear)
        let high = EntryMetadata(category: .fraud, confidence: 90, tlp: .red)
        _ = try store.upload(Live.request(Live.uploadID(1), source: 1, [(Live.digest(1), low), (Live.digest(2), low)]), time: 1)
        _ = try store.upload(Live.request(Live.uploadID(2), source: 2, [(Live.digest(1), high)]), time: 2)
        #expect(store.lookup(digest: Live.digest(1), now: 3)?.confidence == 90)
        #expect(store.reports(of: Live.digest(1)).map(\.source) == [1, 2])
        // Source 3 reported nothing: nothing changes.
        #expect(try store.withdraw(values: [Live.digest(1), Live.digest(2)], source: 3) == 0)
        #expect(store.lookup(digest: Live.digest(2), now: 3) != nil)
        // Source 2 withdraws: the entry stays, with source 1's metadata.
        #expect(try store.withdraw(values: [Live.digest(1)], source: 2) == 1)
        var expected = low
        expected.sourceID = 1
        #expect(store.lookup(digest: Live.digest(1), now: 3) == expected)
        // Source 1 withdraws too: gone.
        #expect(try store.withdraw(values: [Live.digest(1)], source: 1) == 1)
        #expect(store.lookup(digest: Live.digest(1), now: 3) == nil)
        #expect(throws: LiveStoreError.invalidSource) { _ = try store.withdraw(values: [], source: 0) }
    }

    @Test func withdrawingAnUploadDropsItsReportsWhereverTheyAre() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let store = try Live.open(directory)
        defer { store.close() }
        let m = EntryMetadata(confidence: 40)
        // Upload 1 of source 1: digests 0–9; compacted into the snapshot (single and multi entries).
        _ = try store.upload(Live.request(Live.uploadID(1), source: 1, (0..<10).map { (Live.digest($0), m) }), time: 1)
        _ = try store.upload(Live.request(Live.uploadID(2), source: 2, (5..<8).map { (Live.digest($0), m) }), time: 2)
        try store.compact(now: 3)
        // Upload 3 of source 1 re-reports digest 9 (replacing its upload-1 report) and adds 20–21, in the delta.
        _ = try store.upload(Live.request(Live.uploadID(3), source: 1, [(Live.digest(9), m), (Live.digest(20), m), (Live.digest(21), m)]), time: 4)
        // Another source cannot withdraw it, and learns nothing (same error as an unknown id).
        #expect(throws: LiveStoreError.unknownUpload) { _ = try store.withdraw(upload: Live.uploadID(1), source: 2) }
        #expect(throws: LiveStoreError.unknownUpload) { _ = try store.withdraw(upload: Live.uploadID(99), source: 1) }
        #expect(try store.withdraw(upload: Live.uploadID(1), source: 1) == 9)
        for index in 0..<5 { #expect(store.lookup(digest: Live.digest(index), now: 5) == nil) }
        for index in 5..<8 { #expect(store.lookup(digest: Live.digest(index), now: 5)?.sourceID == 2) }
        #expect(store.lookup(digest: Live.digest(8), now: 5) == nil)
        #expect(store.lookup(digest: Live.digest(9), now: 5)?.sourceID == 1)  // upload 3's report
        #expect(try store.withdraw(upload: Live.uploadID(3), source: 1) == 3)
        #expect(store.lookup(digest: Live.digest(9), now: 5) == nil)
        #expect(store.lookup(digest: Live.digest(20), now: 5) == nil)
        // The same after reopening and after compacting.
        store.close()
        let reopened = try Live.open(directory)
        defer { reopened.close() }
        for check in 0..<2 {
            for index in 0..<5 { #expect(reopened.lookup(digest: Live.digest(index), now: 5) == nil, "check \(check)") }
            for index in 5..<8 { #expect(reopened.lookup(digest: Live.digest(index), now: 5)?.sourceID == 2, "check \(check)") }
            #expect(reopened.lookup(digest: Live.digest(9), now: 5) == nil)
            try reopened.compact(now: 6)
        }
        #expect(try Snapshot.open(directory.file("indicators.snap"), key: testKey, verification: .full).entryCount == 3)
    }

    @Test func expiredEntriesNeverMatchAndAreDroppedByCompaction() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let store = try Live.open(directory)
        defer { store.close() }
        _ = try store.upload(Live.request(Live.uploadID(1), source: 1, [
            (Live.digest(1), EntryMetadata(confidence: 90, expires: 1_000)),
            (Live.digest(2), EntryMetadata(expires: 0)),
        ]), time: 10)
        #expect(store.lookup(digest: Live.digest(1), now: 999) != nil)
        #expect(store.lookup(digest: Live.digest(1), now: 1_000) == nil)
        // Another source's later report extends it, and keeps the first's confidence (merged).
        _ = try store.upload(Live.request(Live.uploadID(2), source: 2, [(Live.digest(1), EntryMetadata(confidence: 10, expires: 5_000))]), time: 20)
        #expect(store.lookup(digest: Live.digest(1), now: 2_000)?.confidence == 90)
        // A report arriving after the entry expired starts afresh.
        _ = try store.upload(Live.request(Live.uploadID(3), source: 3, [(Live.digest(1), EntryMetadata(confidence: 5, expires: 9_000))]), time: 6_000)
        #expect(store.lookup(digest: Live.digest(1), now: 6_000)?.confidence == 5)
        #expect(store.reports(of: Live.digest(1)).map(\.source) == [3])
        let summary = try store.compact(now: 9_500)
        #expect(summary.entries == 1 && summary.dropped == 1)
        #expect(store.lookup(digest: Live.digest(2), now: 9_500) != nil)
    }

    @Test func theDeltaOverridesTheSnapshotAndTombstonesHideIt() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        // A plain ingest snapshot (sequence 0, upload numbers 0, source 6).
        try writeSnapshot([(Live.digest(1), EntryMetadata(confidence: 50, sourceID: 6)), (Live.digest(2), EntryMetadata(sourceID: 6))],
                          to: directory.file("indicators.snap"))
        let store = try Live.open(directory)
        defer { store.close() }
        #expect(store.view().isDeltaEmpty)
        #expect(store.lookup(digest: Live.digest(1), now: 0)?.sourceID == 6)
        _ = try store.upload(Live.request(Live.uploadID(1), source: 2, [(Live.digest(1), EntryMetadata(confidence: 70))]), time: 1)
        #expect(store.lookup(digest: Live.digest(1), now: 0)?.confidence == 70)
        #expect(store.lookup(digest: Live.digest(1), now: 0)?.sourceID == 2)
        #expect(store.reports(of: Live.digest(1)).map(\.source) == [2, 6])
        #expect(try store.withdraw(values: [Live.digest(2)], source: 6) == 1)
        #expect(store.lookup(digest: Live.digest(2), now: 0) == nil)
        #expect(store.view().snapshot?.lookup(Live.digest(2), now: 0) != nil)  // the tombstone hides it
        let summary = try store.compact(now: 0)
        #expect(summary.entries == 1 && summary.reports == 2)
        #expect(store.view().isDeltaEmpty)
        #expect(store.lookup(digest: Live.digest(2), now: 0) == nil)
        #expect(store.reports(of: Live.digest(1)).map(\.source) == [2, 6])
        let snapshot = try Snapshot.open(directory.file("indicators.snap"), key: testKey, verification: .full)
        #expect(snapshot.storedEntry(Live.digest(1))?.multi == true)
        #expect(snapshot.header.sequence == 2)
    }

    @Test func aReaderKeepsItsStateAcrossCompaction() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let store = try Live.open(directory)
        defer { store.close() }
        _ = try store.upload(Live.request(Live.uploadID(1), source: 1, [(Live.digest(1), EntryMetadata())]), time: 1)
        try store.compact(now: 1)
        let held = store.view()
        _ = try store.withdraw(values: [Live.digest(1)], source: 1)
        try store.compact(now: 1)
        // The held state still answers from its (now replaced) snapshot's mapping.
        #expect(held.lookup(Live.digest(1), now: 1) != nil)
        #expect(store.lookup(digest: Live.digest(1), now: 1) == nil)
        #expect(Live.journalFiles(directory).count == 1)
        #expect(directory.contents().filter { $0.hasPrefix("reports.") || $0.hasPrefix("uploads.") }.count == 2)
    }

    /// A plain ingest rewriting the snapshot keeps its sequence and report fields, so the
    /// journal after it and the reports table still fit.
    @Test func anIngestMergeKeepsTheLiveFields() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let store = try Live.open(directory)
        _ = try store.upload(Live.request(Live.uploadID(1), source: 1, [(Live.digest(1), EntryMetadata()), (Live.digest(2), EntryMetadata())]), time: 1)
        _ = try store.upload(Live.request(Live.uploadID(2), source: 2, [(Live.digest(1), EntryMetadata(confidence: 80))]), time: 2)
        try store.compact(now: 3)
        _ = try store.withdraw(values: [Live.digest(2)], source: 1)
        store.close()

        let path = directory.file("indicators.snap")
        var writer = SnapshotWriter(key: testKey)
        try writer.add(contentsOf: try Snapshot.open(path, key: testKey))
        writer.add(Live.digest(3), EntryMetadata(sourceID: 9))
        _ = try writer.write(to: path)

        let reopened = try Live.open(directory)
        defer { reopened.close() }
        #expect(reopened.view().snapshot?.header.sequence == 2)
        #expect(reopened.lookup(digest: Live.digest(1), now: 3)?.confidence == 80)
        #expect(reopened.reports(of: Live.digest(1)).map(\.source) == [1, 2])
        #expect(reopened.lookup(digest: Live.digest(2), now: 3) == nil)  // the journal's withdrawal still applies
        #expect(reopened.lookup(digest: Live.digest(3), now: 3)?.sourceID == 9)
        #expect(try reopened.withdraw(upload: Live.uploadID(2), source: 2) == 1)
        #expect(reopened.lookup(digest: Live.digest(1), now: 3)?.confidence == 50)
    }
}
