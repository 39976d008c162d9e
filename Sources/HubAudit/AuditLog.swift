import Foundation

/// The append-only audit log of a data directory (docs/AUDIT-LOG.md), written with group
/// commit: records queued by any number of connections (`append`) are sealed in queue order
/// by a writer thread and written with one `write`; an event loop may instead seal and write
/// its own records on its own thread (`write(_:)`, interval mode). Both hold one chain lock
/// from sealing to the end of the `write`, so the file's order is the chain's order. When a
/// record counts as appended depends on `SyncMode`: after the `write` (`interval`: the bytes
/// survive a crash of the process, and `fdatasync` follows within the interval) or after the
/// `fdatasync` (`group`). A failed write or sync fails every later append, so a server never
/// answers unaudited.
public final class AuditLog: @unchecked Sendable {
    public typealias Completion = @Sendable (Result<UInt64, AuditError>) -> Void

    /// When a record counts as appended (docs/AUDIT-LOG.md, "Writing").
    public enum SyncMode: Equatable, Sendable, CustomStringConvertible {
        /// Completed once written (`write(2)` returned); `fdatasync` at most every
        /// `milliseconds` while there are unsynced bytes, and always before rotation and close.
        case interval(milliseconds: Int)
        /// Completed only after the group's `fdatasync`.
        case group

        /// The default: written before answered, on stable storage within 10 ms.
        public static let standard = SyncMode.interval(milliseconds: 10)

        /// Parses `interval`, `interval:MS` (1–60000) or `group` (`ihub serve --audit-sync`).
        public init?(_ text: String) {
            if text == "group" {
                self = .group
            } else if text == "interval" {
                self = .standard
            } else if text.hasPrefix("interval:"), let ms = Int(text.dropFirst("interval:".count)), (1...60_000).contains(ms) {
                self = .interval(milliseconds: ms)
            } else {
                return nil
            }
        }

        public var description: String {
            switch self {
            case .interval(let ms): "interval:\(ms)"
            case .group: "group"
            }
        }
    }

    /// What the writer thread has done so far (tests and metrics).
    public struct Counters: Equatable, Sendable {
        /// `write(2)` calls (one per group).
        public var writes = 0
        /// `fdatasync(2)` calls.
        public var syncs = 0
        /// Records written but not yet synced.
        public var unsyncedRecords = 0
    }

    public let syncMode: SyncMode

    /// The directory holding the segments.
    public let directory: String

    private let condition = NSCondition()
    // Guarded by `condition`:
    private var queue: [(AuditRecord, Completion)] = []
    private var closing = false
    private var failure: AuditError?
    private var writerDone = false
    /// True when no syncer thread runs (group mode) or it has ended.
    private var syncerDone = true
    private var tally = Counters()

    /// Held from sealing a group to the end of its `write` (and around rotation), by the
    /// writer thread or by a caller of `write(_:)`: it owns the chain state below.
    private let chainLock = NSLock()
    // Guarded by `chainLock` (and `head` also by `condition`, for readers):
    private var head: AuditChain.Head
    private var segment: Int
    private var segmentSize: Int
    private var fd: Int32
    private var recoveredBytes: Int
    /// The hash of the last sealed record, as hex (the writer's working copy of `head.hash`).
    private var prevHex: [UInt8]
    /// The group being written (reused).
    private var buffer: [UInt8] = []
    /// Held around `fdatasync` and rotation, so the syncer never syncs a closed descriptor.
    private let syncLock = NSLock()
    // Guarded by `condition` too: groups written, groups covered by an `fdatasync`, when the
    // last one ended (monotonic seconds).
    private var written = 0
    private var synced = 0
    private var lastSync = 0.0
    private let segmentLimit: Int

    /// Opens (creating if needed) the log in `directory`, continuing the chain from the last
    /// complete record. A torn last line (a crash mid-write) is cut off and reported in the
    /// next record's `recovered_bytes`.
    public convenience init(directory: String, sync: SyncMode = .standard) throws(AuditError) {
        try self.init(directory: directory, segmentLimit: AuditFormat.segmentLimit, sync: sync)
    }

    /// `segmentLimit`: bytes after which a new segment starts (tests use small ones).
    package init(directory: String, segmentLimit: Int, sync: SyncMode = .standard) throws(AuditError) {
        self.directory = directory
        self.syncMode = sync
        self.segmentLimit = segmentLimit
        try AuditFile.makeDirectory(directory)
        let segments = try AuditFile.list(directory).compactMap(AuditFormat.segmentNumber).sorted()
        var head = AuditChain.Head.genesis
        var recovered = 0
        var size = 0
        // Find the newest segment with a record; cut a torn tail off the newest one.
        for (position, number) in segments.enumerated().reversed() {
            let path = directory + "/" + AuditFormat.segmentName(number)
            var bytes = try AuditFile.read(path)
            if position == segments.count - 1, let last = bytes.last, last != 0x0A {
                let keep = (bytes.lastIndex(of: 0x0A).map { $0 + 1 }) ?? 0
                recovered = bytes.count - keep
                try AuditFile.truncate(path, to: keep)
                bytes.removeLast(recovered)
            }
            if position == segments.count - 1 { size = bytes.count }
            if let found = try Self.lastHead(bytes, path: path) {
                head = found
                break
            }
        }
        self.head = head
        self.prevHex = Array(head.hash.utf8)
        self.recoveredBytes = recovered
        self.segment = segments.last ?? 1
        self.segmentSize = size
        let path = directory + "/" + AuditFormat.segmentName(segment)
        fd = try AuditFile.openAppend(path)
        if segments.isEmpty { try AuditFile.fsyncDirectory(directory) }
        // The threads hold the log until `close()` ends their loops: a log released without
        // `close()` keeps its threads (and file) rather than having them read a freed object.
        let thread = Thread { [self] in self.writerLoop() }
        thread.name = "audit-writer"
        thread.start()
        if case .interval(let ms) = sync {
            syncerDone = false
            let syncer = Thread { [self] in self.syncerLoop(interval: Double(ms) / 1000) }
            syncer.name = "audit-sync"
            syncer.start()
        }
    }

    deinit { AuditFile.close(fd) }

    /// The last `seq` written (0 for an empty log). For tests and statistics.
    public var lastSeq: UInt64 {
        condition.lock()
        defer { condition.unlock() }
        return head.seq
    }

    /// What the writer has done so far.
    public var counters: Counters {
        condition.lock()
        defer { condition.unlock() }
        return tally
    }

    /// Queues `record`; `completion` is called on the writer thread once it is appended as
    /// `syncMode` says (with its `seq`) or failed.
    public func append(_ record: AuditRecord, completion: @escaping Completion) {
        condition.lock()
        if let failure {
            condition.unlock()
            completion(.failure(failure))
            return
        }
        guard !closing else {
            condition.unlock()
            completion(.failure(.closed))
            return
        }
        queue.append((record, completion))
        // The writer waits only for an empty queue; the syncer does not wait for appends.
        if queue.count == 1 { condition.broadcast() }
        condition.unlock()
    }

    /// Whether `write(_:)` answers without waiting for the disk (interval mode): an event loop
    /// then writes its own records instead of handing them to the writer thread.
    public var writesInline: Bool { syncMode != .group }

    /// Seals `records` as the next records of the chain and writes them with one `write(2)`
    /// on the calling thread; returns the `seq` of the first. The records are appended when
    /// this returns as `syncMode` says: written (interval mode: `fdatasync` follows within the
    /// interval, from the syncer thread), or written and synced (`group`, which blocks the
    /// caller for the sync: event loops use `append` there). No hand-off to another thread,
    /// so an event loop can answer at once (docs/AUDIT-LOG.md, "Writing").
    public func write(_ records: [AuditRecord]) -> Result<UInt64, AuditError> {
        guard !records.isEmpty else { return .success(lastSeq + 1) }
        chainLock.lock()
        condition.lock()
        let refusal: AuditError? = failure ?? (closing ? .closed : nil)
        condition.unlock()
        if let refusal {
            chainLock.unlock()
            return .failure(refusal)
        }
        let outcome = writeGroup(records.count) { seq in
            records.withUnsafeBufferPointer { group in
                for record in group {
                    seq += 1
                    AuditChain.seal(record, seq: seq, prevHex: &prevHex, recoveredBytes: recoveredBytes, appendingTo: &buffer)
                    recoveredBytes = 0
                }
            }
        }
        chainLock.unlock()
        guard case .success(let firstSeq) = outcome else { return outcome }
        if syncMode == .group {
            syncLock.lock()
            let synced = sync()
            syncLock.unlock()
            guard synced else { return .failure(.failed("fdatasync failed")) }
        }
        return .success(firstSeq)
    }

    /// Seals a group (`seal` appends `count` records to `buffer`, advancing the `seq` it is
    /// given), writes it with one `write`, moves the head, and rotates the segment when it is
    /// full. Call with `chainLock` held. A failed write restores the chain and stops the log.
    private func writeGroup(_ count: Int, seal: (inout UInt64) -> Void) -> Result<UInt64, AuditError> {
        buffer.removeAll(keepingCapacity: buffer.capacity <= 16 << 20)
        let firstSeq = head.seq + 1
        var seq = head.seq
        let startHash = prevHex
        seal(&seq)
        let path = directory + "/" + AuditFormat.segmentName(segment)
        do throws(AuditError) {
            try AuditFile.write(fd, buffer, path: path)
        } catch {
            prevHex = startHash
            stop(error)
            let reason: AuditError = if case .failed = error { error } else { .failed(error.description) }
            return .failure(reason)
        }
        let newHead = AuditChain.Head(seq: seq, hash: String(decoding: prevHex, as: UTF8.self))
        condition.lock()
        // A sync that failed meanwhile (the syncer thread) stops answers from here on.
        if let failure {
            condition.unlock()
            return .failure(failure)
        }
        head = newHead
        tally.writes += 1
        tally.unsyncedRecords += count
        written += 1
        // Wake the syncer only when this write is the first unsynced one: while it waits for
        // its interval to pass it needs no wake-up per write.
        if written == synced + 1 { condition.broadcast() }
        condition.unlock()
        segmentSize += buffer.count
        if segmentSize >= segmentLimit {
            syncLock.lock()
            defer { syncLock.unlock() }
            do throws(AuditError) {
                if !unsyncedWrites() || sync() { try rotate() }
            } catch {
                stop(error)
            }
        }
        return .success(firstSeq)
    }

    /// Appends `record` and waits for its completion; returns its `seq`.
    public func appendAndWait(_ record: AuditRecord) throws(AuditError) -> UInt64 {
        let done = DispatchSemaphore(value: 0)
        nonisolated(unsafe) var result: Result<UInt64, AuditError> = .failure(.closed)
        append(record) { outcome in
            result = outcome
            done.signal()
        }
        done.wait()
        return try result.get()
    }

    /// Writes everything queued, then stops the writer. Later appends fail with `.closed`.
    public func close() {
        condition.lock()
        closing = true
        condition.broadcast()
        while !writerDone || !syncerDone { condition.wait() }
        condition.unlock()
    }

    private func writerLoop() {
        while true {
            condition.lock()
            while queue.isEmpty && !closing { condition.wait() }
            if queue.isEmpty {
                condition.unlock()
                // Everything written reaches the disk before close returns (`chainLock`: a
                // `write(_:)` that began before `closing` was set has finished).
                chainLock.lock()
                syncLock.lock()
                if unsyncedWrites() { _ = sync() }
                syncLock.unlock()
                chainLock.unlock()
                condition.lock()
                writerDone = true
                condition.broadcast()
                condition.unlock()
                return
            }
            let group = queue
            queue.removeAll(keepingCapacity: true)
            condition.unlock()
            commit(group)
        }
    }

    /// Seals and writes one group; completes it after the write (interval mode: the syncer
    /// thread calls `fdatasync` within the interval) or after its own `fdatasync` (group).
    private func commit(_ group: [(AuditRecord, Completion)]) {
        chainLock.lock()
        let outcome = writeGroup(group.count) { seq in
            for (record, _) in group {
                seq += 1
                AuditChain.seal(record, seq: seq, prevHex: &prevHex, recoveredBytes: recoveredBytes, appendingTo: &buffer)
                recoveredBytes = 0
            }
        }
        chainLock.unlock()
        let firstSeq: UInt64
        switch outcome {
        case .success(let seq): firstSeq = seq
        case .failure(let error):
            fail(group, error)
            return
        }
        if syncMode == .group {
            syncLock.lock()
            let synced = sync()
            syncLock.unlock()
            guard synced else {
                fail(group, .failed("fdatasync failed"))
                return
            }
        }
        // Interval mode: the answers may leave now, the bytes are in the kernel, in order.
        for (offset, (_, completion)) in group.enumerated() { completion(.success(firstSeq + UInt64(offset))) }
    }

    /// Whether a write has not been synced yet.
    private func unsyncedWrites() -> Bool {
        condition.lock()
        defer { condition.unlock() }
        return written > synced
    }

    /// `fdatasync` of the current segment, covering every write so far. Call with `syncLock`
    /// held (it keeps `fd` from being rotated away). Returns false when it failed: the log
    /// has then stopped.
    private func sync() -> Bool {
        condition.lock()
        let target = written
        condition.unlock()
        do throws(AuditError) {
            try AuditFile.fdatasync(fd, path: directory + "/" + AuditFormat.segmentName(segment))
        } catch {
            stop(error)
            return false
        }
        condition.lock()
        if target > synced {
            synced = target
            tally.syncs += 1
            tally.unsyncedRecords = 0  // approximately: records written during the sync count as synced
        }
        lastSync = Self.monotonic()
        condition.unlock()
        return true
    }

    /// Interval mode: `fdatasync` at most every interval while writes are unsynced, on its
    /// own thread so that writing (and answering) never waits for the disk.
    private func syncerLoop(interval: Double) {
        while true {
            condition.lock()
            while true {
                if writerDone || failure != nil {
                    syncerDone = true
                    condition.broadcast()
                    condition.unlock()
                    return
                }
                if written > synced {
                    let now = Self.monotonic()
                    let due = lastSync + interval
                    if now >= due { break }
                    _ = condition.wait(until: Date(timeIntervalSinceNow: due - now))
                } else {
                    condition.wait()
                }
            }
            condition.unlock()
            syncLock.lock()
            _ = sync()
            syncLock.unlock()
        }
    }

    /// Records a failure: every later append fails (no unaudited answers).
    private func stop(_ error: AuditError) {
        condition.lock()
        if failure == nil { failure = .failed(error.description) }
        condition.broadcast()
        condition.unlock()
    }

    private func fail(_ group: [(AuditRecord, Completion)], _ error: AuditError) {
        stop(error)
        let reason: AuditError = if case .failed = error { error } else { .failed(error.description) }
        for (_, completion) in group { completion(.failure(reason)) }
    }

    private static func monotonic() -> Double {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
    }

    /// Starts the next segment file.
    private func rotate() throws(AuditError) {
        AuditFile.close(fd)
        segment += 1
        segmentSize = 0
        fd = try AuditFile.openAppend(directory + "/" + AuditFormat.segmentName(segment))
        try AuditFile.fsyncDirectory(directory)
    }

    /// The head after the last line of `bytes` (nil when there is none).
    private static func lastHead(_ bytes: [UInt8], path: String) throws(AuditError) -> AuditChain.Head? {
        guard !bytes.isEmpty else { return nil }
        let end = bytes.count - 1  // the final LF
        let start = (bytes[..<end].lastIndex(of: 0x0A).map { $0 + 1 }) ?? 0
        let line = Array(bytes[start..<end])
        guard let seq = AuditChain.unsignedMember("seq", in: line),
              let hash = AuditChain.stringMember("hash", in: line), hash.utf8.count == AuditFormat.hashHexDigits
        else {
            throw .unreadableTail(path: path, reason: "its last line is not a sealed record")
        }
        return AuditChain.Head(seq: seq, hash: hash)
    }
}

/// Verifies a whole audit directory (docs/AUDIT-LOG.md, "Verifying").
public enum AuditVerifier {
    /// The head of the verified chain, or the first break (file and line).
    public static func verify(directory: String) throws -> AuditChain.Head {
        let segments = try AuditFile.list(directory).compactMap(AuditFormat.segmentNumber).sorted()
        var head = AuditChain.Head.genesis
        for number in segments {
            let path = directory + "/" + AuditFormat.segmentName(number)
            head = try AuditChain.verify(segment: try AuditFile.read(path), file: path, after: head)
        }
        return head
    }
}
