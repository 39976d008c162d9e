import HubPOSIX
/// The crash-safe file procedure of `SnapshotWriter` (cdbmake's): write everything to a
/// temporary file in the target's directory, `fsync` it, `rename` it over the target, `fsync`
/// the directory. A reader sees the old snapshot or the new one, never a mix.
enum AtomicFile {
    /// Buckets buffered per `pwrite` (2 MiB).
    private static let chunkBuckets = 1 << 15
    /// Cold records buffered per `pwrite` (1.5 MiB).
    private static let chunkRecords = 1 << 16

    /// Places sorted, unique `records` in buckets, streams the bucket array, the cold records
    /// and their checksum, then the header, and installs the file at `path` (`beforeRename`
    /// runs once the temporary file is durable: the live store writes a table there that the
    /// new snapshot needs). Returns the header as written (with its body checksum).
    static func write(
        _ path: String, header: SnapshotHeader, records: UnsafeBufferPointer<SlotRecord>, upload: UInt32? = nil,
        crashPoint: SnapshotWriter.CrashPoint?, beforeRename: () throws(StoreError) -> Void = {}
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
        let checksum = Checksum()
        try writeBuckets(fd, path: temporary, header: header, records: records, checksum: checksum)
        try writeRecords(fd, path: temporary, header: header, records: records, upload: upload, checksum: checksum)
        header.bodyChecksum = checksum.finish()
        if crashPoint == .afterBody { throw simulatedCrash(temporary) }
        let bytes = header.encode()
        let written = bytes.withUnsafeBytes { raw in
            Result { () throws(StoreError) in try Syscalls.write(fd, raw, at: 0, path: temporary) }
        }
        try written.get()
        try Syscalls.fsync(fd, path: temporary)
        if crashPoint == .beforeRename { throw simulatedCrash(temporary) }
        try beforeRename()
        try Syscalls.rename(temporary, to: path)
        installed = true
        try Syscalls.fsyncDirectory(directory)
        return header
    }

    /// Streams the bucket array after the header: each record's `lo` goes into the next free
    /// slot of its bucket (`BucketPlacement`); a bucket's `base` is the number of entries in
    /// the buckets before it, filled in when its chunk is flushed.
    private static func writeBuckets(
        _ fd: Int32, path: String, header: SnapshotHeader, records: UnsafeBufferPointer<SlotRecord>,
        checksum: Checksum
    ) throws(StoreError) {
        let size = StoreFormat.bucketSize
        let chunk = UnsafeMutableRawBufferPointer.allocate(byteCount: chunkBuckets * size, alignment: size)
        defer { chunk.deallocate() }
        chunk.initializeMemory(as: UInt8.self, repeating: 0)
        var chunkStart = 0
        var entriesBefore = 0

        func flush(upTo end: Int) throws(StoreError) {
            let count = end - chunkStart
            guard count > 0 else { return }
            for index in 0..<count {
                let used = Int(chunk[index * size + StoreFormat.BucketOffset.count])
                chunk.storeBytes(
                    of: UInt32(truncatingIfNeeded: entriesBefore).littleEndian,
                    toByteOffset: index * size + StoreFormat.BucketOffset.base, as: UInt32.self)
                entriesBefore += used
            }
            let raw = UnsafeRawBufferPointer(rebasing: chunk[..<(count * size)])
            try Syscalls.write(fd, raw, at: StoreFormat.headerSize + chunkStart * size, path: path)
            checksum.update(raw)
            chunk.initializeMemory(as: UInt8.self, repeating: 0)
            chunkStart = end
        }

        var placement = BucketPlacement(homeBuckets: header.homeBuckets)
        for record in records {
            let bucket = placement.place(record.lo)
            while bucket >= chunkStart + chunkBuckets { try flush(upTo: chunkStart + chunkBuckets) }
            let offset = (bucket - chunkStart) * size
            let used = Int(chunk[offset + StoreFormat.BucketOffset.count])
            chunk.storeBytes(
                of: record.lo.littleEndian, toByteOffset: offset + StoreFormat.BucketOffset.fingerprints + 8 * used,
                as: UInt64.self)
            chunk[offset + StoreFormat.BucketOffset.count] = UInt8(used + 1)
        }
        precondition(placement.bucketCount == header.bucketCount, "placement differs from the layout pass")
        while chunkStart < header.bucketCount { try flush(upTo: min(chunkStart + chunkBuckets, header.bucketCount)) }
    }

    /// Streams the cold records after the bucket array, in order (bucket order is digest order),
    /// with `upload` (if given) as every record's single report.
    private static func writeRecords(
        _ fd: Int32, path: String, header: SnapshotHeader, records: UnsafeBufferPointer<SlotRecord>, upload: UInt32?,
        checksum: Checksum
    ) throws(StoreError) {
        let reportBits = upload.map { Slot.withReport(0, upload: $0, multi: false) } ?? 0
        let reportMask: UInt64 = upload == nil ? ~0 : ~(0xFFFF_FF00_0000_0000 | Slot.multiBit)
        let size = StoreFormat.recordSize
        let chunk = UnsafeMutableRawBufferPointer.allocate(byteCount: chunkRecords * size, alignment: 8)
        defer { chunk.deallocate() }
        var start = 0
        while start < records.count {
            let count = min(chunkRecords, records.count - start)
            for index in 0..<count {
                let record = records[start + index]
                chunk.storeBytes(of: record.hi.littleEndian, toByteOffset: index * size, as: UInt64.self)
                chunk.storeBytes(of: record.word2.littleEndian, toByteOffset: index * size + 8, as: UInt64.self)
                chunk.storeBytes(
                    of: (record.word3 & reportMask | reportBits).littleEndian, toByteOffset: index * size + 16, as: UInt64.self)
            }
            let raw = UnsafeRawBufferPointer(rebasing: chunk[..<(count * size)])
            try Syscalls.write(fd, raw, at: header.recordsOffset + start * size, path: path)
            checksum.update(raw)
            start += count
        }
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
