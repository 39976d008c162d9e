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
}
