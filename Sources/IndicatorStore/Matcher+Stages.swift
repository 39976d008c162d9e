import CHubShim
internal import CHubSipHash
import IndicatorKit

/// The lean stages: the matcher's stages after the digests in C (CHubSipHash `probe.c`), for
/// a snapshot and any delta layers (a probe the delta knows is answered by the newest layer
/// that has it, as `LiveState.lookup` answers). Per value
/// of a batch the general stages built a `Probe` and a `ValueState` from the fast path's result
/// in Swift (≈ 49 instructions), scanned the bucket with seven compares (≈ 54) and resolved in
/// Swift (≈ 58); here one C loop files the exact probes and prefetches their home buckets, one
/// scans the buckets (AVX2 compares four fingerprints at once) and prefetches the cold
/// records, one resolves. A value the fast path declined, or whose type has covering probes in
/// this state (networks, parent domains), is digested by the general code between two C runs;
/// the scan and resolve handle every probe kind. Same answers as the general stages
/// (`MatcherStagesTests` compares them on random tables, `MatcherLiveTests` on live states),
/// which remain for builds whose layouts differ.
extension Matcher {
    /// First stage, lean: as `digestBatch` followed by `prefetchHomeBuckets`. Returns the
    /// number of probes and whether the C loop filed every value (one exact probe each, the
    /// value's type in the probe): then no states are written (`resolveBatch(exactOnly:)`).
    func digestLeanBatch(
        _ values: UnsafeBufferPointer<UnsafeBufferPointer<UInt8>>, types: UnsafeBufferPointer<IndicatorType?>?,
        range: Range<Int>, stage: Int
    ) -> (probes: Int, exactOnly: Bool) {
        let states = self.states.baseAddress! + stage * batchSize
        let probeBase = stage * batchSize * Self.maxProbesPerValue
        let count = range.count
        let cProbes = UnsafeMutableRawPointer(probes.baseAddress!).assumingMemoryBound(to: chub_probe.self)
        // Every value accepted and exact: its probe filed by the digest pass (value i at
        // probeBase + i), no results read back.
        if key.canonicalDigestProbes(
            values, types: types, range: range, into: fast, covering: coveringCodes,
            probes: UnsafeMutableRawPointer(cProbes + probeBase), table: UnsafeRawPointer(stageTable))
        {
            return (count, true)
        }
        let results = UnsafeRawPointer(fast.results).assumingMemoryBound(to: chub_fast_digest.self)
        let cStates = UnsafeMutableRawPointer(states).assumingMemoryBound(to: chub_value_state.self)
        var next = probeBase
        var slot = chub_stage_exact_probes(results, 0, count, coveringCodes, cProbes, &next, nil, stageTable)
        guard slot < count else { return (next - probeBase, true) }
        // A value for the general code: the states of the values before it, then on as usual.
        chub_stage_exact_states(cProbes, probeBase, slot, cStates)
        var general = 0
        while slot < count {
            digestValue(values, types: types, range: range, slot: slot, result: fast.results[slot], into: states,
                        at: &next)
            generalSlots[general] = slot
            general &+= 1
            slot = chub_stage_exact_probes(results, slot &+ 1, count, coveringCodes, cProbes, &next, cStates, stageTable)
        }
        // The general values' probes, prefetched back to back after the digests.
        let table = self.table
        let probes = self.probes.baseAddress!
        for index in 0..<general {
            let state = states[generalSlots[index]]
            guard state.count > 0 else { continue }
            for probe in Int(state.first)..<Int(state.first + state.count) {
                chub_prefetch(table.homeAddress(lo: probes[probe].lo))
                for layer in delta { chub_prefetch(layer.prefetchAddress(lo: probes[probe].lo)) }
            }
        }
        return (next - probeBase, false)
    }

    /// Second stage, lean: `locateBatch`.
    @inline(__always)
    func locateLean(_ probes: UnsafeMutablePointer<Probe>, count: Int) {
        chub_stage_locate(
            stageAVX2, stageTable, UnsafeMutableRawPointer(probes).assumingMemoryBound(to: chub_probe.self), count)
    }

    /// Third stage, lean: `resolveBatch`.
    @inline(__always)
    func resolveLean(
        stage: Int, count: Int, now: UInt32, into records: UnsafeMutablePointer<MatchRecord>, exactOnly: Bool
    ) {
        let cProbes = UnsafeRawPointer(probes.baseAddress!).assumingMemoryBound(to: chub_probe.self)
        let cRecords = UnsafeMutableRawPointer(records).assumingMemoryBound(to: chub_match_record.self)
        if exactOnly {
            chub_stage_resolve_exact(
                stageTable, cProbes + stage * batchSize * Self.maxProbesPerValue, count, now, StageLayout.codes!, cRecords)
            return
        }
        chub_stage_resolve(
            stageTable, cProbes, UnsafeRawPointer(states.baseAddress! + stage * batchSize).assumingMemoryBound(
                to: chub_value_state.self), count, now, StageLayout.codes!, cRecords)
    }

    /// Whether the lean stages answer.
    static func leanApplies(generalOnly: Bool) -> Bool {
        !generalOnly && StageLayout.codes != nil
    }

    /// `table` and the delta layers for the C stages.
    static func stageTable(_ table: BucketTable, _ deltas: StageDeltas? = nil) -> chub_table {
        chub_table(
            buckets: table.buckets.assumingMemoryBound(to: UInt8.self),
            records: table.records.assumingMemoryBound(to: UInt8.self), home_buckets: table.homeBuckets,
            last_bucket: Int64(table.lastBucket), entry_count: Int64(table.entryCount),
            deltas: deltas.map { UnsafePointer($0.layers) }, delta_count: Int64(deltas?.count ?? 0))
    }

    /// `coveringTypes` (bits by raw value) as bits by the types' bytes in memory.
    static func coveringCodes(_ coveringTypes: UInt32) -> UInt64 {
        guard StageLayout.codes != nil else { return 0 }
        var codes: UInt64 = 0
        for type in [IndicatorType.ipv4, .domain] where coveringTypes &>> UInt32(type.rawValue) & 1 != 0 {
            codes |= 1 << UInt64(StageLayout.byte(type) & 63)
        }
        return codes
    }

    /// Test seam: whether the lean stages answer (this build's layouts hold; with or without delta layers).
    package var usesLeanStages: Bool { lean }
}

/// A state's delta layers (newest first) as the C stages read them: each layer's slot array and
/// mask. Owns the array; the slots belong to the `DeltaIndex`es, which the matcher's `delta`
/// keeps alive as long as this.
final class StageDeltas {
    let layers: UnsafeMutablePointer<chub_delta>
    let count: Int

    init(_ delta: [DeltaIndex]) {
        count = delta.count
        layers = .allocate(capacity: max(count, 1))
        for (index, layer) in delta.enumerated() {
            (layers + index).initialize(to: chub_delta(
                slots: layer.slotWords, mask: layer.slotMask, filter: layer.filterWords, filter_mask: layer.filterBitMask))
        }
    }

    deinit { layers.deallocate() }
}

/// Whether the C stages can read and write this build's Swift values in place: `Probe`,
/// `ValueState` and `MatchRecord` with the layouts of `chub_probe`, `chub_value_state` and
/// `chub_match_record`, the fast path's `FastDigest` with that of `chub_fast_digest`, and
/// `IndicatorType` and `MatchRecord.Status` one byte each. Swift does not promise struct
/// layouts on Linux, so this is checked once, at run time; when it fails (nil) the matcher keeps
/// the general stages.
enum StageLayout {
    static let codes: chub_record_codes? = {
        /// Field `a` of a Swift type sits at the offset of field `c` of its C twin.
        func same<A, B, V, W>(_ a: KeyPath<A, V>, _ c: KeyPath<B, W>) -> Bool {
            MemoryLayout<A>.offset(of: a) == MemoryLayout<B>.offset(of: c)
        }
        guard MemoryLayout<Probe>.stride == MemoryLayout<chub_probe>.stride,
            same(\Probe.lo, \chub_probe.lo), same(\Probe.hi, \chub_probe.hi), same(\Probe.kind, \chub_probe.kind),
            same(\Probe.detail, \chub_probe.detail), same(\Probe.type, \chub_probe.type),
            same(\Probe.entry, \chub_probe.entry),
            MemoryLayout<Int>.size == 8,
            MemoryLayout<ValueState>.stride == MemoryLayout<chub_value_state>.stride,
            same(\ValueState.type, \chub_value_state.type), same(\ValueState.first, \chub_value_state.first),
            same(\ValueState.count, \chub_value_state.count),
            MemoryLayout<MatchRecord>.stride == MemoryLayout<chub_match_record>.stride,
            same(\MatchRecord.status, \chub_match_record.status), same(\MatchRecord.type, \chub_match_record.type),
            same(\MatchRecord.kindCode, \chub_match_record.kind), same(\MatchRecord.detail, \chub_match_record.detail),
            same(\MatchRecord.word2, \chub_match_record.word2), same(\MatchRecord.word3, \chub_match_record.word3),
            same(\MatchRecord.digestLo, \chub_match_record.lo), same(\MatchRecord.digestHi, \chub_match_record.hi),
            MemoryLayout<FastDigest>.stride == MemoryLayout<chub_fast_digest>.stride,
            same(\FastDigest.lo, \chub_fast_digest.lo), same(\FastDigest.hi, \chub_fast_digest.hi),
            same(\FastDigest.count, \chub_fast_digest.count), same(\FastDigest.type, \chub_fast_digest.type),
            MemoryLayout<IndicatorType>.size == 1, MemoryLayout<MatchRecord.Status>.size == 1
        else { return nil }
        // The bytes C writes must read back as the values they stand for.
        let codes = chub_record_codes(
            refused: byte(MatchRecord.Status.refused), miss: byte(MatchRecord.Status.miss),
            hit: byte(MatchRecord.Status.hit), refused_type: byte(IndicatorType.ipv4))
        let record = MatchRecord(status: .hit, type: .domain, kindCode: 2, detail: 7, word2: 0x1122, word3: 0x3344,
                                 digestLo: 0x5566, digestHi: 0x7788)
        let packed = withUnsafeBytes(of: record) { raw in
            raw.load(fromByteOffset: 0, as: UInt32.self) == UInt32(codes.hit) | UInt32(byte(IndicatorType.domain)) << 8
                | 2 << 16 | 7 << 24
                && raw.load(fromByteOffset: 8, as: UInt64.self) == 0x1122
                && raw.load(fromByteOffset: 16, as: UInt64.self) == 0x3344
                && raw.load(fromByteOffset: 24, as: UInt64.self) == 0x5566
                && raw.load(fromByteOffset: 32, as: UInt64.self) == 0x7788
        }
        guard packed, Set([codes.refused, codes.miss, codes.hit]).count == 3 else { return nil }
        return codes
    }()

    /// The byte a one-byte value is stored as.
    static func byte<T>(_ value: T) -> UInt8 {
        precondition(MemoryLayout<T>.size == 1)
        return withUnsafeBytes(of: value) { $0[0] }
    }
}
