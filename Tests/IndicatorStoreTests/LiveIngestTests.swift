import IndicatorKit
import Testing
@testable import IndicatorStore

/// `LiveStore.ingest` (the bulk path of `ihub ingest`) leaves the store exactly as uploading
/// each request and compacting would.
@Suite struct LiveIngestTests {
    /// Applies the same history to a store: uploads by two sources, a compaction, a withdrawal
    /// and more uploads left in the delta.
    static func prepare(_ store: LiveStore, seed: UInt64) throws {
        var random = SplitMix(seed: seed)
        var reports: [(IndicatorDigest, EntryMetadata)] = []
        for index in 0..<300 { reports.append((Live.digest(index), Live.metadata(&random, expires: index % 5 == 0 ? 50 : 0))) }
        _ = try store.upload(Live.request(Live.uploadID(1), source: 1, reports), time: 10)
        _ = try store.upload(Live.request(Live.uploadID(2), source: 2, Array(reports[100..<200])), time: 10)
        try store.compact(now: 20, createdAt: 1)
        _ = try store.withdraw(values: (0..<20).map { Live.digest($0) }, source: 1)
        _ = try store.upload(Live.request(Live.uploadID(3), source: 3, (250..<350).map { (Live.digest($0), Live.metadata(&random)) }), time: 30)
    }

    @Test(arguments: [UInt64(1), 2, 3])
    func ingestEqualsUploadsThenCompaction(seed: UInt64) throws {
        let bulk = TemporaryDirectory()
        let twin = TemporaryDirectory()
        defer { bulk.remove(); twin.remove() }
        let stores = try (Live.open(bulk), Live.open(twin))
        defer { stores.0.close(); stores.1.close() }
        try Self.prepare(stores.0, seed: seed)
        try Self.prepare(stores.1, seed: seed)

        var random = SplitMix(seed: seed &+ 100)
        // Two uploads of source 1: new values, values the snapshot has (its own and source 2's),
        // values only the delta has, withdrawn ones, one value in both uploads, expired ones.
        let first = (0..<400).filter { _ in random.next() % 2 == 0 }.map { (Live.digest($0), Live.metadata(&random, expires: $0 % 7 == 0 ? 40 : 0)) }
        let second = (380..<500).map { (Live.digest($0), Live.metadata(&random)) } + [(Live.digest(5), Live.metadata(&random))]
        let requests = [Live.request(Live.uploadID(10), source: 1, first), Live.request(Live.uploadID(11), source: 1, second)]
        let summary = try stores.0.ingest(requests, time: 60, now: 60, createdAt: 2)
        for request in requests { _ = try stores.1.upload(request, time: 60) }
        let compacted = try stores.1.compact(now: 60, createdAt: 2)

        #expect(summary.compaction == compacted)
        #expect(summary.receipts.map(\.uploadNumber) == [4, 5])
        #expect(stores.0.view().isDeltaEmpty)
        for index in 0..<520 {
            let digest = Live.digest(index)
            #expect(stores.0.lookup(digest: digest, now: 60) == stores.1.lookup(digest: digest, now: 60), "digest \(index)")
            #expect(Set(stores.0.reports(of: digest)) == Set(stores.1.reports(of: digest)), "reports of \(index)")
        }
        // The same id again is the same upload; other content under it is refused.
        #expect(try stores.0.ingest([requests[0]], time: 70, now: 70).receipts == [summary.receipts[0]])
        #expect(throws: LiveStoreError.uploadIDReused) { try stores.0.ingest([requests[0], Live.request(Live.uploadID(11), source: 1, first)], time: 70, now: 70) }
        // Reopening (recovery from the files alone) gives the same answers.
        stores.0.close()
        let reopened = try Live.open(bulk)
        defer { reopened.close() }
        #expect(reopened.view().snapshot?.entryCount == stores.1.view().snapshot?.entryCount)
        for index in 0..<520 {
            #expect(reopened.lookup(digest: Live.digest(index), now: 60) == stores.1.lookup(digest: Live.digest(index), now: 60))
        }
        #expect(reopened.receipt(of: Live.uploadID(11)) == summary.receipts[1])
    }

    /// An ingested upload is an upload: the same id pushed later is recognised (same content
    /// hash), its reports are withdrawn by upload id, and they expire like any other.
    @Test func ingestedUploadIsWithdrawnAndRetriedAsAnUpload() throws {
        let bulk = TemporaryDirectory()
        let twin = TemporaryDirectory()
        defer { bulk.remove(); twin.remove() }
        let stores = try (Live.open(bulk), Live.open(twin))
        defer { stores.0.close(); stores.1.close() }
        try Self.prepare(stores.0, seed: 7)
        try Self.prepare(stores.1, seed: 7)
        var random = SplitMix(seed: 70)
        let reports = (150..<320).map { (Live.digest($0), Live.metadata(&random, expires: $0 % 9 == 0 ? 65 : 0)) }
            + [(Live.digest(151), Live.metadata(&random))]
        let request = Live.request(Live.uploadID(20), source: 2, reports)
        let summary = try stores.0.ingest([request], time: 60, now: 60)
        let receipt = try stores.1.upload(request, time: 60)
        try stores.1.compact(now: 60)
        #expect(summary.receipts == [receipt])
        #expect(receipt.duplicates == 1 && receipt.accepted == 170)
        // A retry through the upload path answers the ingest's receipt; other content is refused.
        #expect(try stores.0.upload(request, time: 61) == receipt)
        #expect(throws: LiveStoreError.uploadIDReused) {
            try stores.0.upload(Live.request(Live.uploadID(20), source: 2, Array(reports.dropLast(2))), time: 61)
        }
        #expect(try stores.0.withdraw(upload: Live.uploadID(20), source: 2) == stores.1.withdraw(upload: Live.uploadID(20), source: 2))
        #expect(throws: LiveStoreError.unknownUpload) { try stores.0.withdraw(upload: Live.uploadID(20), source: 1) }
        for now: UInt32 in [60, 64, 65, 70] {
            for index in 0..<360 {
                let digest = Live.digest(index)
                #expect(stores.0.lookup(digest: digest, now: now) == stores.1.lookup(digest: digest, now: now), "digest \(index) at \(now)")
                #expect(Set(stores.0.reports(of: digest)) == Set(stores.1.reports(of: digest)), "reports of \(index)")
            }
        }
    }

    /// An ingest into an empty store (no snapshot, no journal records): what `ihub ingest`
    /// does first; the journal continues after the upload's sequence number.
    @Test func ingestIntoAnEmptyStoreThenUploadAndReopen() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        var random = SplitMix(seed: 5)
        var batches = [LiveStore.IngestBatch(id: Live.uploadID(1), source: 4)]
        for index in 0..<1_000 { batches[0].add(Live.digest(index % 700), Live.metadata(&random)) }
        let store = try Live.open(directory)
        let summary = try store.ingest(&batches, time: 10, now: 10)
        #expect(batches[0].count == 0)
        #expect(summary.receipts.map(\.uploadNumber) == [1] && summary.receipts[0].accepted == 700)
        #expect(summary.receipts[0].duplicates == 300 && summary.existing == 0)
        #expect(summary.compaction == LiveStore.CompactionSummary(sequence: 1, entries: 700, reports: 0, dropped: 0))
        #expect(Live.journalFiles(directory) == ["journal.0000000000000002"])
        _ = try store.upload(Live.request(Live.uploadID(2), source: 5, [(Live.digest(3), Live.metadata(&random))]), time: 11)
        store.close()
        let reopened = try Live.open(directory)
        defer { reopened.close() }
        #expect(reopened.view().sequence == 2)
        #expect(reopened.reports(of: Live.digest(3)).map(\.upload).sorted() == [1, 2])
        #expect(reopened.lookup(digest: Live.digest(699), now: 12)?.sourceID == 4)
        #expect(reopened.lookup(digest: Live.digest(700), now: 12) == nil)
    }

    /// Killed at each step of its commit, an ingest is all there or not there at all after
    /// recovery, and the store goes on taking uploads and reopening.
    @Test(arguments: [LiveStore.IngestCrashPoint.beforeSnapshotRename, .afterSnapshotRename, .afterJournalCleanup])
    func ingestStoppedAtEachStepIsAllOrNothing(point: LiveStore.IngestCrashPoint) throws {
        let crashed = TemporaryDirectory()
        let twin = TemporaryDirectory()
        defer { crashed.remove(); twin.remove() }
        let stores = try (Live.open(crashed), Live.open(twin))
        defer { stores.1.close() }
        try Self.prepare(stores.0, seed: 11)
        try Self.prepare(stores.1, seed: 11)
        var random = SplitMix(seed: 110)
        let request = Live.request(Live.uploadID(30), source: 3, (200..<420).map { (Live.digest($0), Live.metadata(&random)) })
        var batches = LiveStore.batches([request])
        #expect(throws: LiveStoreError.self) {
            try stores.0.ingest(&batches, time: 60, now: 60, createdAt: nil, crashPoint: point)
        }
        stores.0.close()
        let names = crashed.contents()
        if point == .beforeSnapshotRename {
            #expect(names.contains { $0.contains(".tmp-") }, "the killed writer's temporary file: \(names)")
        } else {
            _ = try stores.1.upload(request, time: 60)
            try stores.1.compact(now: 60)
        }
        let reopened = try Live.open(crashed)
        defer { reopened.close() }
        #expect((reopened.receipt(of: Live.uploadID(30)) != nil) == (point != .beforeSnapshotRename))
        for index in 0..<450 {
            let digest = Live.digest(index)
            #expect(reopened.lookup(digest: digest, now: 60) == stores.1.lookup(digest: digest, now: 60), "digest \(index)")
            #expect(Set(reopened.reports(of: digest)) == Set(stores.1.reports(of: digest)), "reports of \(index)")
        }
        // Later writes get the next sequence numbers and survive another reopening.
        let next = Live.request(Live.uploadID(31), source: 1, [(Live.digest(7), Live.metadata(&random))])
        let receipt = try reopened.upload(next, time: 70)
        #expect(receipt == (try stores.1.upload(next, time: 70)))
        #expect(reopened.view().sequence == stores.1.view().sequence)
        reopened.close()
        let again = try Live.open(crashed)
        defer { again.close() }
        #expect(again.receipt(of: Live.uploadID(31)) == receipt)
        #expect(again.lookup(digest: Live.digest(7), now: 70) == stores.1.lookup(digest: Live.digest(7), now: 70))
    }
}
