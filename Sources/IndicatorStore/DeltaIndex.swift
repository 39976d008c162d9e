import IndicatorKit

/// The lookup index of one immutable delta layer: open addressing on the stored digest's
/// `lo` half — already a keyed pseudo-random value, so it needs no further hashing — with
/// linear probing at a load of at most 1/2. A `Dictionary` probe hashes the 16 bytes with
/// SipHash first; this reads one slot word and one key in the common case.
struct DeltaIndex: Sendable {
    private let mask: Int
    /// Per slot: 1 + the position in `keys`/`values`, or 0 when empty.
    private let slots: [UInt32]
    private let keys: [IndicatorDigest]
    private let values: [DeltaEntry]

    init(_ entries: [IndicatorDigest: DeltaEntry]) {
        var capacity = 4
        while capacity < 2 * entries.count { capacity <<= 1 }
        var slots = [UInt32](repeating: 0, count: capacity)
        var keys: [IndicatorDigest] = []
        var values: [DeltaEntry] = []
        keys.reserveCapacity(entries.count)
        values.reserveCapacity(entries.count)
        let mask = capacity - 1
        for (digest, entry) in entries {
            var slot = Int(truncatingIfNeeded: digest.lo) & mask
            while slots[slot] != 0 { slot = (slot + 1) & mask }
            keys.append(digest)
            values.append(entry)
            slots[slot] = UInt32(keys.count)
        }
        self.mask = mask
        self.slots = slots
        self.keys = keys
        self.values = values
    }

    /// The entry of a stored digest, nil when the layer does not have it.
    @inline(__always)
    func find(_ digest: IndicatorDigest) -> DeltaEntry? {
        var slot = Int(truncatingIfNeeded: digest.lo) & mask
        while true {
            let position = Int(slots[slot])
            if position == 0 { return nil }
            if keys[position - 1] == digest { return values[position - 1] }
            slot = (slot + 1) & mask
        }
    }
}
