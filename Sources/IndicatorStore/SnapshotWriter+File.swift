import HubPOSIX
/// The crash-safe file procedure of `SnapshotWriter` (cdbmake's): write everything to a
/// temporary file in the target's directory, `fsync` it, `rename` it over the target, `fsync`
/// the directory. A reader sees the old snapshot or the new one, never a mix.
enum AtomicFile {
    /// Slots buffered per `pwrite` (2 MiB).
    private static let chunkSlots = 1 << 16

    /// Places sorted, unique `records` by ordered linear probing, streams the slot array and
    /// its checksum, then the header, and installs the file at `path`. Returns the header
    /// as written (with its body checksum).
    static func write(
        _ path: String, header: SnapshotHeader, records: UnsafeBufferPointer<SlotRecord>,
        crashPoint: SnapshotWriter.CrashPoint?
    ) throws(StoreError) -> SnapshotHeader {
        let directory = Self.directory(of: path)
        let temporary = "\(directory)/.\(Self.fileName(of: path)).tmp-\(Syscalls.processID())-\(Syscalls.unixNanoseconds())"
        let fd = try Syscalls.open(temporary, Syscalls.readWrite | Syscalls.createExclusive, mode: 0o600)
        var installed = false
        defer {
            Syscalls.close(fd)
            if !installed && crashPoint == nil { Syscalls.unlinkQuietly(temporary) }
        }
        var header = header
        header.bodyChecksum = try writeBody(fd, path: temporary, header: header, records: records)
        if crashPoint == .afterBody { throw simulatedCrash(temporary) }
        let bytes = header.encode()
        let written = bytes.withUnsafeBytes { raw in
            Result { () throws(StoreError) in try Syscalls.write(fd, raw, at: 0, path: temporary) }
        }
        try written.get()
        try Syscalls.fsync(fd, path: temporary)
        if crashPoint == .beforeRename { throw simulatedCrash(temporary) }
        try Syscalls.rename(temporary, to: path)
        installed = true
        try Syscalls.fsyncDirectory(directory)
        return header
    }

    /// Streams the slot array after the header, returning its BLAKE2b-256.
    private static func writeBody(
        _ fd: Int32, path: String, header: SnapshotHeader, records: UnsafeBufferPointer<SlotRecord>
    ) throws(StoreError) -> [UInt8] {
        let chunk = UnsafeMutableBufferPointer<SlotRecord>.allocate(capacity: chunkSlots)
        defer { chunk.deallocate() }
        let zero = SlotRecord(lo: 0, hi: 0, word2: 0, word3: 0)
        chunk.initialize(repeating: zero)
        let checksum = Checksum()
        var chunkStart = 0

        func flush(upTo end: Int) throws(StoreError) {
            let count = end - chunkStart
            guard count > 0 else { return }
            let raw = UnsafeRawBufferPointer(start: chunk.baseAddress, count: count * StoreFormat.slotSize)
            try Syscalls.write(fd, raw, at: StoreFormat.headerSize + chunkStart * StoreFormat.slotSize, path: path)
            checksum.update(raw)
            chunk.update(repeating: zero)
            chunkStart = end
        }

        let lines = UInt64(header.capacity / StoreFormat.slotsPerLine)
        var previous = -1
        for record in records {
            let position = max(Slot.home(record.lo, lines: lines), previous + 1)
            previous = position
            while position >= chunkStart + chunkSlots { try flush(upTo: chunkStart + chunkSlots) }
            chunk[position - chunkStart] = SlotRecord(
                lo: record.lo.littleEndian, hi: record.hi.littleEndian,
                word2: record.word2.littleEndian, word3: record.word3.littleEndian)
        }
        while chunkStart < header.slotCount { try flush(upTo: min(chunkStart + chunkSlots, header.slotCount)) }
        return checksum.finish()
    }

    private static func simulatedCrash(_ temporary: String) -> StoreError {
        .system(operation: "simulated crash", path: temporary, errno: 0)
    }

    static func directory(of path: String) -> String { POSIX.directory(of: path) }

    static func fileName(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return path }
        return String(path[path.index(after: slash)...])
    }
}
