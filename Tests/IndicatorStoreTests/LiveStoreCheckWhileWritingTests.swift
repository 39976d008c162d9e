import Foundation
import IndicatorKit
import Testing
@testable import IndicatorStore

/// Checking a store while a writer changes it (`ihub verify` beside a hub): the writer-lock
/// probe (`/proc/locks`, never the lock itself) and the retry policy of `LiveStore.check(data:)`.
@Suite struct LiveStoreCheckWhileWritingTests {
    static func dataDirectory(_ temp: TemporaryDirectory) throws -> DataDirectory {
        try DataDirectory.create(at: temp.path + "/data").0
    }

    // MARK: The probe

    @Test func theProbeSeesAWriterWithoutTakingTheLockOrCreatingFiles() throws {
        let temp = TemporaryDirectory()
        defer { temp.remove() }
        let data = try Self.dataDirectory(temp)
        let fresh = try FileManager.default.contentsOfDirectory(atPath: data.path).sorted()
        #expect(data.writerLockState() == .free)
        #expect(try FileManager.default.contentsOfDirectory(atPath: data.path).sorted() == fresh, "no lock file made")

        let store = try LiveStore.open(data: data, keyID: testKey.id)
        let listing = try FileManager.default.contentsOfDirectory(atPath: data.path).sorted()
        let recorded = readFile(data.lockPath)
        #expect(data.writerLockState() == .held(pid: getpid()))
        #expect(data.writerLockState() == .held(pid: getpid()))
        #expect(try FileManager.default.contentsOfDirectory(atPath: data.path).sorted() == listing)
        #expect(readFile(data.lockPath) == recorded)
        // Still the writer's: a second opener is refused as before.
        #expect(throws: LiveStoreError.storeInUse(lockPath: data.lockPath, pid: getpid())) {
            _ = try LiveStore.open(data: data, keyID: testKey.id)
        }
        store.close()
        #expect(data.writerLockState() == .free)
        // The older short-write path holds the same lock.
        try data.withWriterLock { #expect(data.writerLockState() == .held(pid: getpid())) }
    }

    /// The kernel's flock entries on `path` at this moment, as their lock types ("READ" for a
    /// shared lock, "WRITE" for an exclusive one), read from /proc/locks.
    static func flockTypes(on path: String) -> [String] {
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: path),
            let inode = attributes[.systemFileNumber] as? UInt64,
            let table = try? String(contentsOfFile: "/proc/locks", encoding: .utf8)
        else { return [] }
        return table.split(separator: "\n").compactMap { line in
            let fields = line.split(separator: " ")
            // "N:" "FLOCK" "ADVISORY" "WRITE" pid "maj:min:inode" start end ("N: ->" lines wait)
            guard fields.count >= 6, fields[1] == "FLOCK", fields[5].split(separator: ":").last == Substring("\(inode)")
            else { return nil }
            return String(fields[3])
        }
    }

    /// Probing as fast as it can while a writer opens and closes the store 100 times: every
    /// open succeeds (a probe that tested the lock with `flock(LOCK_SH | LOCK_NB)` would make
    /// some of them fail with `storeInUse`), and the probe only ever answers held or free.
    ///
    /// One refusal is not the probe's doing: while another test of this process spawns a
    /// program, the child holds a copy of every descriptor between its fork and its exec
    /// (close-on-exec closes them only at the exec), the writer lock's among them, so the lock
    /// outlives the writer's `close()` for that moment and the next open is refused. The
    /// kernel lists such a lock as the writer's exclusive (WRITE) one; a probe's would be a
    /// shared (READ) one. Refusals met while only an exclusive lock was listed are counted
    /// apart, and allowed.
    @Test func probingNeverRefusesAWriter() throws {
        let temp = TemporaryDirectory()
        defer { temp.remove() }
        let data = try Self.dataDirectory(temp)
        let stop = ManagedAtomicFlag()
        let prober = Thread {
            while !stop.isSet {
                let state = data.writerLockState()
                if state != .free && state != .held(pid: getpid()) { stop.record(state) }
            }
            stop.finished()
        }
        prober.start()
        var refused: [String] = []
        var heldByACopy = 0
        for _ in 0..<100 {
            do {
                let store = try LiveStore.open(data: data, keyID: testKey.id)
                store.close()
            } catch {
                let locks = Self.flockTypes(on: data.lockPath)
                if !locks.isEmpty && locks.allSatisfy({ $0 == "WRITE" }) {
                    heldByACopy += 1
                } else {
                    refused.append("\(error) (locks listed: \(locks))")
                }
            }
        }
        stop.set()
        stop.waitFinished()
        #expect(refused.isEmpty, "\(refused)")
        #expect(heldByACopy < 20, "the exclusive lock outlived close() \(heldByACopy) times in 100")
        #expect(stop.odd == nil)
    }

    /// The probe reads `/proc/locks` with the shared file reader: a file whose size reads 0 is
    /// read to its end, an empty file is empty, and the limit still holds.
    @Test func fileReadsOfProcFilesGoToTheirEnd() throws {
        let temp = TemporaryDirectory()
        defer { temp.remove() }
        let status = try Syscalls.readFile("/proc/self/status", limit: 1 << 20)
        #expect(String(decoding: status, as: UTF8.self).hasPrefix("Name:"), "\(status.count) bytes")
        #expect(String(decoding: status, as: UTF8.self).contains("\nPid:\t\(getpid())\n"))
        let empty = temp.file("empty")
        writeFile(empty, [])
        #expect(try Syscalls.readFile(empty, limit: 16) == [])
        #expect(throws: StoreError.self) { try Syscalls.readFile("/proc/self/status", limit: 8) }
    }

    @Test func theProbeReadsTheKernelsLockTable() throws {
        let temp = TemporaryDirectory()
        defer { temp.remove() }
        let lock = temp.file("lock")
        let table = temp.file("locks")
        writeFile(lock, Array("4242\n".utf8))
        let id = try #require(try Syscalls.fileIdentity(lock))
        let file = String(format: "%02x:%02x:%llu", id.major, id.minor, id.inode)
        let otherDevice = String(format: "%02x:%02x:%llu", id.major &+ 1, id.minor, id.inode)
        func probe(_ lines: [String]) -> WriterLockState {
            writeFile(table, Array(lines.map { $0 + "\n" }.joined().utf8))
            return WriterLock.probe(lock, locksPath: table)
        }
        #expect(probe([]) == .free)
        #expect(probe(["1: FLOCK  ADVISORY  WRITE 77 \(file) 0 EOF"]) == .held(pid: 77))
        #expect(probe(["1: POSIX  ADVISORY  WRITE 1 fe:00:5 0 EOF", "2: FLOCK  ADVISORY  WRITE 0 \(file) 0 EOF"])
            == .held(pid: nil))
        // A waiter, another kind of lock and another file are not the writer.
        #expect(probe(["1: -> FLOCK  ADVISORY  WRITE 77 \(file) 0 EOF"]) == .free)
        #expect(probe(["1: POSIX  ADVISORY  WRITE 77 \(file) 0 EOF"]) == .free)
        #expect(probe(["1: FLOCK  ADVISORY  WRITE 77 \(file)1 0 EOF"]) == .free)
        // Another device with the same inode: the writer only when its pid is the recorded one.
        #expect(probe(["1: FLOCK  ADVISORY  WRITE 77 \(otherDevice) 0 EOF"]) == .free)
        #expect(probe(["1: FLOCK  ADVISORY  WRITE 4242 \(otherDevice) 0 EOF"]) == .held(pid: 4242))
        // Garbage never crashes it.
        #expect(probe(["", ":", "1: FLOCK", "1: FLOCK ADVISORY WRITE x y:z:w 0 EOF", "\u{FF}\u{00} FLOCK a b c"]) == .free)
        // No lock file: no writer ever ran. No table: unknown, naming it.
        #expect(WriterLock.probe(temp.file("absent"), locksPath: table) == .free)
        guard case .unknown(let reason) = WriterLock.probe(lock, locksPath: temp.file("no-table")) else {
            Issue.record("an unreadable lock table is unknown")
            return
        }
        #expect(reason.contains(temp.file("no-table")), "\(reason)")
    }

    // MARK: The retry policy

    static let failure = LiveStoreError.store(.system(operation: "open", path: "/d/store/journal.1", errno: ENOENT))
    static let quick = LiveStore.CheckRetry(attempts: 3, pauseMilliseconds: 0)

    /// Runs the policy with probes answering `writer` in turn (the last repeating) and reads
    /// failing where `fails` says (the last repeating); returns the outcome and the reads made.
    static func run(_ writer: [WriterLockState], fails: [Bool]) -> LiveStore.CheckOutcome {
        var probes = 0
        return LiveStore.checkRetrying(retry: quick, probe: {
            defer { probes += 1 }
            return writer[min(probes, writer.count - 1)]
        }) { (read: Int) throws(LiveStoreError) -> LiveStore.Check in
            if fails[min(read - 1, fails.count - 1)] { throw failure }
            return LiveStore.Check()
        }
    }

    @Test func withoutAWriterAFailureIsReportedAtOnce() {
        let outcome = Self.run([.free], fails: [true, false])
        #expect(outcome.reads == 1 && outcome.writer == .free && outcome.retriedFailures.isEmpty)
        #expect(throws: Self.failure) { try outcome.result.get() }
        #expect(Self.run([.free], fails: [false]).reads == 1)
    }

    @Test func whileAWriterHoldsTheLockAFailedReadIsRepeated() throws {
        let outcome = Self.run([.held(pid: 7)], fails: [true, false])
        #expect(outcome.reads == 2 && outcome.writer == .held(pid: 7))
        #expect(outcome.retriedFailures == [Self.failure])
        _ = try outcome.result.get()
        // An unknown writer is treated as a live one.
        #expect(Self.run([.unknown(reason: "x")], fails: [true, true, false]).reads == 3)
        // A writer that stopped during the failed read: read again, then report what is there.
        let stopped = Self.run([.held(pid: 7), .free], fails: [true, true])
        #expect(stopped.reads == 2 && stopped.writer == .free)
        #expect(throws: Self.failure) { try stopped.result.get() }
    }

    @Test func aFailureEveryReadMeetsIsReportedAfterTheLastRead() {
        let outcome = Self.run([.held(pid: 7)], fails: [true])
        #expect(outcome.reads == 3)
        #expect(outcome.retriedFailures == [Self.failure, Self.failure])
        #expect(throws: Self.failure) { try outcome.result.get() }
    }

    @Test func aReadDuringWhichAWriterStartedOrStoppedIsRepeated() throws {
        let started = Self.run([.free, .held(pid: 7)], fails: [false])
        #expect(started.reads == 2 && started.writer == .held(pid: 7) && started.retriedFailures.isEmpty)
        let stopped = Self.run([.held(pid: 7), .free], fails: [false])
        #expect(stopped.reads == 2 && stopped.writer == .free)
        _ = try stopped.result.get()
    }

    /// Real damage (a flipped byte inside the first journal record) while a writer holds the
    /// lock: every read meets it, and the last one reports it, naming the file and offset.
    @Test func damageWhileAWriterHoldsTheLockIsReportedAfterEveryRead() throws {
        let temp = TemporaryDirectory()
        defer { temp.remove() }
        let data = try Self.dataDirectory(temp)
        let store = try LiveStore.open(data: data, keyID: testKey.id)
        defer { store.close() }
        for index in 0..<3 {
            _ = try store.upload(Live.request(Live.uploadID(index), source: 1, [(Live.digest(index), EntryMetadata())]),
                                 time: 1)
        }
        let journal = try #require(try FileManager.default.contentsOfDirectory(atPath: data.storeDirectory)
            .filter { $0.hasPrefix("journal.") }.sorted().last.map { data.storeDirectory + "/" + $0 })
        var bytes = readFile(journal)
        bytes[30] ^= 0xFF
        writeFile(journal, bytes)
        let outcome = LiveStore.check(data: data, keyID: testKey.id, retry: Self.quick)
        #expect(outcome.reads == 3 && outcome.writer == .held(pid: getpid()))
        guard case .failure(.journalCorrupt(let path, let offset, _)) = outcome.result else {
            Issue.record("expected journal damage, got \(outcome.result)")
            return
        }
        #expect(path == journal && offset == 0)
    }

    // MARK: A compaction racing with the check

    /// 100 rounds: a writer thread appends an upload and compacts (renaming a new snapshot over
    /// the old, deleting the journal file and tables it made redundant) while this thread checks
    /// the store through the retry policy. A first read the compaction disturbs fails (a table
    /// or journal file gone, a sequence gap); the policy reads again, after the round's
    /// compaction has finished (the test waits for it before any second read, so the second
    /// read cannot meet the same compaction — no timing involved). Without the retry, some
    /// rounds fail.
    @Test func aCompactionRacingWithTheCheckDoesNotFailIt() throws {
        let temp = TemporaryDirectory()
        defer { temp.remove() }
        let data = try Self.dataDirectory(temp)
        let store = try LiveStore.open(data: data, keyID: testKey.id)
        let rounds = 100
        let go = DispatchSemaphore(value: 0)
        let done = DispatchSemaphore(value: 0)
        let writerErrors = ErrorLog()
        let writer = Thread {
            for round in 0..<rounds {
                go.wait()
                do {
                    _ = try store.upload(Live.request(Live.uploadID(round), source: 1, [(Live.digest(round), EntryMetadata())]),
                                         time: 1)
                    _ = try store.compact(now: 1)
                } catch {
                    writerErrors.append("\(error)")
                }
                done.signal()
            }
        }
        writer.start()
        var (checks, disturbed) = (0, 0)
        for round in 0..<rounds {
            go.signal()
            // Check again and again until the round's compaction has finished.
            var finished = false
            while !finished {
                let outcome = LiveStore.checkRetrying(retry: Self.quick, probe: { data.writerLockState() }) {
                    (read: Int) throws(LiveStoreError) -> LiveStore.Check in
                    if read > 1 && !finished {
                        done.wait()
                        finished = true
                    }
                    return try LiveStore.check(storeDirectory: data.storeDirectory, keyID: testKey.id)
                }
                if !finished && done.wait(timeout: .now()) == .success { finished = true }
                checks += 1
                if outcome.reads > 1 { disturbed += 1 }
                #expect(outcome.writer == .held(pid: getpid()))
                if case .failure(let error) = outcome.result {
                    Issue.record("round \(round): \(error) after \(outcome.reads) reads (\(outcome.retriedFailures))")
                }
            }
        }
        store.close()
        #expect(writerErrors.entries.isEmpty, "\(writerErrors.entries)")
        let final = try LiveStore.check(storeDirectory: data.storeDirectory, keyID: testKey.id)
        #expect(final.snapshotEntries == rounds && final.journalRecords == 0 && final.tornTail == nil)
    }
}

/// A stop flag for a helper thread, with the first odd probe answer it saw.
final class ManagedAtomicFlag: @unchecked Sendable {
    private let lock = NSCondition()
    private var stopped = false
    private var done = false
    private(set) var odd: WriterLockState?

    var isSet: Bool { lock.withLock { stopped } }
    func set() { lock.withLock { stopped = true } }
    func record(_ state: WriterLockState) { lock.withLock { if odd == nil { odd = state } } }
    func finished() {
        lock.withLock {
            done = true
            lock.broadcast()
        }
    }
    func waitFinished() {
        lock.withLock { while !done { lock.wait() } }
    }
}

/// Errors a helper thread met, read after it finished.
final class ErrorLog: @unchecked Sendable {
    private let lock = NSLock()
    private var list: [String] = []
    func append(_ entry: String) { lock.withLock { list.append(entry) } }
    var entries: [String] { lock.withLock { list } }
}
