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
            // Over-allocate so the bucket array (at offset 4096) can start on a 2 MiB boundary,
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

/// Raw access to the bucket array (hot) and the cold records of an open snapshot
/// (docs/STORE-FORMAT.md). Valid only while the owning `Snapshot` (and its mapping) is alive;
/// it never escapes IndicatorStore. Every read stays inside the file even when the body is
/// corrupted (a header-only open): scans stop at the last bucket, counts are clamped to 7 and
/// cold indexes are checked against the entry count.
struct BucketTable {
    /// The first bucket (64-byte aligned: the file mapping is page-aligned).
    let buckets: UnsafeRawPointer
    /// The first cold record.
    let records: UnsafeRawPointer
    /// Home buckets: the multiplier of the home function.
    let homeBuckets: UInt64
    /// Index of the last bucket; no scan goes past it.
    let lastBucket: Int
    let entryCount: Int

    init(file: UnsafeRawPointer, header: SnapshotHeader) {
        self.buckets = file + StoreFormat.headerSize
        self.records = file + header.recordsOffset
        self.homeBuckets = UInt64(header.homeBuckets)
        self.lastBucket = header.bucketCount - 1
        self.entryCount = header.entryCount
    }

    private init(buckets: UnsafeRawPointer, homeBuckets: UInt64) {
        self.buckets = buckets
        self.records = buckets
        self.homeBuckets = homeBuckets
        self.lastBucket = 0
        self.entryCount = 0
    }

    /// A table of one empty bucket and no records (what a store without a snapshot probes:
    /// every lookup misses). Its memory lives as long as the process.
    nonisolated(unsafe) static let empty: BucketTable = {
        let memory = UnsafeMutableRawPointer.allocate(byteCount: StoreFormat.bucketSize, alignment: 64)
        memory.initializeMemory(as: UInt8.self, repeating: 0, count: StoreFormat.bucketSize)
        return BucketTable(buckets: memory, homeBuckets: 1)
    }()

    /// Address of bucket `index`.
    @inline(__always)
    func bucket(_ index: Int) -> UnsafeRawPointer { buckets + index &* StoreFormat.bucketSize }

    /// The bucket header as one word: `base` in the low 32 bits, `count` in bits 32..<40.
    @inline(__always)
    func headerWord(_ index: Int) -> UInt64 {
        UInt64(littleEndian: bucket(index).loadUnaligned(as: UInt64.self))
    }

    /// Cold index of bucket `index`'s first entry.
    @inline(__always)
    func base(_ index: Int) -> Int { Int(truncatingIfNeeded: UInt32(truncatingIfNeeded: headerWord(index))) }

    /// Occupied slots of bucket `index` as stored (a writer never stores more than 7).
    @inline(__always)
    func rawCount(_ index: Int) -> Int { Int(truncatingIfNeeded: (headerWord(index) >> 32) & 0xFF) }

    /// Fingerprint (`lo`) in slot `slot` of bucket `index`.
    @inline(__always)
    func fingerprint(_ index: Int, _ slot: Int) -> UInt64 {
        UInt64(littleEndian: bucket(index).loadUnaligned(
            fromByteOffset: StoreFormat.BucketOffset.fingerprints &+ slot &* 8, as: UInt64.self))
    }

    /// Address of cold record `entry` (for prefetching).
    @inline(__always)
    func recordAddress(_ entry: Int) -> UnsafeRawPointer { records + entry &* StoreFormat.recordSize }

    /// Digest `hi` of cold record `entry` (`entry < entryCount`).
    @inline(__always)
    func hi(at entry: Int) -> UInt64 {
        UInt64(littleEndian: recordAddress(entry).loadUnaligned(as: UInt64.self))
    }

    /// The two metadata words of cold record `entry` (`entry < entryCount`).
    @inline(__always)
    func words(at entry: Int) -> (UInt64, UInt64) {
        let record = recordAddress(entry)
        return (
            UInt64(littleEndian: record.loadUnaligned(fromByteOffset: 8, as: UInt64.self)),
            UInt64(littleEndian: record.loadUnaligned(fromByteOffset: 16, as: UInt64.self))
        )
    }

    @inline(__always)
    func metadata(at entry: Int) -> EntryMetadata {
        let (word2, word3) = words(at: entry)
        return Slot.decode(word2, word3)
    }

    /// Address of the home bucket of a stored digest (for prefetching).
    @inline(__always)
    func homeAddress(lo: UInt64) -> UnsafeRawPointer {
        bucket(Bucket.home(lo, homeBuckets: homeBuckets))
    }

    /// The cold index of the first entry whose fingerprint is `lo`, or -1 if there is none.
    /// The lookup rule of docs/STORE-FORMAT.md without the `hi` comparison: scan the home
    /// bucket from slot 0; a smaller fingerprint → next slot, equal → found, larger → absent;
    /// past the last occupied slot, continue with the next bucket only if this one is full.
    @inline(__always)
    func locate(lo: UInt64) -> Int {
        locate(lo: lo, from: Bucket.home(lo, homeBuckets: homeBuckets))
    }

    @inline(__always)
    func locate(lo: UInt64, from home: Int) -> Int {
        var index = home
        while true {
            let word = headerWord(index)
            let count = min(Int(truncatingIfNeeded: (word >> 32) & 0xFF), StoreFormat.slotsPerBucket)
            // Branch-free: count the slots below `lo`. Unused slots are zero and a stored `lo`
            // is ≥ 1, so they count too; subtracting them leaves the position of the first
            // occupied fingerprint ≥ `lo` (clamped, so a corrupted bucket stays in bounds).
            var below = 0
            for slot in 0..<StoreFormat.slotsPerBucket {
                below &+= fingerprint(index, slot) < lo ? 1 : 0
            }
            let position = max(0, below &- (StoreFormat.slotsPerBucket &- count))
            if position < count {
                guard fingerprint(index, position) == lo else { return -1 }
                let entry = Int(truncatingIfNeeded: UInt32(truncatingIfNeeded: word)) &+ position
                return entry < entryCount ? entry : -1
            }
            if count < StoreFormat.slotsPerBucket || index >= lastBucket { return -1 }
            index &+= 1
        }
    }

    /// The cold index of the stored digest (`lo`, `hi`), or -1: `locate`, then each entry with
    /// an equal fingerprint (several digests may share a `lo`) is confirmed by its cold `hi`.
    @inline(__always)
    func find(lo: UInt64, hi: UInt64) -> Int {
        var index = Bucket.home(lo, homeBuckets: homeBuckets)
        while true {
            let word = headerWord(index)
            let count = min(Int(truncatingIfNeeded: (word >> 32) & 0xFF), StoreFormat.slotsPerBucket)
            var slot = 0
            while slot < count {
                let fingerprint = self.fingerprint(index, slot)
                if fingerprint >= lo {
                    guard fingerprint == lo else { return -1 }
                    let entry = Int(truncatingIfNeeded: UInt32(truncatingIfNeeded: word)) &+ slot
                    if entry < entryCount && self.hi(at: entry) == hi { return entry }
                }
                slot &+= 1
            }
            if count < StoreFormat.slotsPerBucket || index >= lastBucket { return -1 }
            index &+= 1
        }
    }
}
