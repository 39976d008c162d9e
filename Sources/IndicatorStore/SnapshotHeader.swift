/// The decoded fixed header of a snapshot (docs/STORE-FORMAT.md, "Header").
///
/// `decode` checks everything that can be checked in O(1): magic, version, header checksum,
/// field ranges, and that the file size is exactly what the header implies. It never reads the
/// bucket array or the cold records.
public struct SnapshotHeader: Equatable, Sendable {
    public var canonicalizerVersion: UInt8
    /// Some domain entry covers its subdomains (lookups probe parent domains).
    public var hasSubdomainEntries: Bool
    public var keyID: UInt64
    public var entryCount: Int
    /// Buckets in the home range: the multiplier of the home function.
    public var homeBuckets: Int
    /// All buckets in the file: the home range and the tail after it.
    public var bucketCount: Int
    /// Largest distance (in buckets) of an entry from its home bucket.
    public var maxSpill: Int
    /// Unix seconds when the snapshot was written.
    public var createdAt: UInt64
    public var prefixes: NetworkPrefixes
    /// BLAKE2b-256 of the bucket array and the cold records.
    public var bodyChecksum: [UInt8]
    /// The last journal sequence number the snapshot includes (docs/LIVE-UPDATES.md); 0 for
    /// a snapshot no journal record went into (and for every version 2 file).
    public var sequence: UInt64 = 0
    /// The layout version the file was read with (2 or 3); writers always write
    /// `StoreFormat.version`.
    public var formatVersion: UInt32 = StoreFormat.version

    /// Buckets after the home range.
    public var tailBuckets: Int { bucketCount - homeBuckets }

    /// Offset of the cold records in the file (right after the bucket array).
    public var recordsOffset: Int { StoreFormat.headerSize + bucketCount * StoreFormat.bucketSize }

    /// Size of the bucket array and the cold records in bytes.
    public var bodySize: Int { bucketCount * StoreFormat.bucketSize + entryCount * StoreFormat.recordSize }

    /// Exact size of the file.
    public var fileSize: Int { StoreFormat.headerSize + bodySize }

    /// The 4096 header bytes, header checksum included.
    package func encode() -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: StoreFormat.headerSize)
        bytes.withUnsafeMutableBytes { raw in
            typealias O = StoreFormat.Offset
            raw.copyBytes(from: StoreFormat.magic)
            raw.storeBytes(of: StoreFormat.version.littleEndian, toByteOffset: O.version, as: UInt32.self)
            raw.storeBytes(
                of: UInt32(StoreFormat.headerSize).littleEndian, toByteOffset: O.headerSize, as: UInt32.self)
            raw.storeBytes(
                of: UInt32(StoreFormat.bucketSize).littleEndian, toByteOffset: O.bucketSize, as: UInt32.self)
            raw[O.canonicalizerVersion] = canonicalizerVersion
            raw[O.flags] = hasSubdomainEntries ? StoreFormat.Flag.subdomainEntries : 0
            raw.storeBytes(
                of: UInt16(StoreFormat.recordSize).littleEndian, toByteOffset: O.recordSize, as: UInt16.self)
            let words: [(Int, UInt64)] = [
                (O.keyID, keyID), (O.entryCount, UInt64(entryCount)), (O.homeBuckets, UInt64(homeBuckets)),
                (O.bucketCount, UInt64(bucketCount)), (O.maxSpill, UInt64(maxSpill)),
                (O.createdAt, createdAt), (O.ipv4Prefixes, prefixes.ipv4),
                (O.ipv6Prefixes, prefixes.ipv6Low), (O.ipv6Prefixes + 8, prefixes.ipv6High),
                (O.sequence, sequence),
            ]
            for (offset, value) in words {
                raw.storeBytes(of: value.littleEndian, toByteOffset: offset, as: UInt64.self)
            }
            for (index, byte) in bodyChecksum.enumerated() { raw[O.bodyChecksum + index] = byte }
        }
        Self.seal(&bytes)
        return bytes
    }

    /// Writes the header checksum over the first `headerChecksumOffset` bytes of `header`.
    package static func seal(_ header: inout [UInt8]) {
        precondition(header.count == StoreFormat.headerSize)
        let sum = header.withUnsafeBytes { Checksum.of(UnsafeRawBufferPointer(rebasing: $0[..<StoreFormat.headerChecksumOffset])) }
        header.replaceSubrange(StoreFormat.headerChecksumOffset..<StoreFormat.headerSize, with: sum)
    }

    /// Decodes and checks the header at the start of `file` (the first `min(fileSize, 4096)`
    /// bytes must be readable), for a file of `fileSize` bytes at `path`.
    package static func decode(
        _ file: UnsafeRawBufferPointer, fileSize: Int, path: String
    ) throws(StoreError) -> SnapshotHeader {
        typealias O = StoreFormat.Offset
        let size = StoreFormat.headerSize
        guard fileSize >= size, file.count >= size else {
            // A short file that does not even start like a snapshot is not a truncated one.
            let prefix = min(file.count, StoreFormat.magic.count)
            if !zip(file.prefix(prefix), StoreFormat.magic).allSatisfy({ $0 == $1 }) {
                throw .badMagic(path: path)
            }
            throw .truncated(path: path, expected: size, actual: fileSize)
        }
        guard zip(file.prefix(StoreFormat.magic.count), StoreFormat.magic).allSatisfy({ $0 == $1 })
        else { throw .badMagic(path: path) }

        func u32(_ offset: Int) -> UInt32 {
            UInt32(littleEndian: file.loadUnaligned(fromByteOffset: offset, as: UInt32.self))
        }
        func u64(_ offset: Int) -> UInt64 {
            UInt64(littleEndian: file.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
        }
        func malformed(_ reason: String) -> StoreError { .malformed(path: path, reason: reason) }

        let version = u32(O.version)
        guard version >= StoreFormat.oldestReadableVersion, version <= StoreFormat.version else {
            throw .unsupportedVersion(path: path, found: version)
        }

        let computed = Checksum.of(UnsafeRawBufferPointer(rebasing: file[..<StoreFormat.headerChecksumOffset]))
        let stored = UnsafeRawBufferPointer(rebasing: file[StoreFormat.headerChecksumOffset..<size])
        guard Checksum.matches(stored, computed) else { throw .checksumMismatch(path: path, section: .header) }

        // Past the checksum, a bad field means a writer bug or a forged header: say which.
        guard u32(O.headerSize) == UInt32(size) else { throw malformed("header size \(u32(O.headerSize)), expected \(size)") }
        guard u32(O.bucketSize) == UInt32(StoreFormat.bucketSize) else {
            throw malformed("bucket size \(u32(O.bucketSize)), expected \(StoreFormat.bucketSize)")
        }
        let recordSize = UInt16(littleEndian: file.loadUnaligned(fromByteOffset: O.recordSize, as: UInt16.self))
        guard recordSize == UInt16(StoreFormat.recordSize) else {
            throw malformed("record size \(recordSize), expected \(StoreFormat.recordSize)")
        }
        let flags = file[O.flags]
        guard flags & ~StoreFormat.Flag.all == 0 else { throw malformed("unknown header flags \(flags)") }
        let padding = version >= 3 ? O.padding : O.sequence
        guard file[padding..<StoreFormat.headerChecksumOffset].allSatisfy({ $0 == 0 })
        else { throw malformed("reserved header bytes are not zero") }

        let entryCount = u64(O.entryCount)
        let homeBuckets = u64(O.homeBuckets)
        let bucketCount = u64(O.bucketCount)
        let maxSpill = u64(O.maxSpill)
        let slots = UInt64(StoreFormat.slotsPerBucket)
        guard homeBuckets >= 1 else { throw malformed("no home buckets") }
        guard bucketCount >= homeBuckets else {
            throw malformed("\(bucketCount) buckets are fewer than the \(homeBuckets) home buckets")
        }
        guard entryCount <= UInt64(UInt32.max) else { throw malformed("\(entryCount) entries exceed 2³² − 1") }
        // The last bucket is never full, so n < 7 × buckets; the tail holds spilled entries
        // only (full buckets) and at most one more bucket.
        let room = bucketCount.multipliedReportingOverflow(by: slots)
        guard room.overflow || entryCount < room.partialValue else {
            throw malformed("\(entryCount) entries do not fit \(bucketCount) buckets with the last one not full")
        }
        guard bucketCount - homeBuckets <= entryCount / slots + 1 else {
            throw malformed("\(bucketCount - homeBuckets) tail buckets for \(entryCount) entries")
        }
        guard maxSpill < bucketCount else { throw malformed("max spill \(maxSpill) reaches past the \(bucketCount) buckets") }
        let ipv4 = u64(O.ipv4Prefixes)
        guard ipv4 >> 32 == 0 else { throw malformed("IPv4 prefix bitmap has lengths ≥ 32") }

        // Checked arithmetic: 4096 + buckets × 64 + entries × 24.
        let hot = bucketCount.multipliedReportingOverflow(by: UInt64(StoreFormat.bucketSize))
        let cold = entryCount.multipliedReportingOverflow(by: UInt64(StoreFormat.recordSize))
        let body = hot.partialValue.addingReportingOverflow(cold.partialValue)
        let total = body.partialValue.addingReportingOverflow(UInt64(size))
        guard !hot.overflow, !cold.overflow, !body.overflow, !total.overflow, total.partialValue <= UInt64(Int.max) else {
            throw malformed("\(bucketCount) buckets and \(entryCount) records overflow the file size")
        }
        let expected = Int(total.partialValue)
        if fileSize < expected { throw .truncated(path: path, expected: expected, actual: fileSize) }
        if fileSize > expected { throw .sizeMismatch(path: path, expected: expected, actual: fileSize) }

        return SnapshotHeader(
            canonicalizerVersion: file[O.canonicalizerVersion],
            hasSubdomainEntries: flags & StoreFormat.Flag.subdomainEntries != 0,
            keyID: u64(O.keyID), entryCount: Int(entryCount), homeBuckets: Int(homeBuckets),
            bucketCount: Int(bucketCount), maxSpill: Int(maxSpill), createdAt: u64(O.createdAt),
            prefixes: NetworkPrefixes(ipv4: ipv4, ipv6Low: u64(O.ipv6Prefixes), ipv6High: u64(O.ipv6Prefixes + 8)),
            bodyChecksum: Array(file[O.bodyChecksum..<(O.bodyChecksum + StoreFormat.checksumSize)]),
            sequence: version >= 3 ? u64(O.sequence) : 0, formatVersion: version)
    }
}
