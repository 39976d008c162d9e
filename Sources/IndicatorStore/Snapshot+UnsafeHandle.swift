import IndicatorKit

/// The mapped bytes of a snapshot file: either a shared read-only file mapping or a private
/// anonymous copy. Owns the mapping; unmaps it when released.
final class Mapping: @unchecked Sendable {
    /// The whole file. Its memory is valid for the lifetime of the mapping.
    let bytes: UnsafeRawBufferPointer
    let fileSize: Int
    private let region: UnsafeMutableRawPointer?
    private let regionLength: Int

    private init(bytes: UnsafeRawBufferPointer, fileSize: Int, region: UnsafeMutableRawPointer?, regionLength: Int) {
        self.bytes = bytes
        self.fileSize = fileSize
        self.region = region
        self.regionLength = regionLength
    }

    deinit {
        if let region { Syscalls.munmap(region, length: regionLength) }
    }

    /// Opens and maps `path`. An empty file is represented without a mapping.
    static func open(_ path: String, memory: Snapshot.Memory) throws(StoreError) -> Mapping {
        let fd = try Syscalls.open(path, Syscalls.readOnly)
        defer { Syscalls.close(fd) }
        let size = try Syscalls.fileSize(fd, path: path)
        guard size > 0 else {
            return Mapping(bytes: UnsafeRawBufferPointer(start: nil, count: 0), fileSize: 0, region: nil, regionLength: 0)
        }
        switch memory {
        case .fileMapping(let populate):
            let flags = Syscalls.mapShared | (populate ? Syscalls.mapPopulate : 0)
            let base = try Syscalls.mmap(length: size, protection: Syscalls.protRead, flags: flags, fd: fd, path: path)
            Syscalls.madvise(base, length: size, advice: Syscalls.adviceRandom)
            return Mapping(bytes: UnsafeRawBufferPointer(start: base, count: size), fileSize: size, region: base, regionLength: size)
        case .anonymousCopy(let hugePages):
            // Over-allocate so the slot array (at offset 4096) can start on a 2 MiB boundary,
            // which transparent huge pages need.
            let alignment = 2 << 20
            let length = size + alignment
            let region = try Syscalls.mmap(
                length: length, protection: Syscalls.protReadWrite, flags: Syscalls.mapAnonymous, fd: -1, path: path)
            let raw = UInt(bitPattern: region) + UInt(StoreFormat.headerSize)
            let aligned = (raw + UInt(alignment - 1)) & ~UInt(alignment - 1)
            let base = UnsafeMutableRawPointer(bitPattern: aligned - UInt(StoreFormat.headerSize))!
            if hugePages { Syscalls.madvise(region, length: length, advice: Syscalls.adviceHugePage) }
            do {
                try Syscalls.read(fd, into: UnsafeMutableRawBufferPointer(start: base, count: size), path: path)
            } catch {
                Syscalls.munmap(region, length: length)
                throw error
            }
            return Mapping(bytes: UnsafeRawBufferPointer(start: base, count: size), fileSize: size, region: region, regionLength: length)
        }
    }
}

/// Raw access to the slot array. Valid only while the owning `Snapshot` (and its mapping) is
/// alive; it never escapes IndicatorStore. Every index it is given is within the array: the
/// header check guarantees `home + maxDisplacement < slotCount` for every home.
struct SlotTable {
    let slots: UnsafeRawPointer
    /// Lines in the home range (`capacity / 2`), the multiplier of the home function.
    let lines: UInt64
    let maxDisplacement: Int

    init(slots: UnsafeRawPointer, header: SnapshotHeader) {
        self.slots = slots
        self.lines = UInt64(header.capacity / StoreFormat.slotsPerLine)
        self.maxDisplacement = header.maxDisplacement
    }

    @inline(__always)
    func lo(at index: Int) -> UInt64 {
        UInt64(littleEndian: slots.loadUnaligned(fromByteOffset: index &* StoreFormat.slotSize, as: UInt64.self))
    }

    @inline(__always)
    func hi(at index: Int) -> UInt64 {
        UInt64(littleEndian: slots.loadUnaligned(fromByteOffset: index &* StoreFormat.slotSize &+ 8, as: UInt64.self))
    }

    @inline(__always)
    func isOccupied(_ index: Int) -> Bool { lo(at: index) != 0 }

    @inline(__always)
    func digest(at index: Int) -> IndicatorDigest { IndicatorDigest(lo: lo(at: index), hi: hi(at: index)) }

    @inline(__always)
    func words(at index: Int) -> (UInt64, UInt64) {
        let offset = index &* StoreFormat.slotSize
        return (
            UInt64(littleEndian: slots.loadUnaligned(fromByteOffset: offset &+ 16, as: UInt64.self)),
            UInt64(littleEndian: slots.loadUnaligned(fromByteOffset: offset &+ 24, as: UInt64.self))
        )
    }

    @inline(__always)
    func metadata(at index: Int) -> EntryMetadata {
        let (word2, word3) = words(at: index)
        return Slot.decode(word2, word3)
    }

    /// Expiry of the entry at `index` (0 = never), without decoding the rest.
    @inline(__always)
    func expires(at index: Int) -> UInt32 {
        UInt32(littleEndian: slots.loadUnaligned(fromByteOffset: index &* StoreFormat.slotSize &+ 16, as: UInt32.self))
    }

    /// Address of the home line of a stored digest (for prefetching).
    @inline(__always)
    func homeAddress(lo: UInt64) -> UnsafeRawPointer {
        slots + Slot.home(lo, lines: lines) &* StoreFormat.slotSize
    }

    /// The slot index holding the stored digest (`lo`, `hi`), or -1. The probing rule of
    /// docs/STORE-FORMAT.md: scan from the home slot over at most `maxDisplacement` further
    /// slots, stop at an empty slot or a larger digest (slots are in ascending digest order).
    @inline(__always)
    func find(lo: UInt64, hi: UInt64) -> Int {
        let home = Slot.home(lo, lines: lines)
        return scan(from: home, through: home &+ maxDisplacement, lo: lo, hi: hi)
    }

    /// `find`'s scan over `start...end`.
    @inline(__always)
    func scan(from start: Int, through end: Int, lo: UInt64, hi: UInt64) -> Int {
        var index = start
        while index <= end {
            let slotLo = self.lo(at: index)
            if slotLo == lo {
                let slotHi = self.hi(at: index)
                if slotHi == hi { return index }
                if slotHi > hi { return -1 }
            } else if slotLo > lo || slotLo == 0 {
                return -1
            }
            index &+= 1
        }
        return -1
    }
}
