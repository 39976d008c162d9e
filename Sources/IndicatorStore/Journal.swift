/// The journal files of a store directory (docs/LIVE-UPDATES.md, "The journal"): opening
/// with recovery, appending a group with one `write` and one `fdatasync`, starting a new file
/// for compaction and deleting the files compaction made redundant. Used by one thread at a
/// time (the live store's writer, or compaction through it).
final class Journal {
    let directory: String
    private var fd: Int32
    /// The file appended to.
    private(set) var currentPath: String
    /// The first sequence number the current file may hold (its name).
    private(set) var currentFirst: UInt64
    private var currentSize: Int
    /// The last sequence number written (or the snapshot's, when the journal holds none after it).
    private(set) var lastSequence: UInt64

    /// What recovery found.
    struct Recovery {
        /// Records with sequences after the snapshot's, in order.
        var records: [(sequence: UInt64, record: JournalRecord)] = []
        /// A torn tail cut off the last file: its path, the offset it was cut at and the bytes removed.
        var truncated: (path: String, offset: Int, bytes: Int)? = nil
    }

    private init(directory: String, fd: Int32, path: String, first: UInt64, size: Int, lastSequence: UInt64) {
        self.directory = directory
        self.fd = fd
        self.currentPath = path
        self.currentFirst = first
        self.currentSize = size
        self.lastSequence = lastSequence
    }

    deinit { Syscalls.close(fd) }

    /// The journal files in `directory`, by first sequence.
    static func files(in directory: String) throws(LiveStoreError) -> [(first: UInt64, path: String)] {
        let names = try storeCall { () throws(StoreError) in try Syscalls.listDirectory(directory) }
        return names.compactMap { name in JournalFormat.firstSequence(ofFile: name).map { ($0, directory + "/" + name) } }
            .sorted { $0.first < $1.first }
    }

    /// What reading the journal files found, before anything is repaired (`scan`).
    struct Scan {
        var files: [(first: UInt64, path: String)] = []
        /// Records with sequences after the snapshot's, in order.
        var records: [(sequence: UInt64, record: JournalRecord)] = []
        /// The sequence of the last record read (nil: no record in any file).
        var last: UInt64?
        /// The last file's size without its torn tail.
        var lastFileSize = 0
        /// A torn tail of the last file (path, offset, bytes): cut off when the journal is opened.
        var tornTail: (path: String, offset: Int, bytes: Int)?
        /// A local ingest was stopped before it moved the journal past its sequence numbers:
        /// the last file is empty and named at or before the snapshot's sequence (`open`
        /// finishes the `skip(to:)`).
        var ingestSkipPending = false
    }

    /// Reads every journal file in `directory` for a snapshot at `snapshotSequence` without
    /// changing anything: the records after it, a torn tail of the last file, and the state
    /// rules (docs/LIVE-UPDATES.md, "Recovery") — damage anywhere but the last file's tail and
    /// sequence gaps are refused, naming the file and offset. `open` and `ihub verify` use it.
    static func scan(directory: String, after snapshotSequence: UInt64) throws(LiveStoreError) -> Scan {
        var scan = Scan()
        scan.files = try files(in: directory)
        var last: UInt64? = nil  // sequence of the last record read
        for (position, file) in scan.files.enumerated() {
            let isLast = position == scan.files.count - 1
            let bytes = try storeCall { () throws(StoreError) in try Syscalls.readFile(file.path, limit: Int.max) }
            var offset = 0
            var cut: Int? = nil
            let scanned = bytes.withUnsafeBytes { raw in Result { () throws(LiveStoreError) in
                while offset < raw.count {
                    switch JournalFormat.frame(raw, at: offset) {
                    case .record(let kind, let sequence, let payload, let size):
                        let expected = last.map { $0 + 1 } ?? file.first
                        if offset == 0 && sequence != file.first {
                            throw .journalSequenceGap(path: file.path, offset: 0, expected: file.first, found: sequence)
                        }
                        guard sequence == expected else {
                            throw .journalSequenceGap(path: file.path, offset: offset, expected: expected, found: sequence)
                        }
                        if sequence > snapshotSequence {
                            if sequence != snapshotSequence + 1 && scan.records.isEmpty {
                                throw .journalSequenceGap(path: file.path, offset: offset, expected: snapshotSequence + 1, found: sequence)
                            }
                            switch JournalFormat.decode(kind: kind, payload: UnsafeRawBufferPointer(rebasing: raw[payload])) {
                            case .success(let record): scan.records.append((sequence, record))
                            case .failure(let failure): throw .journalCorrupt(path: file.path, offset: offset, reason: failure.reason)
                            }
                        }
                        last = sequence
                        offset += size
                    case .runsPastEnd(let reason):
                        guard isLast else { throw .journalCorrupt(path: file.path, offset: offset, reason: reason) }
                        cut = offset
                        return
                    case .badChecksum:
                        let length = Int(raw.loadUnaligned(fromByteOffset: offset, as: UInt32.self).littleEndian)
                        let end = offset + JournalFormat.overhead + length
                        // A torn tail: the last record of the last file, or a zero-filled extension.
                        let torn = isLast && (end == raw.count || raw[offset...].allSatisfy { $0 == 0 })
                        guard torn else { throw .journalCorrupt(path: file.path, offset: offset, reason: "checksum mismatch") }
                        cut = offset
                        return
                    }
                }
            } }
            try scanned.get()
            let size = cut ?? bytes.count
            if let cut { scan.tornTail = (file.path, cut, bytes.count - cut) }
            if isLast { scan.lastFileSize = size }
            if size == 0 && !isLast {
                throw .journalCorrupt(path: file.path, offset: 0, reason: "an empty journal file before the last one")
            }
        }
        scan.last = last
        if let current = scan.files.last, scan.lastFileSize == 0, current.first <= snapshotSequence {
            // Only a local ingest leaves this: its snapshot took the sequence numbers
            // current.first…snapshotSequence for uploads that were never journaled.
            scan.ingestSkipPending = true
            return scan
        }
        if let last, last < snapshotSequence {
            // The snapshot includes records the journal never had: files were lost.
            throw .journalSequenceGap(path: scan.files.last!.path, offset: scan.lastFileSize, expected: snapshotSequence,
                                      found: last)
        }
        let lastSequence = max(last ?? snapshotSequence, snapshotSequence)
        if let current = scan.files.last, scan.lastFileSize == 0, current.first != lastSequence + 1 {
            throw .journalSequenceGap(path: current.path, offset: 0, expected: lastSequence + 1, found: current.first)
        }
        return scan
    }

    /// Opens the journal in `directory` for a snapshot that includes every record up to
    /// `snapshotSequence`: `scan`, then cuts a torn tail off the last file, finishes a local
    /// ingest's pending skip, and creates the first file when there is none.
    static func open(directory: String, after snapshotSequence: UInt64) throws(LiveStoreError) -> (Journal, Recovery) {
        let scan = try scan(directory: directory, after: snapshotSequence)
        var recovery = Recovery(records: scan.records)
        if let torn = scan.tornTail {
            try storeCall { () throws(StoreError) in
                let fd = try Syscalls.open(torn.path, Syscalls.writeOnly)
                defer { Syscalls.close(fd) }
                try Syscalls.truncate(fd, to: torn.offset, path: torn.path)
                try Syscalls.fsync(fd, path: torn.path)
            }
            recovery.truncated = torn
        }
        if scan.ingestSkipPending, let current = scan.files.last {
            let fd = try storeCall { () throws(StoreError) in try Syscalls.open(current.path, Syscalls.writeOnly) }
            let journal = Journal(directory: directory, fd: fd, path: current.path, first: current.first, size: 0,
                                  lastSequence: current.first - 1)
            try journal.skip(to: snapshotSequence)
            return (journal, recovery)
        }
        let lastSequence = max(scan.last ?? snapshotSequence, snapshotSequence)
        if let current = scan.files.last {
            let fd = try storeCall { () throws(StoreError) in try Syscalls.open(current.path, Syscalls.writeOnly) }
            return (Journal(directory: directory, fd: fd, path: current.path, first: current.first, size: scan.lastFileSize,
                            lastSequence: lastSequence), recovery)
        }
        let (fd, path) = try createFile(directory: directory, first: lastSequence + 1)
        return (Journal(directory: directory, fd: fd, path: path, first: lastSequence + 1, size: 0, lastSequence: lastSequence), recovery)
    }

    /// Appends framed records (`bytes`, ending with sequence `lastSequence`) with one write and
    /// one `fdatasync`: when this returns, they are durable.
    func append(_ bytes: [UInt8], lastSequence: UInt64) throws(LiveStoreError) {
        let path = currentPath
        let fd = fd
        let offset = currentSize
        try Self.storeCall { () throws(StoreError) in
            var failure: StoreError?
            bytes.withUnsafeBytes { raw in
                do throws(StoreError) { try Syscalls.write(fd, raw, at: offset, path: path) } catch { failure = error }
            }
            if let failure { throw failure }
            try Syscalls.fdatasync(fd, path: path)
        }
        currentSize += bytes.count
        self.lastSequence = lastSequence
    }

    /// Starts a new file at the next sequence number (compaction's first step) unless the
    /// current one is still empty. Returns the last sequence of the files before it.
    @discardableResult
    func rotate() throws(LiveStoreError) -> UInt64 {
        guard currentSize > 0 else { return lastSequence }
        let (newFD, path) = try Self.createFile(directory: directory, first: lastSequence + 1)
        Syscalls.close(fd)
        fd = newFD
        currentPath = path
        currentFirst = lastSequence + 1
        currentSize = 0
        return lastSequence
    }

    /// Moves the journal past `sequence` after a local ingest committed a snapshot at
    /// `sequence` whose uploads took the numbers `lastSequence + 1 … sequence` without journal
    /// records (docs/LIVE-UPDATES.md, "Local ingest"): deletes the files before the current,
    /// empty one (all their records are older), then renames that one to `sequence + 1`.
    /// Killed in between, `open` finds the empty file named ≤ the snapshot's sequence and
    /// finishes the job. `stopAfterDeleting` simulates that kill (tests).
    func skip(to sequence: UInt64, stopAfterDeleting: Bool = false) throws(LiveStoreError) {
        precondition(currentSize == 0 && currentFirst == lastSequence + 1 && sequence >= currentFirst,
                     "skip from an empty current file to a sequence after it")
        try deleteFilesBeforeCurrent()
        if stopAfterDeleting { throw .failed("simulated crash after deleting the journal files") }
        let path = directory + "/" + JournalFormat.fileName(firstSequence: sequence + 1)
        try Self.storeCall { () throws(StoreError) in
            try Syscalls.rename(currentPath, to: path)
            try Syscalls.fsyncDirectory(directory)
        }
        currentPath = path
        currentFirst = sequence + 1
        lastSequence = sequence
    }

    /// Deletes the files before the current one (all their records are ≤ a compacted
    /// snapshot's sequence, which the caller guarantees), then `fsync`s the directory.
    func deleteFilesBeforeCurrent() throws(LiveStoreError) {
        var deleted = false
        for file in try Self.files(in: directory) where file.first < currentFirst {
            Syscalls.unlinkQuietly(file.path)
            deleted = true
        }
        if deleted { try Self.storeCall { () throws(StoreError) in try Syscalls.fsyncDirectory(directory) } }
    }

    private static func createFile(directory: String, first: UInt64) throws(LiveStoreError) -> (Int32, String) {
        let path = directory + "/" + JournalFormat.fileName(firstSequence: first)
        let fd = try storeCall { () throws(StoreError) in
            try Syscalls.open(path, Syscalls.writeOnly | Syscalls.createExclusive, mode: 0o600)
        }
        try storeCall { () throws(StoreError) in try Syscalls.fsyncDirectory(directory) }
        return (fd, path)
    }

    static func storeCall<R>(_ body: () throws(StoreError) -> R) throws(LiveStoreError) -> R {
        do {
            return try body()
        } catch {
            throw .store(error)
        }
    }
}
