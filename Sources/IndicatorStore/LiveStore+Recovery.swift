/// Opening a live store: the snapshot, the reports table and upload index that belong to it,
/// and the journal replayed on top (docs/LIVE-UPDATES.md, "Recovery").
extension LiveStore {
    /// Opens (creating the journal if needed) the live store in `storeDirectory`:
    /// 1. removes temporary files a killed writer left;
    /// 2. maps `indicators.snap` (if any; `verification` as for `Snapshot.open`), sequence *S*;
    /// 3. reads `reports.S` and `uploads.S` (required when *S* > 0) and deletes those of other
    ///    sequences (left by a compaction that died before or after its rename);
    /// 4. reads the journal: records after *S* are replayed into the delta and the upload
    ///    index; a torn tail of the last file is cut off (`recoveredTornTail`); damage
    ///    elsewhere and sequence gaps are refused, naming the file and offset.
    ///
    /// With `lockPath`, first takes that writer lock without blocking (`storeInUse` when
    /// another process or opener holds it) and holds it until `close()`.
    public static func open(
        storeDirectory: String, keyID: UInt64, lockPath: String? = nil, verification: Snapshot.Verification = .header,
        memory: Snapshot.Memory = .fileMapping(populate: false)
    ) throws(LiveStoreError) -> LiveStore {
        let lock = try lockPath.map { (path) throws(LiveStoreError) in try WriterLock.acquire(path) }
        let names = try Journal.storeCall { () throws(StoreError) in try Syscalls.listDirectory(storeDirectory) }
        for name in names where name.contains(".tmp-") { Syscalls.unlinkQuietly(storeDirectory + "/" + name) }

        let (snapshot, table, uploadIndex) = try loadBase(storeDirectory: storeDirectory, keyID: keyID,
                                                         verification: verification, memory: memory)
        var uploads = uploadIndex
        let sequence = snapshot?.header.sequence ?? 0
        removeTables(in: storeDirectory, except: sequence, names: names)

        let (journal, recovery) = try Journal.open(directory: storeDirectory, after: sequence)
        let builder = replay(recovery.records, snapshot: snapshot, table: table, uploads: &uploads)
        let state = LiveState(
            snapshot: snapshot, live: builder.layer().map { [$0] } ?? [], frozen: [], sequence: journal.lastSequence)
        return LiveStore(
            storeDirectory: storeDirectory, keyID: keyID, memory: memory, journal: journal, table: table,
            uploads: uploads, state: state, recoveredTornTail: recovery.truncated, writerLock: lock)
    }

    /// Steps 2 and 3 of `open`: the snapshot (if any) and the reports table and upload index of
    /// its sequence, which must exist when the sequence is above 0.
    static func loadBase(storeDirectory: String, keyID: UInt64, verification: Snapshot.Verification,
                         memory: Snapshot.Memory) throws(LiveStoreError) -> (Snapshot?, ReportsTable, UploadIndex) {
        let path = snapshotPath(storeDirectory)
        let snapshot: Snapshot? = Syscalls.exists(path)
            ? try Journal.storeCall { () throws(StoreError) in
                try Snapshot.open(path, keyID: keyID, verification: verification, memory: memory)
            }
            : nil
        let sequence = snapshot?.header.sequence ?? 0

        let reportsPath = storeDirectory + "/" + TableFile.Kind.reports.fileName(sequence: sequence)
        let uploadsPath = storeDirectory + "/" + TableFile.Kind.uploads.fileName(sequence: sequence)
        var table = ReportsTable()
        var uploads = UploadIndex()
        if Syscalls.exists(reportsPath) {
            let records = try TableFile.read(reportsPath, kind: .reports, keyID: keyID, sequence: sequence)
            table = try ReportsTable.decode(records, path: reportsPath)
        } else if sequence > 0 {
            throw .tableCorrupt(path: reportsPath, reason: "missing: the snapshot at sequence \(sequence) needs it")
        }
        if Syscalls.exists(uploadsPath) {
            let records = try TableFile.read(uploadsPath, kind: .uploads, keyID: keyID, sequence: sequence)
            uploads = try UploadIndex.decode(records, path: uploadsPath)
        } else if sequence > 0 {
            throw .tableCorrupt(path: uploadsPath, reason: "missing: the snapshot at sequence \(sequence) needs it")
        }
        return (snapshot, table, uploads)
    }

    /// Step 4 of `open`: the journal's records after the snapshot applied to a delta over it,
    /// and their uploads and withdrawals to the upload index.
    static func replay(_ records: [(sequence: UInt64, record: JournalRecord)], snapshot: Snapshot?, table: ReportsTable,
                       uploads: inout UploadIndex) -> DeltaBuilder {
        let base = LiveState(snapshot: snapshot, live: [], frozen: [], sequence: snapshot?.header.sequence ?? 0)
        var builder = DeltaBuilder(base: base, table: table)
        for (_, record) in records {
            switch record {
            case .upload(let body):
                builder.applyUpload(body)
                let hash = UploadIndex.contentHash(source: body.source, format: body.format, reports: body.reports)
                uploads.insert(indexRecord(body, contentHash: hash))
            case .withdrawValues(let source, let digests):
                _ = builder.applyWithdrawValues(source: source, digests: digests)
            case .withdrawUpload(let source, let id):
                // The writer journals only withdrawals of the source's own uploads.
                guard let upload = uploads[id], upload.source == source else { continue }
                _ = builder.applyWithdrawUpload(source: source, number: upload.receipt.uploadNumber)
                uploads.markWithdrawn(id)
            }
        }
        return builder
    }

    /// Opens the live store of a data directory (`DATA/store`), holding its writer lock
    /// (`DATA/.lock`) until `close()`: the way a hub, `ihub ingest` and `ihub compact` open it.
    public static func open(
        data: DataDirectory, keyID: UInt64, verification: Snapshot.Verification = .header,
        memory: Snapshot.Memory = .fileMapping(populate: false)
    ) throws(LiveStoreError) -> LiveStore {
        try open(storeDirectory: data.storeDirectory, keyID: keyID, lockPath: data.lockPath, verification: verification,
                 memory: memory)
    }

    /// Deletes reports tables and upload indexes of sequences other than `sequence`.
    static func removeTables(in directory: String, except sequence: UInt64, names: [String]) {
        for name in names {
            let owner = TableFile.Kind.reports.sequence(ofFile: name) ?? TableFile.Kind.uploads.sequence(ofFile: name)
            if let owner, owner != sequence { Syscalls.unlinkQuietly(directory + "/" + name) }
        }
    }
}
