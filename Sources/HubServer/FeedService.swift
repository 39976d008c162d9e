import Dispatch
public import IndicatorKit
public import IndicatorStore

/// What every session shares for uploads and withdrawals (docs/PROTOCOL.md, "Uploads" and
/// "Withdrawals"): the live store, the uploads being received or applied (for
/// `upload_in_progress`), the source ids of partners, and one worker queue for the calls that
/// wait (the source registry's file lock, the live store's writer round trips). Event loops
/// never wait: they hand the work to the queue and get the answer back with `loop.execute`.
public final class FeedService: @unchecked Sendable {
    /// Why an upload or withdrawal failed after its records were accepted.
    public enum Failure: Error, Equatable, Sendable {
        /// The store refused it (`upload_id_reused`, `unknown_upload`, a failed journal write…).
        case store(LiveStoreError)
        /// The partner's name could not be registered as a source (the data directory's
        /// `sources` file).
        case source(String)
    }

    public let live: LiveStore
    public let key: DigestKey
    private let data: DataDirectory
    private let queue = DispatchQueue(label: "hub-feeds")
    private let lock = NSLockless()
    /// Upload id → the partner whose upload with that id is being received or applied.
    private var inProgress: [UploadID: String] = [:]
    /// Partner name → source id (read and written on `queue` only).
    private var sourceIDs: [String: UInt16] = [:]

    public init(live: LiveStore, key: DigestKey, data: DataDirectory) {
        self.live = live
        self.key = key
        self.data = data
    }

    // MARK: Uploads in progress

    /// The outcome of claiming an upload id for a new upload.
    enum Claim: Equatable {
        case claimed
        /// The same partner is sending or applying an upload with this id (another connection).
        case inProgress
        /// Another partner is: answered as `upload_id_reused`, with no hint of whose it is.
        case otherSource
    }

    /// Marks `id` as being received for `partner` until `release`.
    func claim(_ id: UploadID, partner: String) -> Claim {
        lock.withLock {
            if let owner = inProgress[id] { return owner == partner ? .inProgress : .otherSource }
            inProgress[id] = partner
            return .claimed
        }
    }

    func release(_ id: UploadID) {
        _ = lock.withLock { inProgress.removeValue(forKey: id) }
    }

    /// Uploads being received or applied (tests, metrics).
    public var uploadsInProgress: Int { lock.withLock { inProgress.count } }

    // MARK: Applying

    /// Applies `request` (its `source` is set here) from `partner` at `time` on the worker
    /// queue; `completion` runs on the live store's writer thread (or the queue) once the
    /// upload is durable and visible, with whether the id had been applied before (a retry,
    /// answered with the first receipt). Releases the claim on `request.id` before answering.
    func apply(_ request: LiveStore.UploadRequest, partner: String, time: UInt64,
               completion: @escaping @Sendable (Result<(receipt: UploadReceipt, alreadyApplied: Bool), Failure>) -> Void) {
        nonisolated(unsafe) var request = request
        queue.async { [self] in
            let id = request.id
            switch sourceID(for: partner) {
            case .failure(let failure):
                release(id)
                completion(.failure(failure))
            case .success(let source):
                request.source = source
                // Claims make this the only upload with this id being applied, so an earlier
                // receipt means an earlier attempt was applied: the store answers it again (or
                // refuses other content).
                let before = live.receipt(of: id)
                live.submit(request, time: time) { [self] result in
                    release(id)
                    completion(result.map { ($0, before != nil) }.mapError { .store($0) })
                }
            }
        }
    }

    /// Withdraws `partner`'s own reports of `digests`: the worker queue resolves the source and
    /// queues the withdrawal in the live store's next group (it does not wait for it, so
    /// withdrawals from many sessions share one `fdatasync`); `completion` runs on the store's
    /// writer thread with how many reports the source had.
    func withdraw(values digests: [IndicatorDigest], partner: String,
                  completion: @escaping @Sendable (Result<Int, Failure>) -> Void) {
        queue.async { [self] in
            switch sourceID(for: partner) {
            case .failure(let failure): completion(.failure(failure))
            case .success(let source):
                live.submitWithdraw(values: digests, source: source) { completion($0.mapError { .store($0) }) }
            }
        }
    }

    /// Withdraws every live report of `partner`'s upload `id` (as `withdraw(values:)`).
    func withdraw(upload id: UploadID, partner: String, completion: @escaping @Sendable (Result<Int, Failure>) -> Void) {
        queue.async { [self] in
            switch sourceID(for: partner) {
            case .failure(let failure): completion(.failure(failure))
            case .success(let source):
                live.submitWithdraw(upload: id, source: source) { completion($0.mapError { .store($0) }) }
            }
        }
    }

    // MARK: Sources

    /// The source id of `partner`, registering the name in the data directory's `sources`
    /// file when it is new (worker queue only). The hub's live store holds the directory's
    /// writer lock for as long as the hub runs, so no other writer can race this one.
    private func sourceID(for partner: String) -> Result<UInt16, Failure> {
        if let id = sourceIDs[partner] { return .success(id) }
        do {
            let id = try data.sourceID(for: partner)
            sourceIDs[partner] = id
            return .success(id)
        } catch {
            return .failure(.source("\(data.sourcesPath): \(error)"))
        }
    }

    /// Registers `partners` now (at start and reload, off the event loops), so that a bad
    /// `sources` file shows at start rather than at the first upload.
    public func register(_ partners: [String]) -> [(partner: String, failure: Failure)] {
        queue.sync {
            partners.compactMap { partner in
                if case .failure(let failure) = sourceID(for: partner) { return (partner, failure) }
                return nil
            }
        }
    }

    /// Waits for the worker queue to finish what it was given, then closes the live store.
    func close() {
        queue.sync {}
        live.close()
    }
}
