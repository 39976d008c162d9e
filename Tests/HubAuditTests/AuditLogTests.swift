import Foundation
import Testing
@testable import HubAudit
import IndicatorKit

@Suite struct AuditLogTests {
    func temporaryDirectory() -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("ihub-audit-\(UUID().uuidString)").path
        return path
    }

    @Test func concurrentAppendsGetConsecutiveSeqsAndTheChainVerifies() throws {
        let directory = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let log = try AuditLog(directory: directory, segmentLimit: 64 << 10)
        let threads = 8
        let perThread = 300
        let seqs = NSLock()
        nonisolated(unsafe) var seen: [UInt64] = []
        DispatchQueue.concurrentPerform(iterations: threads) { thread in
            for index in 0..<perThread {
                let seq = try? log.appendAndWait(AuditChainTests.record(thread * perThread + index + 1))
                seqs.lock()
                seen.append(seq ?? 0)
                seqs.unlock()
            }
        }
        log.close()
        #expect(seen.sorted() == Array(1...UInt64(threads * perThread)))
        let head = try AuditVerifier.verify(directory: directory)
        #expect(head.seq == UInt64(threads * perThread))
        // Small segments: the chain crossed several files.
        let segments = try FileManager.default.contentsOfDirectory(atPath: directory).filter { $0.hasSuffix(".log") }
        #expect(segments.count > 3)
        #expect(throws: AuditError.closed) { try log.appendAndWait(AuditChainTests.record(1)) }
    }

    /// A log released without `close()` (a caller that forgot, or failed before it could) at
    /// once, before its writer thread has run: the thread used to hold it `unowned` and crashed
    /// the process reading the freed log (seen as a rare crash of the whole test run when a
    /// test dropped a server it never started). The threads now keep the log; these twenty
    /// stay parked (group sync: no syncer thread, nothing wakes them).
    @Test func aLogReleasedWithoutCloseDoesNotCrashItsThread() throws {
        let directory = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        for _ in 0..<20 {
            _ = try AuditLog(directory: directory, sync: .group)
        }
        usleep(100_000)  // time for every writer thread to start
        #expect(try AuditVerifier.verify(directory: directory).seq == 0)
    }

    @Test func reopeningContinuesTheChainAndATornTailIsCutAndRecorded() throws {
        let directory = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        do {
            let log = try AuditLog(directory: directory)
            for index in 1...5 { _ = try log.appendAndWait(AuditChainTests.record(index)) }
            log.close()
        }
        // A crash mid-write leaves half a line.
        let segment = directory + "/000001.log"
        let handle = try #require(FileHandle(forWritingAtPath: segment))
        handle.seekToEndOfFile()
        handle.write(Data(#"{"seq":6,"time":"2026-"#.utf8))
        try handle.close()

        let log = try AuditLog(directory: directory)
        #expect(log.lastSeq == 5)
        #expect(try log.appendAndWait(AuditChainTests.record(6)) == 6)
        log.close()
        #expect(try AuditVerifier.verify(directory: directory).seq == 6)
        let text = try String(contentsOfFile: segment, encoding: .utf8)
        #expect(text.contains(#""seq":6,"#))
        #expect(text.contains(#""recovered_bytes":22,"#))
    }

    @Test func tamperingIsFoundWithFileAndLine() throws {
        let directory = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let log = try AuditLog(directory: directory)
        for index in 1...4 { _ = try log.appendAndWait(AuditChainTests.record(index)) }
        log.close()
        let segment = directory + "/000001.log"
        var text = try String(contentsOfFile: segment, encoding: .utf8)
        text = text.replacingOccurrences(of: "\"reference\":\"TX-3\"", with: "\"reference\":\"TX-9\"")
        try text.write(toFile: segment, atomically: false, encoding: .utf8)
        #expect(throws: AuditChain.Break(file: segment, line: 3, reason: "hash mismatch: the record was altered")) {
            try AuditVerifier.verify(directory: directory)
        }
    }

    @Test func anUnwritableDirectoryIsNamed() {
        #expect(throws: AuditError.system(operation: "mkdir", path: "/proc/ihub-audit", errno: ENOENT)) {
            try AuditLog(directory: "/proc/ihub-audit")
        }
    }
}
