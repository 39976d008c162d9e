import CHubShim
import IndicatorKit

/// The matcher's last two stages: scan each probe's bucket, then confirm and resolve each value.
///
/// Whether a value is listed is as random as the traffic, so neither stage branches on it: the
/// bucket scan selects its answer, a missing entry reads a zero record kept for that purpose
/// (`absentRecord`) instead of skipping the read, and a value's last probe writes its record by
/// selecting fields. The branches left are taken the same way nearly every time (a full bucket
/// to continue from, a fingerprint whose cold `hi` differs, more probes to try).
extension Matcher {
    /// Second stage: scans the (prefetched) bucket of every probe of `stage` for its
    /// fingerprint and prefetches the cold record it found — both of its lines, as one in four
    /// 24-byte records straddles a line boundary. A probe that found none prefetches record 0
    /// (a prefetch never faults, and one line read for nothing costs less than a mispredicted
    /// branch).
    func locateBatch(stage: Int, count: Int) {
        let table = self.table
        let probes = self.probes.baseAddress! + stage * batchSize * Self.maxProbesPerValue
        for index in 0..<count {
            let entry = Self.locate(table, lo: probes[index].lo)
            probes[index].entry = entry
            let record = table.recordAddress(max(entry, 0))
            chub_prefetch(record)
            chub_prefetch(record + (StoreFormat.recordSize - 1))
        }
    }

    /// `BucketTable.locate(lo:)` (the same answer: the cold index of the first entry whose
    /// fingerprint is `lo`, or -1) with no branch on the answer: the position of the first
    /// fingerprint ≥ `lo` is counted as there, then the result selected. Only a full bucket
    /// whose fingerprints are all below `lo` continues to the next one.
    @inline(__always)
    static func locate(_ table: BucketTable, lo: UInt64) -> Int {
        let slots = StoreFormat.slotsPerBucket
        var index = Bucket.home(lo, homeBuckets: table.homeBuckets)
        while true {
            let word = table.headerWord(index)
            let count = min(Int(truncatingIfNeeded: (word >> 32) & 0xFF), slots)
            var below = 0
            for slot in 0..<slots {
                below &+= table.fingerprint(index, slot) < lo ? 1 : 0
            }
            // Unused slots are zero and count as below; a stored `lo` is ≥ 1.
            let position = max(0, below &- (slots &- count))
            // position == slots only when the bucket is full and every fingerprint is below.
            if position == slots && index < table.lastBucket {
                index &+= 1
                continue
            }
            let entry = Int(truncatingIfNeeded: UInt32(truncatingIfNeeded: word)) &+ position
            let found = (position < count ? 1 : 0)
                & (table.fingerprint(index, min(position, slots &- 1)) == lo ? 1 : 0)
                & (entry < table.entryCount ? 1 : 0)
            // `found ? entry : -1` as arithmetic: the compiler turns the select into a branch.
            return entry | (found &- 1)
        }
    }

    /// Third stage: writes the record of every value of `stage`, in order, to `records`.
    func resolveBatch(stage: Int, count: Int, now: UInt32, into records: UnsafeMutablePointer<MatchRecord>) {
        let states = self.states.baseAddress! + stage * batchSize
        for slot in 0..<count {
            let state = states[slot]
            records[slot] = state.count < 0 ? .refused : resolve(state, now: now)
        }
    }

    /// The first probe of `state` that finds a live entry (a parent only if it covers
    /// subdomains), or a miss. A located fingerprint is confirmed by the cold record's `hi`;
    /// when that differs (another digest with the same `lo`), the full lookup decides. Reads
    /// the entry's metadata words once; decoding waits for the caller.
    @inline(__always)
    func resolve(_ state: ValueState, now: UInt32) -> MatchRecord {
        guard state.count > 0 else { return .miss(state.type) }
        let table = self.table
        let probes = self.probes
        var index = Int(state.first)
        let last = index &+ Int(state.count) &- 1
        while true {
            let probe = probes[index]
            var entry = probe.entry
            if entry == Probe.unscanned { entry = table.find(lo: probe.lo, hi: probe.hi) }
            var record = Self.record(table, entry, absent: absentRecord)
            let storedHi = UInt64(littleEndian: record.loadUnaligned(as: UInt64.self))
            if (entry >= 0 ? 1 : 0) & (storedHi != probe.hi ? 1 : 0) != 0 {
                // Another digest with the same fingerprint (rare): the full lookup decides.
                entry = table.find(lo: probe.lo, hi: probe.hi)
                record = Self.record(table, entry, absent: absentRecord)
            }
            // Found now means confirmed; the absent record's words are zero.
            let word2 = UInt64(littleEndian: record.loadUnaligned(fromByteOffset: 8, as: UInt64.self))
            let word3 = UInt64(littleEndian: record.loadUnaligned(fromByteOffset: 16, as: UInt64.self))
            let expires = UInt32(truncatingIfNeeded: word2)
            let live = (entry >= 0 ? 1 : 0)
                & (expires == 0 || now < expires ? 1 : 0)
                & (probe.kind != Probe.parent || Slot.coversSubdomains(word3) ? 1 : 0)
            if live != 0 || index == last {
                let keep = UInt64(0) &- UInt64(truncatingIfNeeded: live)
                let keepByte = UInt8(truncatingIfNeeded: keep)
                return MatchRecord(
                    status: live != 0 ? .hit : .miss, type: state.type, kindCode: probe.kind & keepByte,
                    detail: probe.detail & keepByte, word2: word2 & keep, word3: word3 & keep,
                    digestLo: probe.lo & keep, digestHi: probe.hi & keep)
            }
            index &+= 1
        }
    }

    /// The cold record of `entry`, or `absent` when `entry` is negative: selected with masks, as
    /// the compiler turns a select between two addresses into a branch.
    @inline(__always)
    static func record(_ table: BucketTable, _ entry: Int, absent: UnsafeMutableRawPointer) -> UnsafeRawPointer {
        let negative = UInt(bitPattern: entry &>> (Int.bitWidth &- 1))  // all ones when entry < 0
        let found = UInt(bitPattern: table.recordAddress(entry & ~Int(bitPattern: negative)))
        return UnsafeRawPointer(bitPattern: found & ~negative | UInt(bitPattern: absent) & negative)!
    }
}
