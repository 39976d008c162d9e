internal import CHubSipHash
import IndicatorKit

/// The lookup index of one immutable delta layer: open addressing on the stored digest's
/// `lo` half — already a keyed pseudo-random value, so it needs no further hashing — with
/// linear probing at a load of at most 1/2. Each 32-byte slot holds the digest and the
/// entry's two metadata words as the snapshot's cold record encodes them (a tombstone has
/// `tombstoneWord3`), so a lookup, the matcher's included, reads one slot — one cache line,
/// which the matcher prefetches — in the common case. A `Dictionary` probe hashes the 16 bytes
/// with SipHash first and follows references.
///
/// A one-bit-per-position filter on the digest's high `lo` bits (16 positions per entry: about
/// 6 % of absent digests pass it) answers most lookups of digests the layer does not have with
/// one load and a well-predicted branch, before any slot is read: most probes of a live hub
/// are of values its recent uploads do not hold.
///
/// Owns its slot and filter memory (allocated once, immutable after `init`, freed with the
/// index); the raw pointers never leave this type (but for the matcher's C stages).
final class DeltaIndex: @unchecked Sendable {
    private let mask: Int
    /// `capacity` slots of four words: `lo` (0 = empty; a stored digest's `lo` is ≥ 1), `hi`,
    /// metadata word 2, metadata word 3.
    private let slots: UnsafeMutablePointer<UInt64>
    /// `filterMask + 1` bits: bit `Self.filterBit(lo)` is set for every entry.
    private let filter: UnsafeMutablePointer<UInt64>
    private let filterMask: UInt64
    /// Per slot: the position in `values` of its entry.
    private let positions: [UInt32]
    private let values: [DeltaEntry]

    /// `word3` of a tombstone: bit 39 (flags bit 7) is reserved in every metadata word a writer
    /// produces, so no entry has it. The C stages test the same constant.
    static let tombstoneWord3: UInt64 = chub_tombstone_word3

    init(_ entries: [IndicatorDigest: DeltaEntry]) {
        var capacity = 4
        while capacity < 2 * entries.count { capacity <<= 1 }
        let slots = UnsafeMutablePointer<UInt64>.allocate(capacity: 4 * capacity)
        slots.initialize(repeating: 0, count: 4 * capacity)
        var positions = [UInt32](repeating: 0, count: capacity)
        var values: [DeltaEntry] = []
        values.reserveCapacity(entries.count)
        let mask = capacity - 1
        var filterBits = 64
        while filterBits < 16 * entries.count { filterBits <<= 1 }
        let filter = UnsafeMutablePointer<UInt64>.allocate(capacity: filterBits / 64)
        filter.initialize(repeating: 0, count: filterBits / 64)
        let filterMask = UInt64(filterBits - 1)
        for (digest, entry) in entries {
            let bit = Self.filterBit(digest.lo, mask: filterMask)
            filter[Int(bit >> 6)] |= 1 << (bit & 63)
            precondition(digest.lo != 0, "delta digests are stored digests (lo ≥ 1)")
            var slot = Int(truncatingIfNeeded: digest.lo) & mask
            while slots[4 * slot] != 0 { slot = (slot + 1) & mask }
            let (word2, word3) = entry.entry.map(Slot.encode) ?? (0, Self.tombstoneWord3)
            slots[4 * slot] = digest.lo
            slots[4 * slot + 1] = digest.hi
            slots[4 * slot + 2] = word2
            slots[4 * slot + 3] = word3
            positions[slot] = UInt32(values.count)
            values.append(entry)
        }
        self.mask = mask
        self.slots = slots
        self.filter = filter
        self.filterMask = filterMask
        self.positions = positions
        self.values = values
    }

    deinit {
        slots.deallocate()
        filter.deallocate()
    }

    /// The filter position of a stored digest's `lo`: its top bits (the slot index uses the
    /// bottom ones), masked. The C stages compute the same (`probe.c`, `delta_locate`).
    @inline(__always)
    static func filterBit(_ lo: UInt64, mask: UInt64) -> UInt64 { (lo >> 32) & mask }

    /// Whether the filter lets a stored digest's `lo` through (false: the layer does not have it).
    @inline(__always)
    func mayContain(lo: UInt64) -> Bool {
        let bit = Self.filterBit(lo, mask: filterMask)
        return filter[Int(bit >> 6)] >> (bit & 63) & 1 != 0
    }

    /// The slot words and the probe mask, for the matcher's C stages (`StageDeltas`): valid as
    /// long as this index lives.
    var slotWords: UnsafePointer<UInt64> { UnsafePointer(slots) }
    var slotMask: UInt64 { UInt64(mask) }
    var filterWords: UnsafePointer<UInt64> { UnsafePointer(filter) }
    var filterBitMask: UInt64 { filterMask }

    /// The slot of a stored digest, or -1 when the layer does not have it.
    @inline(__always)
    func slot(lo: UInt64, hi: UInt64) -> Int {
        guard mayContain(lo: lo) else { return -1 }
        var slot = Int(truncatingIfNeeded: lo) & mask
        while true {
            let key = slots[4 &* slot]
            if key == 0 { return -1 }
            if key == lo && slots[4 &* slot &+ 1] == hi { return slot }
            slot = (slot &+ 1) & mask
        }
    }

    /// The address a lookup of a stored digest's `lo` reads first: its filter word (for
    /// prefetching; the slot is read only when the filter lets the digest through).
    @inline(__always)
    func prefetchAddress(lo: UInt64) -> UnsafeRawPointer {
        UnsafeRawPointer(filter + Int(truncatingIfNeeded: Self.filterBit(lo, mask: filterMask) >> 6))
    }

    /// The metadata words of slot `slot` (`word3 == tombstoneWord3`: a tombstone).
    @inline(__always)
    func words(at slot: Int) -> (UInt64, UInt64) {
        (slots[4 &* slot &+ 2], slots[4 &* slot &+ 3])
    }

    /// The entry of a stored digest, nil when the layer does not have it.
    func find(_ digest: IndicatorDigest) -> DeltaEntry? {
        let slot = slot(lo: digest.lo, hi: digest.hi)
        return slot < 0 ? nil : values[Int(positions[slot])]
    }
}
