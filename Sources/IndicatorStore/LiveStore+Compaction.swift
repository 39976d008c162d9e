import IndicatorKit

/// Compaction (docs/LIVE-UPDATES.md, "Compaction"): snapshot + reports table + the delta
/// frozen at sequence *S′* → a new snapshot (header sequence *S′*), reports table and upload
/// index, then the journal files ≤ *S′* are deleted.
extension LiveStore {
    /// What a compaction wrote.
    public struct CompactionSummary: Equatable, Sendable {
        /// The journal sequence the new snapshot includes.
        public var sequence: UInt64
        /// Entries in the new snapshot.
        public var entries: Int
        /// Reports in the new reports table (those of multi-report entries).
        public var reports: Int
        /// Entries left out because they had expired at `now` (withdrawn ones are not counted).
        public var dropped: Int
    }

    /// Compacts at `now` (Unix seconds: entries expired then are dropped). Runs on the
    /// caller's thread; uploads and queries continue meanwhile (the writer only pauses to
    /// freeze and to publish, O(layers) each). One compaction at a time.
    @discardableResult
    public func compact(now: UInt32, createdAt: UInt64? = nil) throws(LiveStoreError) -> CompactionSummary {
        compactionLock.lock()
        defer { compactionLock.unlock() }

        // 1. New journal file; the delta so far becomes the frozen part.
        let frozen = try onWriter { () throws(LiveStoreError) in
            let sequence = try self.journal.rotate()
            precondition(sequence == self.state.sequence, "the writer applies what it journals")
            self.publish(LiveState(
                snapshot: self.state.snapshot, live: [], frozen: self.state.live + self.state.frozen, sequence: sequence))
            return (state: self.state, table: self.table, uploads: self.uploads)
        }

        // 2. Merge and write, off the writer thread.
        let written: (CompactionSummary, Snapshot, ReportsTable)
        do throws(LiveStoreError) {
            written = try merge(frozen.state, table: frozen.table, uploads: frozen.uploads, now: now, createdAt: createdAt)
        } catch {
            // Give the frozen layers back; the journal still holds everything.
            _ = try? onWriter { () throws(LiveStoreError) in
                self.publish(LiveState(
                    snapshot: self.state.snapshot, live: self.state.live + self.state.frozen, frozen: [],
                    sequence: self.state.sequence))
            }
            throw error
        }

        // 3. Publish the new snapshot with the delta after S′; 4. delete what it replaced.
        let (summary, snapshot, table) = written
        try onWriter { () throws(LiveStoreError) in
            self.table = table
            self.publish(LiveState(snapshot: snapshot, live: self.state.live, frozen: [], sequence: self.state.sequence))
            try self.journal.deleteFilesBeforeCurrent()
            let names = try Journal.storeCall { () throws(StoreError) in try Syscalls.listDirectory(self.storeDirectory) }
            Self.removeTables(in: self.storeDirectory, except: summary.sequence, names: names)
        }
        return summary
    }

    /// Merges the snapshot with the frozen layers (`LiveMerge`, dropping entries expired at
    /// `now`), then writes the reports table and upload index for `state.sequence` and the
    /// snapshot (its rename is the commit point), and maps it.
    func merge(
        _ state: LiveState, table: ReportsTable, uploads: UploadIndex, now: UInt32, createdAt: UInt64?
    ) throws(LiveStoreError) -> (CompactionSummary, Snapshot, ReportsTable) {
        var merge = LiveMerge(now: now, time: now, table: table, changed: Self.mergedLayers(state.frozen))
        merge.run(snapshot: state.snapshot, fresh: UnsafeBufferPointer(start: nil, count: 0), upload: nil)
        var writer = SnapshotWriter(keyID: keyID, sortedUnique: merge.output)
        writer.sequence = state.sequence
        writer.prefixes = state.prefixes
        let (summary, snapshot, newTable, _) = try install(
            writer, reports: merge.reports, uploads: { uploads }, createdAt: createdAt)
        return (
            CompactionSummary(sequence: state.sequence, entries: summary.entries, reports: newTable.reportCount, dropped: merge.dropped),
            snapshot, newTable)
    }

    /// Writes the reports table for `writer.sequence`, then `writer`'s snapshot to its
    /// temporary file, then the upload index `uploads()` (an ingest's content hashes may still
    /// be computing until then), then renames the snapshot — the commit point — and maps it.
    func install(
        _ writer: consuming SnapshotWriter, reports: [IndicatorDigest: [Report]], uploads: () -> UploadIndex,
        createdAt: UInt64?
    ) throws(LiveStoreError) -> (SnapshotWriter.Summary, Snapshot, ReportsTable, UploadIndex) {
        let newTable = ReportsTable(reports)
        let sequence = writer.sequence
        try TableFile.write(
            storeDirectory + "/" + TableFile.Kind.reports.fileName(sequence: sequence), kind: .reports, keyID: keyID,
            sequence: sequence, records: newTable.encode())
        let uploadsPath = storeDirectory + "/" + TableFile.Kind.uploads.fileName(sequence: sequence)
        let keyID = keyID
        var tableError: LiveStoreError? = nil
        var index = UploadIndex()
        let path = snapshotPath
        let summary: SnapshotWriter.Summary
        do {
            summary = try writer.write(to: path, createdAt: createdAt, beforeRename: { () throws(StoreError) in
                index = uploads()
                do throws(LiveStoreError) {
                    try TableFile.write(uploadsPath, kind: .uploads, keyID: keyID, sequence: sequence, records: index.encode())
                } catch {
                    tableError = error
                    throw .system(operation: "write", path: uploadsPath, errno: 0)
                }
            })
        } catch {
            throw tableError ?? .store(error)
        }
        let memory = memory
        let snapshot = try Journal.storeCall { () throws(StoreError) in
            try Snapshot.open(path, keyID: keyID, verification: .header, memory: memory)
        }
        return (summary, snapshot, newTable, index)
    }

    /// The entries of `layers` (newest first), newer layers winning.
    static func mergedLayers(_ layers: [DeltaLayer]) -> [IndicatorDigest: DeltaEntry] {
        var changed: [IndicatorDigest: DeltaEntry] = [:]
        for layer in layers.reversed() {
            changed.merge(layer.entries) { _, newer in newer }
        }
        return changed
    }
}
