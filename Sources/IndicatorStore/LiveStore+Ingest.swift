import IndicatorKit

/// Local bulk ingest (`ihub ingest`, docs/DATA-DIRECTORY.md "Writers and readers"): uploads
/// journaled as usual, then merged straight into a compaction instead of through delta layers.
extension LiveStore {
    /// What `ingest` did.
    public struct IngestSummary: Sendable {
        /// One receipt per request (a retry of an earlier upload id answers its first receipt).
        public var receipts: [UploadReceipt]
        /// The compaction that folded them into the snapshot.
        public var compaction: CompactionSummary
    }

    /// Ingests `requests` (each at most `JournalFormat.maxReports` reports) as uploads at
    /// `time` and compacts at `now`, leaving a snapshot that holds everything and an empty
    /// journal — the store as `upload` of each request followed by `compact(now:)` leaves it.
    ///
    /// The upload records are journaled with one write and one `fdatasync` (so each upload is
    /// atomic and durable before the snapshot is written; killed after that point, recovery
    /// replays them); values new to the store then go straight into the snapshot writer, and
    /// only values the snapshot or the delta already has go through the report merge. Runs on
    /// the writer thread from start to end: other writes wait for it (a local ingest runs while
    /// no hub serves the store; a hub's partners upload through `upload`).
    public func ingest(
        _ requests: [UploadRequest], time: UInt64, now: UInt32, createdAt: UInt64? = nil
    ) throws(LiveStoreError) -> IngestSummary {
        var prepared: [PreparedUpload] = []
        for request in requests {
            switch Self.prepare(request, time: time) {
            case .failure(let error): throw error
            case .success(let upload): prepared.append(upload)
            }
        }
        compactionLock.lock()
        defer { compactionLock.unlock() }
        let prepareds = prepared
        return try onWriter { () throws(LiveStoreError) in try self.ingestOnWriter(prepareds, now: now, createdAt: createdAt) }
    }

    private func ingestOnWriter(
        _ prepared: [PreparedUpload], now: UInt32, createdAt: UInt64?
    ) throws(LiveStoreError) -> IngestSummary {
        condition.lock()
        let failed = failure
        condition.unlock()
        if let failed { throw failed }

        // 1. Validate, number and journal the uploads (one write, one fdatasync).
        var receipts: [UploadReceipt] = []
        var bodies: [UploadBody] = []
        var records: [UploadIndexRecord] = []
        var bytes: [UInt8] = []
        var sequence = journal.lastSequence
        var lastNumber = uploads.lastNumber
        for upload in prepared {
            if let existing = records.last(where: { $0.id == upload.body.id }) ?? uploads[upload.body.id] {
                guard existing.contentHash == upload.contentHash && existing.source == upload.body.source else {
                    throw .uploadIDReused
                }
                receipts.append(existing.receipt)
                continue
            }
            guard lastNumber < (1 << 24) - 1 else { throw .uploadNumbersExhausted }
            lastNumber += 1
            sequence += 1
            var body = upload.body
            body.number = lastNumber
            JournalFormat.append(.upload(body), sequence: sequence, to: &bytes)
            let record = Self.indexRecord(body, contentHash: upload.contentHash)
            records.append(record)
            receipts.append(record.receipt)
            bodies.append(body)
        }
        if !bytes.isEmpty {
            do throws(LiveStoreError) {
                try journal.append(bytes, lastSequence: sequence)
            } catch {
                let stopped = LiveStoreError.failed(error.description)
                condition.lock()
                failure = stopped
                condition.unlock()
                throw stopped
            }
            groupsWritten += 1
            for record in records { uploads.insert(record) }
        }
        bytes = []

        // 2. Freeze: a new journal file after the uploads; the whole delta is merged below.
        let frozenSequence = try journal.rotate()
        precondition(frozenSequence == sequence, "the journal holds what was just written")
        let base = LiveState(snapshot: state.snapshot, live: [], frozen: state.live + state.frozen, sequence: sequence)

        // 3. Values new to the store (and to the other uploads of this ingest) become
        //    single-report entries directly; the others go through the report merge.
        var changed = Self.mergedLayers(base.frozen)
        var builder = DeltaBuilder(
            base: LiveState(snapshot: state.snapshot, live: base.frozen, frozen: [], sequence: sequence), table: table)
        var repeated = Set<IndicatorDigest>()
        if bodies.count > 1 {
            var seen = Set<IndicatorDigest>()
            for body in bodies {
                for report in body.reports where !seen.insert(report.digest).inserted { repeated.insert(report.digest) }
            }
        }
        let current = state.snapshot
        var fresh: [(DigestReport, upload: UInt32)] = []
        fresh.reserveCapacity(bodies.reduce(0) { $0 + $1.reports.count })
        var prefixes = NetworkPrefixes()
        for body in bodies {
            prefixes.formUnion(body.prefixes)
            var known = body
            known.reports = []
            for report in body.reports {
                let merge = (!changed.isEmpty && changed[report.digest] != nil)
                    || (!repeated.isEmpty && repeated.contains(report.digest))
                    || current?.storedEntry(report.digest) != nil
                if merge { known.reports.append(report) } else { fresh.append((report, body.number)) }
            }
            if !known.reports.isEmpty { builder.applyUpload(known) }
        }
        changed.merge(builder.pending) { _, newer in newer }

        // 4. Write reports table, upload index and snapshot (the commit point), publish,
        //    delete what it replaced.
        let (summary, snapshot, newTable) = try merge(
            base, table: table, uploads: uploads, now: now, createdAt: createdAt, changed: changed, fresh: fresh,
            prefixes: prefixes)
        table = newTable
        publish(LiveState(snapshot: snapshot, live: [], frozen: [], sequence: sequence))
        try journal.deleteFilesBeforeCurrent()
        let names = try Journal.storeCall { () throws(StoreError) in try Syscalls.listDirectory(self.storeDirectory) }
        Self.removeTables(in: storeDirectory, except: summary.sequence, names: names)
        return IngestSummary(receipts: receipts, compaction: summary)
    }
}
