/// Checking a live store without opening it for writing (`ihub verify`): everything `open`
/// reads, read the same way, with nothing repaired, deleted or locked.
extension LiveStore {
    /// What the next `open` of a store would find.
    public struct Check: Sendable {
        /// The snapshot's entries and bytes (0 without a snapshot) and its sequence number.
        public var snapshotEntries = 0
        public var snapshotBytes = 0
        public var snapshotSequence: UInt64 = 0
        /// Reports of multi-source entries in the reports table; uploads in the upload index
        /// (with those the journal adds).
        public var tableReports = 0
        public var uploads = 0
        /// Journal files, and records after the snapshot (replayed into the delta).
        public var journalFiles = 0
        public var journalRecords = 0
        /// Entries of the delta those records make.
        public var deltaEntries = 0
        /// The last sequence number the store holds.
        public var lastSequence: UInt64 = 0
        /// A torn tail of the last journal file: with no writer, a record a crash cut short
        /// (never acknowledged), which the next open cuts off; while a writer holds the lock,
        /// most likely the record it is appending (`check(data:keyID:verification:retry:)`).
        public var tornTail: (path: String, offset: Int, bytes: Int)?
        /// A local ingest stopped before it moved the journal past its sequence numbers; the
        /// next open finishes that.
        public var ingestSkipPending = false
        /// Temporary files and tables of other sequences a killed writer left; the next open
        /// removes them.
        public var leftovers: [String] = []
    }

    /// Reads the store in `storeDirectory` as `open` would — the snapshot with `verification`,
    /// the reports table and upload index of its sequence, every journal file (frames,
    /// checksums, sequence rules) and the replay of its records — and throws what `open` would
    /// throw, naming the file (and offset). Changes nothing and takes no lock: while a hub
    /// writes, a record being appended can show as a torn tail and a compaction can make a
    /// read fail; `check(data:keyID:verification:retry:)` tells those apart.
    public static func check(storeDirectory: String, keyID: UInt64, verification: Snapshot.Verification = .full)
        throws(LiveStoreError) -> Check
    {
        var check = Check()
        let names = try Journal.storeCall { () throws(StoreError) in try Syscalls.listDirectory(storeDirectory) }
        let (snapshot, table, uploadIndex) = try loadBase(storeDirectory: storeDirectory, keyID: keyID,
                                                         verification: verification, memory: .fileMapping(populate: false))
        var uploads = uploadIndex
        let sequence = snapshot?.header.sequence ?? 0
        check.snapshotEntries = snapshot?.entryCount ?? 0
        check.snapshotBytes = snapshot?.byteCount ?? 0
        check.snapshotSequence = sequence
        check.tableReports = table.reportCount
        check.leftovers = names.filter { name in
            if name.contains(".tmp-") { return true }
            let owner = TableFile.Kind.reports.sequence(ofFile: name) ?? TableFile.Kind.uploads.sequence(ofFile: name)
            return owner.map { $0 != sequence } ?? false
        }.sorted()

        let scan = try Journal.scan(directory: storeDirectory, after: sequence)
        let builder = replay(scan.records, snapshot: snapshot, table: table, uploads: &uploads)
        check.uploads = uploads.records.count
        check.journalFiles = scan.files.count
        check.journalRecords = scan.records.count
        check.deltaEntries = builder.layer()?.entries.count ?? 0
        check.lastSequence = scan.ingestSkipPending ? sequence : max(scan.last ?? sequence, sequence)
        check.tornTail = scan.tornTail
        check.ingestSkipPending = scan.ingestSkipPending
        return check
    }
}
