internal import CHubSipHash
public import IndicatorKit

/// How a value matched.
public enum MatchKind: Equatable, Hashable, Sendable {
    /// The value's own canonical form is listed.
    case exact
    /// A listed IP network (CIDR range) of this prefix length contains the address.
    case network(prefixLength: UInt8)
    /// A listed domain covering its subdomains is this many labels above the value.
    case parent(levels: UInt8)
    /// A listed URL expression covers the value: a host suffix and/or path prefix of it, as
    /// Safe Browsing matches (`http://evil.example/` covers every URL on that host).
    case urlExpression
}

/// The answer for one value.
public enum MatchResult: Equatable, Sendable {
    /// The value is not a valid indicator; the error says why.
    case refused(IndicatorError)
    /// Valid, of this type, and not listed (or only by expired entries).
    case miss(IndicatorType)
    /// Listed: the metadata of the matching entry and which probe matched.
    case hit(IndicatorType, EntryMetadata, MatchKind)
}

/// Answers batches of raw values against a live state — a snapshot (or none) and the delta
/// layers of a `LiveStore` — or a snapshot alone: canonicalise, digest every probe (the value,
/// its covering networks, its parent domains), prefetch the home buckets (and the delta
/// layers' filter words) of the whole batch; then scan each probe's bucket and prefetch the cold
/// record of a matching fingerprint; then confirm and resolve. The answer for every probe is
/// `LiveState.lookup`'s: the delta's entry wins, a tombstone hides the snapshot's entry, and
/// expired entries never match. The stages are the lean ones in C (`Matcher+Stages.swift`)
/// where this build's layouts allow, with or without delta layers, the general Swift ones
/// otherwise, with the same answers.
///
/// A matcher owns scratch memory and is not thread-safe: use one per thread (they can share
/// the state). Switch to a newer state between two calls with `use(_:)`. The record API
/// (`match(_:types:now:into:)` with `MatchRecord`s) does not allocate per lookup; the
/// `MatchResult` conveniences allocate, and rebuild the reason of a refused value.
public final class Matcher {
    /// The live state answered from (`use(_:)` replaces it).
    public private(set) var state: LiveState
    /// The snapshot answered from (nil: none, only the delta).
    public var snapshot: Snapshot? { state.snapshot }
    /// Values whose probes are prefetched together. Batches are pipelined three deep: while
    /// one batch is canonicalised and digested (its home buckets prefetched), the previous
    /// one's buckets are scanned (the cold records of matching fingerprints prefetched) and the
    /// one before is confirmed and resolved, so memory latency hides behind computation.
    public let batchSize: Int

    let key: DigestKey
    /// Derived from `state` (`use(_:)` recomputes them): the snapshot's bucket table (an
    /// empty one without a snapshot), the delta layers' indexes (newest first), the network
    /// lengths and subdomain flag of snapshot and delta together.
    private(set) var table: BucketTable
    private(set) var delta: [DeltaIndex]
    private(set) var prefixes: NetworkPrefixes
    private(set) var probeParents: Bool
    /// Bit `type.rawValue` set for the types the fast path accepts whose values have covering
    /// probes in this state (IPv4 networks, parent domains).
    private(set) var coveringTypes: UInt32
    /// Scan the buckets and prefetch cold records in a stage of their own (the default);
    /// without it, the last stage scans and reads the cold record at once (benchmark mode).
    let coldStage: Bool
    /// Digest the raw bytes as given instead of canonicalising (benchmark mode).
    let rawDigests: Bool

    /// Scratch space for one canonical form, after two bytes of headroom for the digest's
    /// `version ‖ type` prefix (so digests are computed without copying).
    let canonical: UnsafeMutableBufferPointer<UInt8>
    /// The fast path's scratch and results for one batch.
    let fast: FastDigestBatch
    /// Headroom + masked address + prefix byte of a network probe.
    let networkBody: UnsafeMutableBufferPointer<UInt8>
    /// Probes of the current batch, in priority order per value; room for the most a batch
    /// can need (`maxProbesPerValue` each).
    let probes: UnsafeMutableBufferPointer<Probe>
    /// An IPv6 address: itself + 128 network lengths; a domain of 253 bytes: itself + 126 parents.
    static let maxProbesPerValue = 130
    /// Per value of the current batch: type and probe range, or the refusal.
    let states: UnsafeMutableBufferPointer<ValueState>
    /// Batches in flight (digested, scanned ahead, resolved).
    static let stages = 3

    /// The lean stages (`Matcher+Stages.swift`) answer the batches: this
    /// build's layouts checked (`StageLayout`), and not `generalStagesOnly`.
    private(set) var lean: Bool
    /// Tests: answer with the general (Swift) stages even where the lean ones apply.
    package var generalStagesOnly = false {
        didSet { lean = Self.leanApplies(generalOnly: generalStagesOnly) }
    }
    /// `table` as the C stages read it (rewritten by `use(_:)`).
    let stageTable: UnsafeMutablePointer<chub_table>
    /// The delta layers as the C stages read them (`stageTable` points into it).
    private var stageDeltas: StageDeltas
    /// Bit `b` set for the `IndicatorType` bytes `b` whose fast-path values need covering probes
    /// (`coveringTypes` in the C stages' terms).
    private(set) var coveringCodes: UInt64
    /// The lean bucket scan compares with AVX2 (the CPU has it).
    let stageAVX2: Int32
    /// The slots of the current batch the lean first stage left to the general path.
    let generalSlots: UnsafeMutablePointer<Int>

    /// A matcher for `snapshot`, which must have been built with `key`.
    public convenience init(snapshot: Snapshot, key: DigestKey, batchSize: Int = 32) throws(StoreError) {
        try self.init(state: LiveState(snapshot: snapshot), key: key, batchSize: batchSize, rawDigests: false)
    }

    /// A matcher for a live store's `state` (`LiveStore.view()`), whose snapshot, if any, must
    /// have been built with `key`.
    public convenience init(state: LiveState, key: DigestKey, batchSize: Int = 32) throws(StoreError) {
        try self.init(state: state, key: key, batchSize: batchSize, rawDigests: false)
    }

    /// With `rawDigests`, values are digested as given (typed, not canonicalised): the
    /// benchmark's `--no-canonicalize` mode, to measure digest + probe alone. Without
    /// `coldStage`, buckets are scanned and cold records read in the last stage (benchmark
    /// `--no-cold-stage`).
    package convenience init(
        snapshot: Snapshot, key: DigestKey, batchSize: Int, rawDigests: Bool, coldStage: Bool = true
    ) throws(StoreError) {
        try self.init(state: LiveState(snapshot: snapshot), key: key, batchSize: batchSize, rawDigests: rawDigests,
                      coldStage: coldStage)
    }

    package init(
        state: LiveState, key: DigestKey, batchSize: Int, rawDigests: Bool, coldStage: Bool = true
    ) throws(StoreError) {
        if let snapshot = state.snapshot, snapshot.header.keyID != key.id {
            throw .keyMismatch(path: snapshot.path, expected: key.id, found: snapshot.header.keyID)
        }
        precondition(batchSize > 0, "batch size must be positive")
        self.state = state
        self.key = key
        self.batchSize = batchSize
        (table, delta, prefixes, probeParents, coveringTypes) = Self.derived(from: state)
        lean = Self.leanApplies(generalOnly: false)
        stageDeltas = StageDeltas(delta)
        stageTable = .allocate(capacity: 1)
        stageTable.initialize(to: Self.stageTable(table, stageDeltas))
        coveringCodes = Self.coveringCodes(coveringTypes)
        stageAVX2 = chub_siphash128_avx2_available() != 0 ? 1 : 0
        generalSlots = .allocate(capacity: batchSize)
        self.coldStage = coldStage
        self.rawDigests = rawDigests
        canonical = .allocate(capacity: Canonicalizer.scratchBytes + 2)
        fast = FastDigestBatch(capacity: batchSize)
        networkBody = .allocate(capacity: 2 + 16 + 1)
        probes = .allocate(capacity: Self.stages * Self.maxProbesPerValue * batchSize)
        states = .allocate(capacity: Self.stages * batchSize)
    }

    /// Answers from `state` from the next call on (call between batches, never during one).
    /// Costs one identity comparison when `state` is the one in use; otherwise recomputes the
    /// bucket table, the delta layers, the network lengths to probe and the subdomain flag.
    /// The state must come from the same store (a snapshot built with this matcher's key).
    public func use(_ state: LiveState) {
        guard state !== self.state else { return }
        precondition(state.snapshot.map { $0.header.keyID == key.id } ?? true, "a state of another store's key")
        self.state = state
        (table, delta, prefixes, probeParents, coveringTypes) = Self.derived(from: state)
        stageDeltas = StageDeltas(delta)
        stageTable.pointee = Self.stageTable(table, stageDeltas)
        coveringCodes = Self.coveringCodes(coveringTypes)
    }

    private static func derived(
        from state: LiveState
    ) -> (BucketTable, [DeltaIndex], NetworkPrefixes, Bool, UInt32) {
        let prefixes = state.prefixes
        let parents = state.hasSubdomainEntries
        let covering: UInt32 = (prefixes.ipv4 != 0 ? 1 << UInt32(IndicatorType.ipv4.rawValue) : 0)
            | (parents ? 1 << UInt32(IndicatorType.domain.rawValue) : 0)
        return (state.table ?? .empty, state.deltaIndexes, prefixes, parents, covering)
    }

    deinit {
        canonical.deallocate()
        networkBody.deallocate()
        probes.deallocate()
        states.deallocate()
        stageTable.deallocate()
        generalSlots.deallocate()
    }

    /// Matches `values` (raw bytes each), of `types` (one per value, nil = detect; or nil for
    /// all detected), at `now` (Unix seconds). Writes one record per value to `records`
    /// (`records[i]` answers `values[i]`; `records.count >= values.count`). The lean API:
    /// no allocation, no reference counting; ask `refusal(of:as:)` for a refused value's reason.
    public func match(
        _ values: UnsafeBufferPointer<UnsafeBufferPointer<UInt8>>,
        types: UnsafeBufferPointer<IndicatorType?>? = nil,
        now: UInt32, into records: UnsafeMutableBufferPointer<MatchRecord>
    ) {
        precondition(types == nil || types!.count == values.count, "one type per value")
        precondition(records.count >= values.count, "one record per value")
        guard let output = records.baseAddress else { return }
        let batches = (values.count + batchSize - 1) / batchSize
        var probeCounts = (0, 0, 0)
        // Per stage: the lean first stage filed one exact probe per value and no states.
        var exactOnly = (false, false, false)
        for step in 0..<(batches + Self.stages - 1) {
            if step < batches {
                let range = (step * batchSize)..<min((step + 1) * batchSize, values.count)
                let probeCount: Int
                if lean && !rawDigests {
                    // Home buckets prefetched as the probes are filed.
                    let exact: Bool
                    (probeCount, exact) = digestLeanBatch(values, types: types, range: range, stage: step % Self.stages)
                    Self.set(&exactOnly, step % Self.stages, exact)
                } else {
                    Self.set(&exactOnly, step % Self.stages, false)
                    probeCount = digestBatch(values, types: types, range: range, stage: step % Self.stages)
                    prefetchHomeBuckets(stage: step % Self.stages, count: probeCount)
                }
                Self.set(&probeCounts, step % Self.stages, probeCount)
            }
            if step >= 1 && step - 1 < batches && coldStage {
                let stage = (step - 1) % Self.stages
                locateBatch(stage: stage, count: Self.get(probeCounts, stage))
            }
            if step >= 2 {
                let first = (step - 2) * batchSize
                let count = min(batchSize, values.count - first)
                let stage = (step - 2) % Self.stages
                resolveBatch(stage: stage, count: count, now: now, into: output + first,
                             exactOnly: Self.get(exactOnly, stage))
            }
        }
    }

    /// As `match(_:types:now:into:)` with records, appending full `MatchResult`s (refusal
    /// reasons included) to `results`. Allocates a record buffer per call.
    public func match(
        _ values: UnsafeBufferPointer<UnsafeBufferPointer<UInt8>>,
        types: UnsafeBufferPointer<IndicatorType?>? = nil,
        now: UInt32, into results: inout [MatchResult]
    ) {
        let records = UnsafeMutableBufferPointer<MatchRecord>.allocate(capacity: values.count)
        defer { records.deallocate() }
        records.initialize(repeating: .refused)
        match(values, types: types, now: now, into: records)
        results.reserveCapacity(results.count + values.count)
        for index in 0..<values.count {
            results.append(MatchResult(records[index], refusal: Self.refusal(of: values[index], as: types?[index] ?? nil) ?? .unrecognised))
        }
    }

    /// Why `value` (as `type`, nil = detect) is refused: the canonicaliser's error, rebuilt on
    /// demand so the batch path never carries one. Nil if the value is in fact accepted.
    public static func refusal(of value: UnsafeBufferPointer<UInt8>, as type: IndicatorType?) -> IndicatorError? {
        do throws(IndicatorError) {
            _ = try Canonicalizer.withScratch { (out: inout ByteWriter) throws(IndicatorError) in
                try Canonicalizer.canonicalize(value, as: type, into: &out)
            }
            return nil
        } catch {
            return error
        }
    }

    private static func get<T>(_ triple: (T, T, T), _ index: Int) -> T {
        index == 0 ? triple.0 : index == 1 ? triple.1 : triple.2
    }

    private static func set<T>(_ triple: inout (T, T, T), _ index: Int, _ value: T) {
        switch index {
        case 0: triple.0 = value
        case 1: triple.1 = value
        default: triple.2 = value
        }
    }

    /// Convenience for tools and tests (allocates): matches strings, all of `type` (nil = detect).
    public func match(_ values: [String], type: IndicatorType? = nil, now: UInt32) -> [MatchResult] {
        let bytes = values.map { Array($0.utf8) }
        var results: [MatchResult] = []
        withBuffers(bytes) { buffers in
            let types = [IndicatorType?](repeating: type, count: values.count)
            types.withUnsafeBufferPointer { types in
                match(buffers, types: types, now: now, into: &results)
            }
        }
        return results
    }

    private func withBuffers(_ arrays: [[UInt8]], _ body: (UnsafeBufferPointer<UnsafeBufferPointer<UInt8>>) -> Void) {
        let total = arrays.reduce(0) { $0 + $1.count }
        let storage = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: max(total, 1))
        defer { storage.deallocate() }
        var buffers: [UnsafeBufferPointer<UInt8>] = []
        var offset = 0
        for array in arrays {
            let slice = UnsafeMutableBufferPointer(rebasing: storage[offset..<(offset + array.count)])
            _ = slice.initialize(from: array)
            buffers.append(UnsafeBufferPointer(slice))
            offset += array.count
        }
        buffers.withUnsafeBufferPointer(body)
    }
}
