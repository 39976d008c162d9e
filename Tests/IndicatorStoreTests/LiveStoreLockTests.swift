import Foundation
import Synchronization
import IndicatorKit
import Testing
@testable import IndicatorStore

/// The live store owns the data directory while open (the writer lock), and the background
/// compactor's triggers.
@Suite struct LiveStoreLockTests {
    static func dataDirectory(_ temp: TemporaryDirectory) throws -> DataDirectory {
        let (directory, _) = try DataDirectory.create(at: temp.path + "/data")
        return directory
    }

    @Test func aSecondOpenerIsRefusedWithoutWaitingAndNamesTheHolder() throws {
        let temp = TemporaryDirectory()
        defer { temp.remove() }
        let data = try Self.dataDirectory(temp)
        let store = try LiveStore.open(data: data, keyID: testKey.id)
        let started = Date()
        #expect(throws: LiveStoreError.storeInUse(lockPath: data.lockPath, pid: getpid())) {
            _ = try LiveStore.open(data: data, keyID: testKey.id)
        }
        // The older writer path (`withWriterLock`) is refused the same way.
        #expect(throws: LiveStoreError.storeInUse(lockPath: data.lockPath, pid: getpid())) {
            try data.withWriterLock { }
        }
        #expect(Date().timeIntervalSince(started) < 5, "never blocks")
        let message = LiveStoreError.storeInUse(lockPath: data.lockPath, pid: 42).description
        #expect(message.contains(data.lockPath) && message.contains("pid 42") && message.contains("in use"))
        // Closing releases it.
        store.close()
        let again = try LiveStore.open(data: data, keyID: testKey.id)
        again.close()
        try data.withWriterLock { }
    }

    @Test func openingWithoutALockPathTakesNoLock() throws {
        let temp = TemporaryDirectory()
        defer { temp.remove() }
        let data = try Self.dataDirectory(temp)
        let store = try LiveStore.open(storeDirectory: data.storeDirectory, keyID: testKey.id)
        defer { store.close() }
        try data.withWriterLock { }
    }

    static func waitFor(_ condition: () -> Bool) -> Bool {
        for _ in 0..<500 {
            if condition() { return true }
            usleep(20_000)
        }
        return false
    }

    @Test func theCompactorRunsWhenTheDeltaPassesItsThresholdOrWhenAsked() throws {
        let temp = TemporaryDirectory()
        defer { temp.remove() }
        let store = try Live.open(temp)
        defer { store.close() }
        let summaries = Mutex<[LiveStore.CompactionSummary]>([])
        store.startCompactor(deltaEntries: 50, now: { 10 }) { result in
            if case .success(let summary) = result { summaries.withLock { $0.append(summary) } }
        }
        // 40 entries: below the threshold, no compaction.
        _ = try store.upload(Live.request(Live.uploadID(1), source: 1, (0..<40).map { (Live.digest($0), EntryMetadata()) }), time: 1)
        usleep(200_000)
        #expect(store.backgroundCompactions == 0)
        #expect(store.view().liveCount == 40)
        // 20 more: 60 > 50, compacted in the background.
        _ = try store.upload(Live.request(Live.uploadID(2), source: 1, (40..<60).map { (Live.digest($0), EntryMetadata()) }), time: 1)
        #expect(Self.waitFor { store.backgroundCompactions == 1 })
        #expect(summaries.withLock { $0.map(\.entries) } == [60])
        #expect(store.view().isDeltaEmpty && store.view().snapshot?.entryCount == 60)
        // Asked for: compacts a small delta too.
        _ = try store.upload(Live.request(Live.uploadID(3), source: 1, [(Live.digest(100), EntryMetadata(expires: 5))]), time: 1)
        store.requestCompaction()
        #expect(Self.waitFor { store.backgroundCompactions == 2 })
        // The entry expired at 5 was dropped at the compactor's clock (10).
        #expect(summaries.withLock { $0.last.map { ($0.entries, $0.dropped) } } ?? (0, 0) == (60, 1))
    }

    @Test func closingStopsTheCompactorAndRequestsWithoutOneDoNothing() throws {
        let temp = TemporaryDirectory()
        defer { temp.remove() }
        let store = try Live.open(temp)
        store.requestCompaction()
        _ = try store.upload(Live.request(Live.uploadID(1), source: 1, [(Live.digest(1), EntryMetadata())]), time: 1)
        usleep(100_000)
        #expect(store.backgroundCompactions == 0 && store.view().liveCount == 1)
        store.startCompactor(deltaEntries: 1_000, now: { 1 })
        // The request made before the start is served once it runs.
        #expect(Self.waitFor { store.backgroundCompactions == 1 })
        store.close()
        #expect(throws: LiveStoreError.closed) { try store.compact(now: 1) }
    }
}
