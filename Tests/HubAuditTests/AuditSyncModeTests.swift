import Foundation
import Testing
@testable import HubAudit
import IndicatorKit

/// `AuditLog.SyncMode` (docs/AUDIT-LOG.md, "Writing"): in interval mode a completion follows
/// the `write`, not the `fdatasync`; in group mode it follows the `fdatasync`.
@Suite struct AuditSyncModeTests {
    func temporaryDirectory() -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("ihub-audit-sync-\(UUID().uuidString)").path
    }

    @Test func intervalModeAnswersAfterTheWriteAndSyncsWithinTheInterval() throws {
        let directory = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        // A long interval: the first group is synced at once (no sync yet), later ones wait.
        let log = try AuditLog(directory: directory, segmentLimit: 64 << 20, sync: .interval(milliseconds: 60_000))
        #expect(log.syncMode == .interval(milliseconds: 60_000))
        _ = try log.appendAndWait(AuditChainTests.record(1))
        // Wait for the syncer's first (immediate) sync, then the next records stay unsynced.
        let deadline = Date().addingTimeInterval(10)
        while log.counters.syncs == 0 && Date() < deadline { usleep(1000) }
        #expect(log.counters.syncs == 1)
        for index in 2...5 {
            #expect(try log.appendAndWait(AuditChainTests.record(index)) == UInt64(index))
        }
        let before = log.counters
        #expect(before.writes >= 2)
        #expect(before.syncs == 1, "answers were released without waiting for fdatasync")
        #expect(before.unsyncedRecords == 4)
        // The records are in the file already (written), before any further sync.
        let text = try String(contentsOfFile: directory + "/000001.log", encoding: .utf8)
        #expect(text.split(separator: "\n").count == 5)
        log.close()
        let after = log.counters
        #expect(after.syncs == 2, "close syncs what is unsynced")
        #expect(after.unsyncedRecords == 0)
        #expect(try AuditVerifier.verify(directory: directory).seq == 5)
    }

    @Test func aShortIntervalSyncsWhileIdle() throws {
        let directory = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let log = try AuditLog(directory: directory, segmentLimit: 64 << 20, sync: .interval(milliseconds: 5))
        defer { log.close() }
        for index in 1...20 { _ = try log.appendAndWait(AuditChainTests.record(index)) }
        let deadline = Date().addingTimeInterval(10)
        while log.counters.unsyncedRecords > 0 && Date() < deadline { usleep(1000) }
        #expect(log.counters.unsyncedRecords == 0, "the syncer caught up within the interval")
        #expect(log.counters.syncs >= 1)
    }

    @Test func groupModeSyncsEveryGroupBeforeAnswering() throws {
        let directory = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let log = try AuditLog(directory: directory, segmentLimit: 64 << 20, sync: .group)
        for index in 1...5 {
            _ = try log.appendAndWait(AuditChainTests.record(index))
            let counters = log.counters
            #expect(counters.syncs == counters.writes)
            #expect(counters.unsyncedRecords == 0)
        }
        log.close()
        #expect(try AuditVerifier.verify(directory: directory).seq == 5)
    }

    @Test func intervalModeRotatesAndTheChainCrossesSegments() throws {
        let directory = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let log = try AuditLog(directory: directory, segmentLimit: 4 << 10, sync: .interval(milliseconds: 2))
        DispatchQueue.concurrentPerform(iterations: 4) { thread in
            for index in 0..<100 { _ = try? log.appendAndWait(AuditChainTests.record(thread * 100 + index + 1)) }
        }
        log.close()
        #expect(try AuditVerifier.verify(directory: directory).seq == 400)
        let segments = try FileManager.default.contentsOfDirectory(atPath: directory).filter { $0.hasSuffix(".log") }
        #expect(segments.count > 3)
    }

    @Test func settingsParse() {
        #expect(AuditLog.SyncMode("group") == .group)
        #expect(AuditLog.SyncMode("interval") == .interval(milliseconds: 10))
        #expect(AuditLog.SyncMode("interval:250") == .interval(milliseconds: 250))
        #expect(AuditLog.SyncMode("interval:0") == nil)
        #expect(AuditLog.SyncMode("interval:x") == nil)
        #expect(AuditLog.SyncMode("always") == nil)
        #expect(AuditLog.SyncMode.standard.description == "interval:10")
    }
}
