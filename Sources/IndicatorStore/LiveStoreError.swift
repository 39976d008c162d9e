/// Why the live store (docs/LIVE-UPDATES.md) refused a request or could not start. Every
/// damage case names the file and, for the journal, the byte offset.
public enum LiveStoreError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A snapshot, file or system call failed (the store error names the file).
    case store(StoreError)
    /// A journal record that is not a torn tail (inside a file, or in a file other than the
    /// last) fails its framing or checksum, or decodes to something a writer never writes.
    case journalCorrupt(path: String, offset: Int, reason: String)
    /// Sequence numbers must rise by one from record to record (and files be named by their
    /// first record's sequence).
    case journalSequenceGap(path: String, offset: Int, expected: UInt64, found: UInt64)
    /// A reports or uploads table (written at compaction) is damaged or does not belong to
    /// the snapshot.
    case tableCorrupt(path: String, reason: String)
    /// The upload id was used before for other content (`upload_id_reused`).
    case uploadIDReused
    /// No upload with this id was made by this source (another source's uploads are reported
    /// the same way, so a source learns nothing about others).
    case unknownUpload
    /// All 2²⁴ − 1 upload numbers are used; the hub refuses uploads rather than wrap.
    case uploadNumbersExhausted
    /// Source ids are 1…65535.
    case invalidSource
    /// The upload is larger than one journal record may be.
    case uploadTooLarge(reports: Int, limit: Int)
    /// An earlier journal write or sync failed: the store refuses further changes (their
    /// durability could not be promised) until it is reopened.
    case failed(String)
    /// `close()` was called.
    case closed
    /// Another writer holds the data directory's lock (`lockPath`): a serving hub, an ingest
    /// or a compaction. `pid` is the holder's, as it recorded it in the lock file.
    case storeInUse(lockPath: String, pid: Int32?)

    public var description: String {
        switch self {
        case .store(let error): error.description
        case .journalCorrupt(let path, let offset, let reason): "\(path): journal corrupt at offset \(offset): \(reason)"
        case .journalSequenceGap(let path, let offset, let expected, let found):
            "\(path): journal sequence gap at offset \(offset): expected \(expected), found \(found)"
        case .tableCorrupt(let path, let reason): "\(path): \(reason)"
        case .uploadIDReused: "upload id reused for different content"
        case .unknownUpload: "no such upload of this source"
        case .uploadNumbersExhausted: "all 16,777,215 upload numbers are used"
        case .invalidSource: "source ids are 1…65535"
        case .uploadTooLarge(let reports, let limit): "upload of \(reports) reports exceeds the limit of \(limit)"
        case .failed(let reason): "live store stopped after a failed journal write: \(reason)"
        case .closed: "live store is closed"
        case .storeInUse(let path, let pid):
            "\(path): the store is in use by another process\(pid.map { " (pid \($0))" } ?? "") — a running 'ihub serve', "
                + "'ihub ingest' or 'ihub compact'; it was not opened"
        }
    }
}
