import Foundation

/// The append-only audit log of a data directory (docs/AUDIT-LOG.md), written by one thread
/// with group commit: records queued by any number of connections are sealed in queue order,
/// written with one `write` and made durable with one `fdatasync`; only then are their
/// completions called, so a server sends an answer only after its record is on disk.
public final class AuditLog: @unchecked Sendable {
    public typealias Completion = @Sendable (Result<UInt64, AuditError>) -> Void

    /// The directory holding the segments.
    public let directory: String

    private let condition = NSCondition()
    // Guarded by `condition`:
    private var queue: [(AuditRecord, Completion)] = []
    private var closing = false
    private var failure: AuditError?
    private var writerDone = false

    // Owned by the writer thread after init:
    private var head: AuditChain.Head
    private var segment: Int
    private var segmentSize: Int
    private var fd: Int32
    private var recoveredBytes: Int
    private let segmentLimit: Int

    /// Opens (creating if needed) the log in `directory`, continuing the chain from the last
    /// complete record. A torn last line (a crash mid-write) is cut off and reported in the
    /// next record's `recovered_bytes`.
    public convenience init(directory: String) throws(AuditError) {
        try self.init(directory: directory, segmentLimit: AuditFormat.segmentLimit)
    }

    /// `segmentLimit`: bytes after which a new segment starts (tests use small ones).
    package init(directory: String, segmentLimit: Int) throws(AuditError) {
        self.directory = directory
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
        self.recoveredBytes = recovered
        self.segment = segments.last ?? 1
        self.segmentSize = size
        let path = directory + "/" + AuditFormat.segmentName(segment)
        fd = try AuditFile.openAppend(path)
        if segments.isEmpty { try AuditFile.fsyncDirectory(directory) }
        let thread = Thread { [unowned self] in self.writerLoop() }
        thread.name = "audit-writer"
        thread.start()
    }

    deinit { AuditFile.close(fd) }

    /// The last `seq` written (0 for an empty log). For tests and statistics.
    public var lastSeq: UInt64 {
        condition.lock()
        defer { condition.unlock() }
        return head.seq
    }

    /// Queues `record`; `completion` is called on the writer thread once it is durable (with
    /// its `seq`) or failed.
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
        condition.signal()
        condition.unlock()
    }

    /// Appends `record` and waits until it is durable; returns its `seq`.
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
        while !writerDone { condition.wait() }
        condition.unlock()
    }

    private func writerLoop() {
        while true {
            condition.lock()
            while queue.isEmpty && !closing { condition.wait() }
            if queue.isEmpty {
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

    /// Seals, writes and syncs one group, then completes it.
    private func commit(_ group: [(AuditRecord, Completion)]) {
        var buffer: [UInt8] = []
        var seqs: [UInt64] = []
        var next = head
        for (record, _) in group {
            let sealed = AuditChain.seal(record, after: next, recoveredBytes: recoveredBytes)
            recoveredBytes = 0
            buffer.append(contentsOf: sealed.line)
            next = sealed.head
            seqs.append(next.seq)
        }
        let path = directory + "/" + AuditFormat.segmentName(segment)
        do throws(AuditError) {
            try AuditFile.write(fd, buffer, path: path)
            try AuditFile.fdatasync(fd, path: path)
            segmentSize += buffer.count
            if segmentSize >= segmentLimit { try rotate() }
        } catch {
            condition.lock()
            failure = .failed(error.description)
            condition.unlock()
            for (_, completion) in group { completion(.failure(.failed(error.description))) }
            return
        }
        condition.lock()
        head = next
        condition.unlock()
        for ((_, completion), seq) in zip(group, seqs) { completion(.success(seq)) }
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
