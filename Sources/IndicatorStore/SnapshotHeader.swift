/// The decoded fixed header of a snapshot (docs/STORE-FORMAT.md, "Header").
///
/// `decode` checks everything that can be checked in O(1): magic, version, header checksum,
/// field ranges, and that the file size is exactly what the header implies. It never reads the
/// slot array.
public struct SnapshotHeader: Equatable, Sendable {
    public var canonicalizerVersion: UInt8
    /// Some domain entry covers its subdomains (lookups probe parent domains).
    public var hasSubdomainEntries: Bool
    public var keyID: UInt64
    public var entryCount: Int
    /// Slots in the home range (even).
    public var capacity: Int
    /// Overflow slots after the home range; at least `maxDisplacement`.
    public var tailSlots: Int
    /// Largest distance of an entry from its home slot; no probe scans further.
    public var maxDisplacement: Int
    /// Unix seconds when the snapshot was written.
    public var createdAt: UInt64
    public var prefixes: NetworkPrefixes
    /// BLAKE2b-256 of the slot array.
    public var bodyChecksum: [UInt8]

    /// Total slots in the file.
    public var slotCount: Int { capacity + tailSlots }

    /// Size of the slot array in bytes.
    public var bodySize: Int { slotCount * StoreFormat.slotSize }

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
                of: UInt32(StoreFormat.slotSize).littleEndian, toByteOffset: O.slotSize, as: UInt32.self)
            raw[O.canonicalizerVersion] = canonicalizerVersion
            raw[O.flags] = hasSubdomainEntries ? StoreFormat.Flag.subdomainEntries : 0
            let words: [(Int, UInt64)] = [
                (O.keyID, keyID), (O.entryCount, UInt64(entryCount)), (O.capacity, UInt64(capacity)),
                (O.tailSlots, UInt64(tailSlots)), (O.maxDisplacement, UInt64(maxDisplacement)),
                (O.createdAt, createdAt), (O.ipv4Prefixes, prefixes.ipv4),
                (O.ipv6Prefixes, prefixes.ipv6Low), (O.ipv6Prefixes + 8, prefixes.ipv6High),
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
        guard version == StoreFormat.version else { throw .unsupportedVersion(path: path, found: version) }

        let computed = Checksum.of(UnsafeRawBufferPointer(rebasing: file[..<StoreFormat.headerChecksumOffset]))
        let stored = UnsafeRawBufferPointer(rebasing: file[StoreFormat.headerChecksumOffset..<size])
        guard Checksum.matches(stored, computed) else { throw .checksumMismatch(path: path, section: .header) }

        // Past the checksum, a bad field means a writer bug or a forged header: say which.
        guard u32(O.headerSize) == UInt32(size) else { throw malformed("header size \(u32(O.headerSize)), expected \(size)") }
        guard u32(O.slotSize) == UInt32(StoreFormat.slotSize) else {
            throw malformed("slot size \(u32(O.slotSize)), expected \(StoreFormat.slotSize)")
        }
        let flags = file[O.flags]
        guard flags & ~StoreFormat.Flag.all == 0 else { throw malformed("unknown header flags \(flags)") }
        guard file[O.reserved] == 0, file[O.reserved + 1] == 0,
            file[O.padding..<StoreFormat.headerChecksumOffset].allSatisfy({ $0 == 0 })
        else { throw malformed("reserved header bytes are not zero") }

        let entryCount = u64(O.entryCount)
        let capacity = u64(O.capacity)
        let tail = u64(O.tailSlots)
        let maxDisplacement = u64(O.maxDisplacement)
        guard capacity >= 2, capacity % 2 == 0 else { throw malformed("capacity \(capacity) is not an even number ≥ 2") }
        guard entryCount <= capacity else { throw malformed("\(entryCount) entries exceed capacity \(capacity)") }
        guard maxDisplacement <= tail else {
            throw malformed("max displacement \(maxDisplacement) exceeds the \(tail) tail slots")
        }
        guard tail <= entryCount else { throw malformed("\(tail) tail slots for \(entryCount) entries") }
        let ipv4 = u64(O.ipv4Prefixes)
        guard ipv4 >> 32 == 0 else { throw malformed("IPv4 prefix bitmap has lengths ≥ 32") }

        // capacity ≤ 2⁶⁴ and tail ≤ capacity: checked arithmetic from here on.
        let slots = capacity.addingReportingOverflow(tail)
        let body = slots.partialValue.multipliedReportingOverflow(by: UInt64(StoreFormat.slotSize))
        let total = body.partialValue.addingReportingOverflow(UInt64(size))
        guard !slots.overflow, !body.overflow, !total.overflow, total.partialValue <= UInt64(Int.max) else {
            throw malformed("capacity \(capacity) + \(tail) tail slots overflow the file size")
        }
        let expected = Int(total.partialValue)
        if fileSize < expected { throw .truncated(path: path, expected: expected, actual: fileSize) }
        if fileSize > expected { throw .sizeMismatch(path: path, expected: expected, actual: fileSize) }

        return SnapshotHeader(
            canonicalizerVersion: file[O.canonicalizerVersion],
            hasSubdomainEntries: flags & StoreFormat.Flag.subdomainEntries != 0,
            keyID: u64(O.keyID), entryCount: Int(entryCount), capacity: Int(capacity),
            tailSlots: Int(tail), maxDisplacement: Int(maxDisplacement), createdAt: u64(O.createdAt),
            prefixes: NetworkPrefixes(ipv4: ipv4, ipv6Low: u64(O.ipv6Prefixes), ipv6High: u64(O.ipv6Prefixes + 8)),
            bodyChecksum: Array(file[O.bodyChecksum..<(O.bodyChecksum + StoreFormat.checksumSize)]))
    }
}
