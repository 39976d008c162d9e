import Foundation

/// Compaction triggers (docs/LIVE-UPDATES.md, "Compaction"): a background thread that
/// compacts when the delta after the last compaction passes a threshold — checked by the
/// writer after each durable group — or when asked (`requestCompaction()`, e.g. on `SIGUSR1`).
/// Never two compactions at once: one thread, and `compact` itself is serialised.
extension LiveStore {
    /// Starts the background compactor: it compacts (at `now()`) whenever the live delta —
    /// the layers written since the last compaction's freeze — holds more than
    /// `threshold` entries, and whenever `requestCompaction()` is called. `completion` (if
    /// given) runs on the compactor thread after each compaction, with its summary or error
    /// (for the log). A second call only changes the threshold, clock and completion.
    public func startCompactor(
        deltaEntries threshold: Int, now: @escaping @Sendable () -> UInt32,
        completion: (@Sendable (Result<CompactionSummary, LiveStoreError>) -> Void)? = nil
    ) {
        precondition(threshold > 0, "the threshold is a number of delta entries")
        let compactor = self.compactor
        compactor.condition.lock()
        compactor.threshold = threshold
        compactor.clock = now
        compactor.completion = completion
        let start = !compactor.started && !compactor.stopping
        compactor.started = true
        compactor.condition.unlock()
        guard start else { return }
        let thread = Thread { [self] in self.compactorLoop() }
        thread.name = "live-store-compactor"
        thread.start()
        // A delta recovered at open may already be over the threshold.
        compactor.note(liveEntries: view().liveCount)
    }

    /// Asks the background compactor to compact as soon as it is idle (several requests
    /// while one runs make one more). Call from a thread or a dispatch signal source, not from
    /// an asynchronous signal handler (it takes a lock). Without `startCompactor`, nothing
    /// happens until it is started.
    public func requestCompaction() {
        compactor.condition.lock()
        compactor.requested = true
        compactor.condition.signal()
        compactor.condition.unlock()
    }

    /// Compactions the background compactor has finished (successfully or not).
    package var backgroundCompactions: Int {
        compactor.condition.lock()
        defer { compactor.condition.unlock() }
        return compactor.finished
    }

    /// Stops the compactor thread, waiting for a running compaction (before the writer stops).
    func stopCompactor() {
        let compactor = self.compactor
        compactor.condition.lock()
        compactor.stopping = true
        compactor.condition.broadcast()
        while compactor.started && !compactor.exited { compactor.condition.wait() }
        compactor.condition.unlock()
    }

    private func compactorLoop() {
        let compactor = self.compactor
        while true {
            compactor.condition.lock()
            while !compactor.requested && !compactor.stopping { compactor.condition.wait() }
            if compactor.stopping {
                compactor.exited = true
                compactor.condition.broadcast()
                compactor.condition.unlock()
                return
            }
            compactor.requested = false
            let clock = compactor.clock
            let completion = compactor.completion
            compactor.condition.unlock()

            let result = Result { () throws(LiveStoreError) in try self.compact(now: clock?() ?? 0) }
            completion?(result)
            compactor.condition.lock()
            compactor.finished += 1
            compactor.condition.unlock()
            // Groups written meanwhile may already have passed the threshold again.
            compactor.note(liveEntries: view().liveCount)
        }
    }
}

/// The background compactor's state, guarded by `condition`.
final class Compactor: @unchecked Sendable {
    let condition = NSCondition()
    /// Live delta entries above which to compact; 0: not started.
    var threshold = 0
    var clock: (@Sendable () -> UInt32)?
    var completion: (@Sendable (Result<LiveStore.CompactionSummary, LiveStoreError>) -> Void)?
    var requested = false
    var started = false
    var stopping = false
    var exited = false
    var finished = 0

    /// The writer's check after each durable group: requests a compaction when the live
    /// delta has passed the threshold.
    func note(liveEntries: Int) {
        condition.lock()
        if threshold > 0 && liveEntries > threshold && !requested {
            requested = true
            condition.signal()
        }
        condition.unlock()
    }
}
