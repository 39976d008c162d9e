import Foundation
import Synchronization
public import IndicatorKit

/// The live-update engine (docs/LIVE-UPDATES.md): a snapshot, a journal and an in-memory
/// delta, answering lookups that see every acknowledged upload and withdrawal.
///
/// - **Writes** (`upload`, `withdraw`) are queued to one writer thread, which takes whatever
///   is queued as a group, validates each request in order, appends their journal records
///   with one `write` and one `fdatasync`, applies them to a new delta layer, publishes the
///   new `LiveState`, and only then answers them (the audit log's group commit).
/// - **Reads** take the current `LiveState` (`view()`: a short lock around one reference
///   copy) and answer from it without locks; a reader holding a state keeps its snapshot
///   mapped until it lets go, so a compaction never pulls memory out from under it.
/// - **Compaction** (`compact`) runs on the caller's thread; it freezes the delta at the
///   journal's last sequence, writes a new snapshot, reports table and upload index beside
///   the old ones, and publishes the new snapshot through the writer thread.
///
/// One `LiveStore` per store directory: opened with a lock path (`open(data:keyID:)` passes
/// the data directory's `.lock`), it holds that lock until `close()`, and a second opener is
/// refused with `storeInUse`.
public final class LiveStore: @unchecked Sendable {
    /// The `store/` directory: snapshot, journal, reports table, upload index.
    public let storeDirectory: String
    /// The digest key id every snapshot must carry.
    public let keyID: UInt64
    let memory: Snapshot.Memory
    /// The published state: read by any thread, replaced by the writer thread.
    private let current: Mutex<LiveState>

    let condition = NSCondition()
    // Guarded by `condition`:
    private var queue: [Request] = []
    private var closing = false
    var failure: LiveStoreError?
    private var writerDone = false

    // Owned by the writer thread after init (compaction reaches them through `onWriter`):
    var journal: Journal
    var table: ReportsTable
    var uploads: UploadIndex
    var state: LiveState
    /// Groups written to the journal (each one `write` and one `fdatasync`).
    var groupsWritten = 0

    /// Serialises compactions.
    let compactionLock = NSLock()
    /// The background compactor's state (`startCompactor`).
    let compactor = Compactor()
    /// What recovery cut off the journal's last file (a write that was never acknowledged).
    public let recoveredTornTail: (path: String, offset: Int, bytes: Int)?
    /// The data directory's writer lock, held until `close()` (nil: the caller opened the
    /// store without one).
    let writerLock: WriterLock?

    /// The snapshot's path in `storeDirectory`.
    public var snapshotPath: String { Self.snapshotPath(storeDirectory) }
    static func snapshotPath(_ directory: String) -> String { directory + "/indicators.snap" }

    init(
        storeDirectory: String, keyID: UInt64, memory: Snapshot.Memory, journal: Journal, table: ReportsTable,
        uploads: UploadIndex, state: LiveState, recoveredTornTail: (path: String, offset: Int, bytes: Int)?,
        writerLock: WriterLock?
    ) {
        self.writerLock = writerLock
        self.storeDirectory = storeDirectory
        self.keyID = keyID
        self.memory = memory
        self.journal = journal
        self.table = table
        self.uploads = uploads
        self.state = state
        self.current = Mutex(state)
        self.recoveredTornTail = recoveredTornTail
        // The writer thread holds the store until `close()` ends its loop: a store released
        // without `close()` keeps its thread (and writer lock) rather than crashing it.
        let thread = Thread { [self] in self.writerLoop() }
        thread.name = "live-store-writer"
        thread.start()
    }

    // MARK: Reading

    /// The current state; hold it for a batch of lookups (and release it after).
    public func view() -> LiveState { current.withLock { $0 } }

    /// The metadata answered for `digest` at `now` (Unix seconds): snapshot and delta
    /// (a delta entry wins, a tombstone hides the snapshot's, expired entries never match).
    public func lookup(digest: IndicatorDigest, now: UInt32) -> EntryMetadata? {
        view().lookup(digest, now: now)
    }

    /// `lookup(digest:now:)` for each digest, answered from one state.
    public func lookup(digests: [IndicatorDigest], now: UInt32) -> [EntryMetadata?] {
        let state = view()
        var results = [EntryMetadata?](repeating: nil, count: digests.count)
        digests.withUnsafeBufferPointer { input in
            results.withUnsafeMutableBufferPointer { state.lookup(input, now: now, into: $0) }
        }
        return results
    }

    /// The receipt of upload `id` if it was accepted (tests, `ihub withdraw --upload`).
    public func receipt(of id: UploadID) -> UploadReceipt? {
        (try? onWriter { () throws(LiveStoreError) in self.uploads[id]?.receipt }) ?? nil
    }

    /// The live reports of `digest` (writer's view; for tests and tools, never for queries).
    package func reports(of digest: IndicatorDigest) -> [Report] {
        (try? onWriter { () throws(LiveStoreError) in self.state.reports(Slot.stored(digest), table: self.table) }) ?? []
    }

    /// Groups written to the journal so far (one `write` and one `fdatasync` each).
    package var journalGroups: Int {
        (try? onWriter { () throws(LiveStoreError) in self.groupsWritten }) ?? 0
    }

    // MARK: Writing

    /// An upload as a caller (the server, `ihub`) prepared it from a feed.
    public struct UploadRequest: Sendable {
        public var id: UploadID
        /// The uploading source (1…65535).
        public var source: UInt16
        /// The feed format code (recorded, not interpreted).
        public var format: UInt8
        public var reports: [DigestReport]
        /// Network prefix lengths among the reports (`NetworkPrefixes.insert(_:)` per form).
        public var prefixes: NetworkPrefixes
        /// Records the caller merged or refused while reading the feed (part of the answer).
        public var duplicates: UInt32
        public var refused: UInt32

        public init(
            id: UploadID, source: UInt16, format: UInt8 = 0, reports: [DigestReport],
            prefixes: NetworkPrefixes = NetworkPrefixes(), duplicates: UInt32 = 0, refused: UInt32 = 0
        ) {
            self.id = id
            self.source = source
            self.format = format
            self.reports = reports
            self.prefixes = prefixes
            self.duplicates = duplicates
            self.refused = refused
        }
    }

    /// Queues `request`, accepted at `time` (Unix seconds); `completion` runs on the writer
    /// thread once it is durable and visible (or refused). The same id with the same content
    /// is answered with the first receipt; with other content, `uploadIDReused`.
    public func submit(
        _ request: UploadRequest, time: UInt64, completion: @escaping @Sendable (Result<UploadReceipt, LiveStoreError>) -> Void
    ) {
        switch Self.prepare(request, time: time) {
        case .failure(let error): completion(.failure(error))
        case .success(let prepared): enqueue(.upload(prepared, completion))
        }
    }

    /// Uploads and waits until the upload is durable and visible.
    public func upload(_ request: UploadRequest, time: UInt64) throws(LiveStoreError) -> UploadReceipt {
        try wait { done in submit(request, time: time, completion: done) }
    }

    /// Withdraws `source`'s own reports of `digests`; returns how many it had. Other sources'
    /// reports of the same values stay.
    public func withdraw(values digests: [IndicatorDigest], source: UInt16) throws(LiveStoreError) -> Int {
        try wait { done in submitWithdraw(values: digests, source: source, completion: done) }
    }

    /// Withdraws every report of upload `id`, which `source` must have made (else
    /// `unknownUpload`); returns how many values it still had reports of.
    public func withdraw(upload id: UploadID, source: UInt16) throws(LiveStoreError) -> Int {
        try wait { done in submitWithdraw(upload: id, source: source, completion: done) }
    }

    /// Queues a withdrawal of `source`'s own reports of `digests`; `completion` runs on the
    /// writer thread once it is durable and visible, with how many reports the source had. It
    /// joins the group being formed, so concurrent withdrawals and uploads share one `fdatasync`.
    public func submitWithdraw(values digests: [IndicatorDigest], source: UInt16,
                               completion: @escaping @Sendable (Result<Int, LiveStoreError>) -> Void) {
        guard source > 0 else { return completion(.failure(.invalidSource)) }
        guard digests.count <= JournalFormat.maxDigests else {
            return completion(.failure(.uploadTooLarge(reports: digests.count, limit: JournalFormat.maxDigests)))
        }
        enqueue(.withdrawValues(source, Array(Set(digests.map(Slot.stored))).sorted(), completion))
    }

    /// Queues a withdrawal of every report of upload `id` (see `withdraw(upload:source:)`).
    public func submitWithdraw(upload id: UploadID, source: UInt16,
                               completion: @escaping @Sendable (Result<Int, LiveStoreError>) -> Void) {
        guard source > 0 else { return completion(.failure(.invalidSource)) }
        enqueue(.withdrawUpload(source, id, completion))
    }

    /// Writes what is queued, then stops the writer thread. Later requests fail with `.closed`;
    /// states already handed out stay valid.
    public func close() {
        stopCompactor()
        condition.lock()
        closing = true
        condition.broadcast()
        while !writerDone { condition.wait() }
        condition.unlock()
        writerLock?.release()
    }

    // MARK: Writer thread

    enum Request {
        case upload(PreparedUpload, @Sendable (Result<UploadReceipt, LiveStoreError>) -> Void)
        case withdrawValues(UInt16, [IndicatorDigest], @Sendable (Result<Int, LiveStoreError>) -> Void)
        case withdrawUpload(UInt16, UploadID, @Sendable (Result<Int, LiveStoreError>) -> Void)
        /// Runs on the writer thread between groups (compaction's freeze and publish).
        case control(() -> Void)

        func fail(_ error: LiveStoreError) {
            switch self {
            case .upload(_, let done): done(.failure(error))
            case .withdrawValues(_, _, let done): done(.failure(error))
            case .withdrawUpload(_, _, let done): done(.failure(error))
            case .control(let body): body()
            }
        }
    }

    /// An upload normalised on the caller's thread: stored digests, sorted, duplicates
    /// merged, metadata carrying the source; its content hash.
    struct PreparedUpload {
        var body: UploadBody
        var contentHash: [UInt8]
    }

    static func prepare(_ request: UploadRequest, time: UInt64) -> Result<PreparedUpload, LiveStoreError> {
        guard request.source > 0 else { return .failure(.invalidSource) }
        guard request.reports.count <= JournalFormat.maxReports else {
            return .failure(.uploadTooLarge(reports: request.reports.count, limit: JournalFormat.maxReports))
        }
        var reports = request.reports.map { report -> DigestReport in
            var metadata = report.metadata
            metadata.sourceID = request.source
            return DigestReport(Slot.stored(report.digest), metadata)
        }
        reports.sort { $0.digest < $1.digest }
        var unique: [DigestReport] = []
        unique.reserveCapacity(reports.count)
        for report in reports {
            if let last = unique.last, last.digest == report.digest {
                unique[unique.count - 1].metadata = last.metadata.merged(with: report.metadata)
            } else {
                unique.append(report)
            }
        }
        let merged = UInt32(clamping: reports.count - unique.count)
        let body = UploadBody(
            id: request.id, number: 0, source: request.source, format: request.format, time: time,
            duplicates: request.duplicates &+ merged, refused: request.refused, prefixes: request.prefixes, reports: unique)
        return .success(PreparedUpload(
            body: body, contentHash: UploadIndex.contentHash(source: request.source, format: request.format, reports: unique)))
    }

    private func enqueue(_ request: Request) {
        condition.lock()
        if let failure {
            condition.unlock()
            request.fail(failure)
            return
        }
        guard !closing else {
            condition.unlock()
            request.fail(.closed)
            return
        }
        queue.append(request)
        condition.signal()
        condition.unlock()
    }

    /// Runs `body` on the writer thread (between groups) and returns its result.
    func onWriter<R>(_ body: @escaping () throws(LiveStoreError) -> R) throws(LiveStoreError) -> R {
        let done = DispatchSemaphore(value: 0)
        nonisolated(unsafe) var result: Result<R, LiveStoreError> = .failure(.closed)
        condition.lock()
        let refused = closing
        if !refused {
            queue.append(.control {
                result = Result { () throws(LiveStoreError) in try body() }
                done.signal()
            })
            condition.signal()
        }
        condition.unlock()
        if refused { throw .closed }
        done.wait()
        return try result.get()
    }

    private func wait<R: Sendable>(
        _ submit: (@escaping @Sendable (Result<R, LiveStoreError>) -> Void) -> Void
    ) throws(LiveStoreError) -> R {
        let done = DispatchSemaphore(value: 0)
        let box = ResultBox<R>()
        submit { outcome in
            box.result = outcome
            done.signal()
        }
        done.wait()
        return try box.result!.get()
    }

    private final class ResultBox<R>: @unchecked Sendable {
        var result: Result<R, LiveStoreError>?
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
            let batch = queue
            queue.removeAll(keepingCapacity: true)
            let failed = failure
            condition.unlock()
            // Consecutive writes form one group; controls run between groups.
            var group: [Request] = []
            for request in batch {
                if case .control(let body) = request {
                    commitGroup(group, failed: failed)
                    group.removeAll()
                    body()
                } else {
                    group.append(request)
                }
            }
            commitGroup(group, failed: failed)
        }
    }

    /// Publishes `state` (writer thread only).
    func publish(_ state: LiveState) {
        self.state = state
        current.withLock { $0 = state }
    }

    /// Validates, journals (one write, one `fdatasync`), applies and publishes one group,
    /// then answers it.
    private func commitGroup(_ group: [Request], failed: LiveStoreError?) {
        guard !group.isEmpty else { return }
        if let failed {
            for request in group { request.fail(failed) }
            return
        }
        var builder = DeltaBuilder(base: state, table: table)
        var bytes: [UInt8] = []
        var sequence = journal.lastSequence
        var added: [UploadIndexRecord] = []
        var withdrawnUploads: [UploadID] = []
        var lastNumber = uploads.lastNumber
        var answers: [() -> Void] = []
        func known(_ id: UploadID) -> UploadIndexRecord? { added.last { $0.id == id } ?? uploads[id] }

        for request in group {
            switch request {
            case .upload(let prepared, let done):
                if let existing = known(prepared.body.id) {
                    let same = existing.source == prepared.body.source && UploadIndex.hash(
                        existing.contentHash, matches: prepared.contentHash, source: prepared.body.source,
                        format: prepared.body.format, reports: prepared.body.reports)
                    answers.append { done(same ? .success(existing.receipt) : .failure(.uploadIDReused)) }
                    continue
                }
                guard lastNumber < (1 << 24) - 1 else {
                    answers.append { done(.failure(.uploadNumbersExhausted)) }
                    continue
                }
                lastNumber += 1
                sequence += 1
                var body = prepared.body
                body.number = lastNumber
                JournalFormat.append(.upload(body), sequence: sequence, to: &bytes)
                builder.applyUpload(body)
                let record = Self.indexRecord(body, contentHash: prepared.contentHash)
                added.append(record)
                answers.append { done(.success(record.receipt)) }
            case .withdrawValues(let source, let digests, let done):
                sequence += 1
                JournalFormat.append(.withdrawValues(source: source, digests: digests), sequence: sequence, to: &bytes)
                let count = builder.applyWithdrawValues(source: source, digests: digests)
                answers.append { done(.success(count)) }
            case .withdrawUpload(let source, let id, let done):
                guard let record = known(id), record.source == source else {
                    answers.append { done(.failure(.unknownUpload)) }
                    continue
                }
                sequence += 1
                JournalFormat.append(.withdrawUpload(source: source, id: id), sequence: sequence, to: &bytes)
                let count = builder.applyWithdrawUpload(source: source, number: record.receipt.uploadNumber)
                withdrawnUploads.append(id)
                answers.append { done(.success(count)) }
            case .control:
                preconditionFailure("controls are not grouped")
            }
        }
        if !bytes.isEmpty {
            do throws(LiveStoreError) {
                try journal.append(bytes, lastSequence: sequence)
            } catch {
                let stopped = LiveStoreError.failed(error.description)
                condition.lock()
                failure = stopped
                condition.unlock()
                for request in group { request.fail(stopped) }
                return
            }
            groupsWritten += 1
            for record in added { uploads.insert(record) }
            for id in withdrawnUploads { uploads.markWithdrawn(id) }
            let live = builder.layer().map { DeltaLayer.pushing($0, onto: state.live) } ?? state.live
            publish(LiveState(snapshot: state.snapshot, live: live, frozen: state.frozen, sequence: sequence))
            compactor.note(liveEntries: state.liveCount)
        }
        for answer in answers { answer() }
    }

    /// The index record of an upload (at commit and at replay: the same receipt both times).
    static func indexRecord(_ body: UploadBody, contentHash: [UInt8]) -> UploadIndexRecord {
        UploadIndexRecord(
            id: body.id, source: body.source, format: body.format, withdrawn: false,
            receipt: UploadReceipt(
                uploadNumber: body.number, accepted: UInt32(body.reports.count), duplicates: body.duplicates,
                refused: body.refused, time: body.time),
            contentHash: contentHash)
    }
}
