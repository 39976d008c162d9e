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

    /// Opens the journal in `directory` for a snapshot that includes every record up to
    /// `snapshotSequence`: reads every file, returns the records after it, cuts a torn tail off
    /// the last file, and refuses damage anywhere else (file and offset) and sequence gaps.
    /// Creates the first file when there is none.
    static func open(directory: String, after snapshotSequence: UInt64) throws(LiveStoreError) -> (Journal, Recovery) {
        let files = try files(in: directory)
        var recovery = Recovery()
        var last: UInt64? = nil  // sequence of the last record read
        var lastFileSize = 0
        for (position, file) in files.enumerated() {
            let isLast = position == files.count - 1
            var bytes = try storeCall { () throws(StoreError) in try Syscalls.readFile(file.path, limit: Int.max) }
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
                            if sequence != snapshotSequence + 1 && recovery.records.isEmpty {
                                throw .journalSequenceGap(path: file.path, offset: offset, expected: snapshotSequence + 1, found: sequence)
                            }
                            switch JournalFormat.decode(kind: kind, payload: UnsafeRawBufferPointer(rebasing: raw[payload])) {
                            case .success(let record): recovery.records.append((sequence, record))
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
            if let cut {
                try storeCall { () throws(StoreError) in
                    let fd = try Syscalls.open(file.path, Syscalls.writeOnly)
                    defer { Syscalls.close(fd) }
                    try Syscalls.truncate(fd, to: cut, path: file.path)
                    try Syscalls.fsync(fd, path: file.path)
                }
                recovery.truncated = (file.path, cut, bytes.count - cut)
                bytes.removeLast(bytes.count - cut)
            }
            if isLast { lastFileSize = bytes.count }
            if bytes.isEmpty && !isLast {
                throw .journalCorrupt(path: file.path, offset: 0, reason: "an empty journal file before the last one")
            }
        }
        if let current = files.last, lastFileSize == 0, current.first <= snapshotSequence {
            // Only a local ingest leaves this: its snapshot took the sequence numbers
            // current.first…snapshotSequence for uploads that were never journaled, and it was
            // stopped before it moved the journal past them (`skip(to:)`). Finish that.
            let fd = try storeCall { () throws(StoreError) in try Syscalls.open(current.path, Syscalls.writeOnly) }
            let journal = Journal(directory: directory, fd: fd, path: current.path, first: current.first, size: 0,
                                  lastSequence: current.first - 1)
            try journal.skip(to: snapshotSequence)
            return (journal, recovery)
        }
        let lastSequence = max(last ?? snapshotSequence, snapshotSequence)
        if let last, last < snapshotSequence {
            // The snapshot includes records the journal never had: files were lost.
            throw .journalSequenceGap(path: files.last!.path, offset: lastFileSize, expected: snapshotSequence, found: last)
        }
        if let current = files.last {
            if lastFileSize == 0 && current.first != lastSequence + 1 {
                throw .journalSequenceGap(path: current.path, offset: 0, expected: lastSequence + 1, found: current.first)
            }
            let fd = try storeCall { () throws(StoreError) in try Syscalls.open(current.path, Syscalls.writeOnly) }
            return (Journal(directory: directory, fd: fd, path: current.path, first: current.first, size: lastFileSize,
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
