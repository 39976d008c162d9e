/// The structural invariants of a slot array (docs/STORE-FORMAT.md, "What a reader must
/// refuse"). `.full` verification runs them at open; tests run them after every write.
/// O(slots): reads the whole table once.
extension Snapshot {
    /// Throws `.malformed` naming the first slot that breaks a rule:
    /// - an empty slot (zero `lo`) is all zero bytes;
    /// - an occupied slot sits within `[home, home + maxDisplacement]` of its home slot,
    ///   and every slot between its home and it is occupied (or a lookup would stop early);
    /// - occupied digests strictly ascend (no duplicates, the order lookups rely on);
    /// - metadata is well formed (known category, TLP, action; confidence ≤ 100; reserved zero);
    /// - the number of occupied slots is the header's entry count, and the header's
    ///   subdomain flag is set if some entry covers subdomains.
    public func checkInvariants() throws(StoreError) {
        func fail(_ reason: String) -> StoreError { .malformed(path: path, reason: reason) }
        var occupied = 0
        var previous: (lo: UInt64, hi: UInt64)? = nil
        var coversSubdomains = false
        var lastEmpty = -1
        for index in 0..<header.slotCount {
            let lo = table.lo(at: index)
            let hi = table.hi(at: index)
            let (word2, word3) = table.words(at: index)
            guard lo != 0 else {
                guard hi == 0, word2 == 0, word3 == 0 else { throw fail("empty slot \(index) is not all zero") }
                lastEmpty = index
                continue
            }
            occupied += 1
            let home = Slot.home(lo, lines: table.lines)
            guard home <= index else { throw fail("slot \(index) holds an entry whose home slot \(home) is after it") }
            guard index - home <= header.maxDisplacement else {
                throw fail("slot \(index) is \(index - home) slots from its home, max displacement is \(header.maxDisplacement)")
            }
            guard lastEmpty < home else { throw fail("empty slot \(lastEmpty) between slot \(index) and its home \(home)") }
            if let previous {
                guard (previous.lo, previous.hi) < (lo, hi) else { throw fail("slot \(index) is out of digest order") }
            }
            previous = (lo, hi)
            guard Slot.isWellFormed(word2, word3) else { throw fail("slot \(index) has invalid metadata") }
            if Slot.decode(word2, word3).coversSubdomains { coversSubdomains = true }
        }
        guard occupied == header.entryCount else {
            throw fail("\(occupied) occupied slots, header says \(header.entryCount) entries")
        }
        if coversSubdomains && !header.hasSubdomainEntries {
            throw fail("entries cover subdomains but the header flag is not set")
        }
    }
}
