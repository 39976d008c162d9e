public import IndicatorKit

/// Local bulk ingest (`ihub ingest`, docs/LIVE-UPDATES.md "Local ingest"): a compaction with
/// one more input. The snapshot, the delta replayed from the journal and the new uploads'
/// reports are merged straight into a new snapshot; the uploads are never journaled. They
/// take the next upload numbers and the next journal sequence numbers, and the new snapshot's
/// header says it includes everything up to the last of those (the mark compaction already
/// writes), so recovery never replays them and nothing else needs to know.
extension LiveStore {
    /// One upload of a local ingest, filled entry by entry as a feed is digested: 32 bytes per
    /// entry, no other copy until the merge.
    public struct IngestBatch: Sendable {
        public let id: UploadID
        /// The uploading source (1…65535).
        public let source: UInt16
        /// The feed format code (recorded, not interpreted).
        public let format: UInt8
        /// Network prefix lengths among the entries (`add(_:_:form:)` records them).
        public var prefixes = NetworkPrefixes()
        /// Records the caller merged or refused while reading the feed (part of the receipt).
        public var duplicates: UInt32 = 0
        public var refused: UInt32 = 0
        var records: [SlotRecord] = []

        public init(id: UploadID, source: UInt16, format: UInt8 = 0, reservingCapacity: Int = 0) {
            self.id = id
            self.source = source
            self.format = format
            records.reserveCapacity(reservingCapacity)
        }

        /// Entries added so far (a value added twice counts twice).
        public var count: Int { records.count }

        /// Makes room for `additional` more entries (a plain list's line count, say), so that
        /// the records are not copied as they grow.
        public mutating func reserveCapacity(additional: Int) {
            records.reserveCapacity(records.count + additional)
        }

        /// Adds one report; `form` records a network's prefix length.
        public mutating func add(_ digest: IndicatorDigest, _ metadata: EntryMetadata, form: CanonicalForm? = nil) {
            if let form { prefixes.insert(form) }
            var metadata = metadata
            metadata.sourceID = source
            let stored = Slot.stored(digest)
            let (word2, word3) = Slot.encode(metadata)
            records.append(SlotRecord(lo: stored.lo, hi: stored.hi, word2: word2, word3: word3))
        }
    }

    /// What `ingest` did.
    public struct IngestSummary: Sendable {
        /// One receipt per batch (a batch with an upload id the store knows answers that
        /// upload's receipt and adds nothing).
        public var receipts: [UploadReceipt]
        /// The snapshot written: its sequence, entries, multi-entry reports, expired entries dropped.
        public var compaction: CompactionSummary
        /// Reports of values the store already listed (a live entry in the snapshot or the
        /// delta) before this ingest: `ihub ingest` counts them as duplicates.
        public var existing: Int
    }

    /// Where a simulated crash stops `ingest` (tests of crash safety): before the snapshot's
    /// rename (its temporary file left behind), after it (the journal not yet moved on), or
    /// after the old journal files were deleted (the empty current one not yet renamed).
    package enum IngestCrashPoint: Sendable { case beforeSnapshotRename, afterSnapshotRename, afterJournalCleanup }

    /// Ingests `batches` as uploads accepted at `time` and writes a new snapshot at `now`
    /// (entries expired then are dropped): the store is left as `upload` of each batch followed
    /// by `compact(now:)` would leave it — same entries, reports, receipts and upload index,
    /// same snapshot sequence — with one sequential write of the snapshot instead of a journal
    /// record per upload. The batches' records are taken (the array is left with empty
    /// batches). Blocks the writer thread from start to end (a local ingest runs while no hub
    /// serves the store). Atomic: killed at any point, the store reopens as it was before or
    /// with all of the batches.
    public func ingest(
        _ batches: inout [IngestBatch], time: UInt64, now: UInt32, createdAt: UInt64? = nil
    ) throws(LiveStoreError) -> IngestSummary {
        try ingest(&batches, time: time, now: now, createdAt: createdAt, crashPoint: nil)
    }

    /// `ingest` of upload requests (each a batch).
    public func ingest(
        _ requests: [UploadRequest], time: UInt64, now: UInt32, createdAt: UInt64? = nil
    ) throws(LiveStoreError) -> IngestSummary {
        var batches = Self.batches(requests)
        return try ingest(&batches, time: time, now: now, createdAt: createdAt, crashPoint: nil)
    }

    static func batches(_ requests: [UploadRequest]) -> [IngestBatch] {
        requests.map { request in
            var batch = IngestBatch(
                id: request.id, source: request.source, format: request.format, reservingCapacity: request.reports.count)
            batch.prefixes = request.prefixes
            batch.duplicates = request.duplicates
            batch.refused = request.refused
            for report in request.reports { batch.add(report.digest, report.metadata) }
            return batch
        }
    }

    package func ingest(
        _ batches: inout [IngestBatch], time: UInt64, now: UInt32, createdAt: UInt64?, crashPoint: IngestCrashPoint?
    ) throws(LiveStoreError) -> IngestSummary {
        // Sort, merge duplicates and hash on the caller's thread (pure work on owned arrays).
        var prepared: [PreparedBatch] = []
        for index in batches.indices {
            guard batches[index].source > 0 else { throw .invalidSource }
            prepared.append(PreparedBatch(taking: &batches[index]))
        }
        compactionLock.lock()
        defer { compactionLock.unlock() }
        let handoff = Handoff(prepared)
        prepared = []
        return try onWriter { () throws(LiveStoreError) in
            try self.ingestOnWriter(handoff.take(), time: time, now: now, createdAt: createdAt, crashPoint: crashPoint)
        }
    }

    /// Hands the prepared batches to the writer thread as the only reference, so that it can
    /// rewrite their records in place.
    private final class Handoff: @unchecked Sendable {
        private var batches: [PreparedBatch]
        init(_ batches: [PreparedBatch]) { self.batches = batches }
        func take() -> [PreparedBatch] {
            var taken: [PreparedBatch] = []
            swap(&taken, &batches)
            return taken
        }
    }

    /// A batch sorted by stored digest, duplicates merged, with its content hash.
    struct PreparedBatch {
        var id: UploadID
        var source: UInt16
        var format: UInt8
        var prefixes: NetworkPrefixes
        var duplicates: UInt32
        var refused: UInt32
        var records: [SlotRecord]
        /// The content hash over the records in stored-digest order (`contentHash(order:)`).
        var contentHash: [UInt8]

        init(taking batch: inout IngestBatch) {
            id = batch.id
            source = batch.source
            format = batch.format
            prefixes = batch.prefixes
            refused = batch.refused
            records = []
            swap(&records, &batch.records)
            let merged = records.withUnsafeMutableBufferPointer { buffer in
                DigestSort.sort(buffer)
                // One source's reports of one value in one upload merge as `prepare` merges an
                // upload's (`EntryMetadata.merged(with:)`).
                return SnapshotWriter.mergeDuplicates(buffer, droppingExpiredAt: nil).duplicates
            }
            records.removeLast(merged)
            duplicates = batch.duplicates &+ UInt32(clamping: merged)
            contentHash = Self.contentHash(source: source, format: format, records: records, order: .stored)
        }

        /// Whether a known upload's content hash is this batch's: recorded by an ingest (stored
        /// order) or by a push (digest order, computed here only when the first test fails).
        func isContent(of known: UploadIndexRecord) -> Bool {
            known.source == source && (known.contentHash == contentHash
                || known.contentHash == Self.contentHash(source: source, format: format, records: records, order: .digest))
        }

        /// `UploadIndex.contentHash`'s bytes over the sorted, unique records, listed in
        /// `order`: `.digest` is `IndicatorDigest`'s (by `hi`, then `lo`: a pushed upload's,
        /// needs a sorted copy), `.stored` the records' own (by `lo`, then `hi`: what an ingest
        /// records, no second sort of the whole feed; docs/LIVE-UPDATES.md "Local ingest").
        static func contentHash(source: UInt16, format: UInt8, records: [SlotRecord], order: UploadIndex.HashOrder) -> [UInt8] {
            var ordered = records
            if order == .digest { ordered.withUnsafeMutableBufferPointer { DigestSort.sort($0, byHigh: true) } }
            let hash = BLAKE2b(outputBytes: 32)
            var head: [UInt8] = []
            func put(_ value: UInt64, _ width: Int) {
                for index in 0..<width { head.append(UInt8(truncatingIfNeeded: value >> (8 * index))) }
            }
            put(UInt64(source), 2)
            put(UInt64(format), 1)
            put(UInt64(ordered.count), 4)
            hash.update(head)
            let chunkRecords = 4096
            let chunk = UnsafeMutableRawBufferPointer.allocate(byteCount: chunkRecords * 32, alignment: 8)
            defer { chunk.deallocate() }
            var start = 0
            while start < ordered.count {
                let count = min(chunkRecords, ordered.count - start)
                for index in 0..<count {
                    let record = ordered[start + index]
                    chunk.storeBytes(of: record.lo.littleEndian, toByteOffset: index * 32, as: UInt64.self)
                    chunk.storeBytes(of: record.hi.littleEndian, toByteOffset: index * 32 + 8, as: UInt64.self)
                    chunk.storeBytes(of: record.word2.littleEndian, toByteOffset: index * 32 + 16, as: UInt64.self)
                    chunk.storeBytes(of: record.word3.littleEndian, toByteOffset: index * 32 + 24, as: UInt64.self)
                }
                hash.update(UnsafeRawBufferPointer(rebasing: chunk[..<(count * 32)]))
                start += count
            }
            return hash.finish()
        }
    }

    private func ingestOnWriter(
        _ batches: consuming [PreparedBatch], time: UInt64, now: UInt32, createdAt: UInt64?, crashPoint: IngestCrashPoint?
    ) throws(LiveStoreError) -> IngestSummary {
        condition.lock()
        let failed = failure
        condition.unlock()
        if let failed { throw failed }

        // 1. Number the uploads (a known id with the same content answers its receipt).
        var receipts: [UploadReceipt] = []
        var added: [UploadIndexRecord] = []
        var numbered: [(batch: Int, number: UInt32)] = []
        var lastNumber = uploads.lastNumber
        for (index, batch) in batches.enumerated() {
            if let known = added.last(where: { $0.id == batch.id }) ?? uploads[batch.id] {
                guard batch.isContent(of: known) else { throw .uploadIDReused }
                receipts.append(known.receipt)
                continue
            }
            guard lastNumber < (1 << 24) - 1 else { throw .uploadNumbersExhausted }
            lastNumber += 1
            let record = UploadIndexRecord(
                id: batch.id, source: batch.source, format: batch.format, withdrawn: false,
                receipt: UploadReceipt(
                    uploadNumber: lastNumber, accepted: UInt32(clamping: batch.records.count), duplicates: batch.duplicates,
                    refused: batch.refused, time: time),
                contentHash: batch.contentHash)
            added.append(record)
            receipts.append(record.receipt)
            numbered.append((index, lastNumber))
        }

        // 2. An empty current journal file after everything journaled so far; the uploads take
        //    the sequence numbers after it.
        let journaled = try journal.rotate()
        precondition(journaled == state.sequence, "the writer applies what it journals")
        let sequence = journaled + UInt64(numbered.count)

        // 3. Merge snapshot, delta and the new reports.
        var merge = LiveMerge(
            now: now, time: UInt32(clamping: time), table: table, changed: Self.mergedLayers(state.layers))
        var prefixes = state.prefixes
        for (batch, _) in numbered { prefixes.formUnion(batches[batch].prefixes) }
        var output: [SlotRecord]
        var reportUpload: UInt32? = nil
        if numbered.count == 1 && (state.snapshot?.entryCount ?? 0) == 0 && merge.changed.isEmpty {
            // Into an empty store (the first ingest): the upload's records are the snapshot's;
            // the writer adds the upload number as it writes them.
            output = merge.adopt(batches[numbered[0].batch].records)
            reportUpload = numbered[0].number
        } else if numbered.count == 1 {
            batches[numbered[0].batch].records.withUnsafeBufferPointer { fresh in
                merge.run(snapshot: state.snapshot, fresh: fresh, upload: numbered[0].number)
            }
            output = merge.takeOutput()
        } else {
            // Several uploads: one run per digest, in upload order (each record's word3 carries its number).
            var fresh: [SlotRecord] = []
            for (batch, number) in numbered {
                for record in batches[batch].records {
                    fresh.append(SlotRecord(
                        lo: record.lo, hi: record.hi, word2: record.word2,
                        word3: Slot.withReport(record.word3, upload: number, multi: false)))
                }
            }
            fresh.sort { ($0.lo, $0.hi, Slot.uploadNumber($0.word3)) < ($1.lo, $1.hi, Slot.uploadNumber($1.word3)) }
            fresh.withUnsafeBufferPointer { merge.run(snapshot: state.snapshot, fresh: $0, upload: nil) }
            output = merge.takeOutput()
        }

        // 4. Reports table, upload index, snapshot: its rename is the commit point.
        var writer = SnapshotWriter(keyID: keyID, sortedUnique: output)
        output = []
        writer.sequence = sequence
        writer.prefixes = prefixes
        writer.reportUpload = reportUpload
        if crashPoint == .beforeSnapshotRename { writer.crashPoint = .beforeRename }
        var index = uploads
        for record in added { index.insert(record) }
        let (written, snapshot, newTable, _) = try install(
            writer, reports: merge.reports, uploads: { [index] in index }, createdAt: createdAt)
        uploads = index
        table = newTable
        publish(LiveState(snapshot: snapshot, live: [], frozen: [], sequence: sequence))

        // 5. Move the journal past the uploads' sequence numbers, delete what was replaced.
        do throws(LiveStoreError) {
            if crashPoint == .afterSnapshotRename { throw .failed("simulated crash after the snapshot's rename") }
            if sequence > journaled {
                try journal.skip(to: sequence, stopAfterDeleting: crashPoint == .afterJournalCleanup)
            } else {
                try journal.deleteFilesBeforeCurrent()
            }
        } catch {
            // The snapshot is in place; the journal's state is unknown until recovery.
            let stopped = LiveStoreError.failed(error.description)
            condition.lock()
            failure = stopped
            condition.unlock()
            throw stopped
        }
        let names = try Journal.storeCall { () throws(StoreError) in try Syscalls.listDirectory(self.storeDirectory) }
        Self.removeTables(in: storeDirectory, except: sequence, names: names)
        return IngestSummary(
            receipts: receipts,
            compaction: CompactionSummary(
                sequence: sequence, entries: written.entries, reports: newTable.reportCount, dropped: merge.dropped),
            existing: merge.existing)
    }
}
