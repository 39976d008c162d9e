/// Checking a store a writer may be changing (`ihub verify` while a hub serves, an ingest or a
/// compaction runs): `check(storeDirectory:keyID:verification:)` between two probes of the writer
/// lock, read again when a writer may have changed the store under the read.
///
/// A compaction commits by renaming a new snapshot over the old one and then deletes the tables
/// and journal files the new one made redundant; a read that began before the rename can find
/// its snapshot's tables or journal files gone, or a sequence gap — failures of the moment, not
/// damage. Damage stays: it fails every read and is reported. Without a writer the store cannot
/// change, so a failure is reported at once, as before.
extension LiveStore {
    /// How often a check is repeated while a writer holds the lock.
    public struct CheckRetry: Sendable {
        /// Reads in all (at least 1).
        public var attempts: Int
        /// Wait between reads, in milliseconds.
        public var pauseMilliseconds: Int

        public init(attempts: Int, pauseMilliseconds: Int) {
            precondition(attempts >= 1 && pauseMilliseconds >= 0, "at least one read, no negative pause")
            self.attempts = attempts
            self.pauseMilliseconds = pauseMilliseconds
        }

        /// Three reads, 100 ms apart: a compaction's rename-and-delete takes milliseconds, so a
        /// read that met one is followed by one that does not; bounded at 200 ms of waiting.
        public static let standard = CheckRetry(attempts: 3, pauseMilliseconds: 100)
    }

    /// What checking a store that a writer may change found.
    public struct CheckOutcome: Sendable {
        /// The last read: what the next open would find, or why it would fail.
        public var result: Result<Check, LiveStoreError>
        /// The writer lock as probed after the last read (and before it: a read during which a
        /// writer started or stopped is repeated while reads remain).
        public var writer: WriterLockState
        /// Reads made (1 unless a writer was, or may have been, active).
        public var reads: Int
        /// Why earlier reads failed (each time a writer held, or may have held, the lock).
        public var retriedFailures: [LiveStoreError]
    }

    /// Checks the store of `data` as `check(storeDirectory:keyID:verification:)` does, probing
    /// the writer lock (`DataDirectory.writerLockState()`, which never takes it) before and after
    /// each read. With no writer the single read is the result. While a writer holds the lock
    /// (or the probe cannot tell), a failed read — or one during which the writer started or
    /// stopped — is repeated after `retry.pauseMilliseconds`, up to `retry.attempts` reads; the
    /// last read is the result, so damage that every read meets is still reported.
    public static func check(data: DataDirectory, keyID: UInt64, verification: Snapshot.Verification = .full,
                             retry: CheckRetry = .standard) -> CheckOutcome
    {
        checkRetrying(retry: retry, probe: { data.writerLockState() }) { _ throws(LiveStoreError) in
            try check(storeDirectory: data.storeDirectory, keyID: keyID, verification: verification)
        }
    }

    /// The retry policy of `check(data:keyID:verification:retry:)` around any `read` (given the
    /// 1-based read number) and writer `probe`: tests put a compaction between reads.
    package static func checkRetrying(
        retry: CheckRetry, probe: () -> WriterLockState, read: (Int) throws(LiveStoreError) -> Check
    ) -> CheckOutcome {
        var failures: [LiveStoreError] = []
        var reads = 0
        while true {
            reads += 1
            let before = probe()
            let result = Result { () throws(LiveStoreError) in try read(reads) }
            let after = probe()
            let writerSeen = before != .free || after != .free
            let settled = before == after
            let again: Bool
            switch result {
            case .success: again = !settled
            case .failure(let error):
                again = writerSeen
                if again && reads < retry.attempts { failures.append(error) }
            }
            guard again && reads < retry.attempts else {
                return CheckOutcome(result: result, writer: after, reads: reads, retriedFailures: failures)
            }
            Syscalls.sleep(milliseconds: retry.pauseMilliseconds)
        }
    }
}
