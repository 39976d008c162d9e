public import IndicatorKit

/// How a value matched.
public enum MatchKind: Equatable, Hashable, Sendable {
    /// The value's own canonical form is listed.
    case exact
    /// A listed IP network (CIDR range) of this prefix length contains the address.
    case network(prefixLength: UInt8)
    /// A listed domain covering its subdomains is this many labels above the value.
    case parent(levels: UInt8)
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

/// Answers batches of raw values against a snapshot: canonicalise, digest every probe (the
/// value, its covering networks, its parent domains), prefetch the home lines of the whole
/// batch, then probe. Expired entries never match.
///
/// A matcher owns scratch memory and is not thread-safe: use one per thread (they can share
/// the snapshot). After warm-up it does not allocate per lookup (a refused value allocates
/// its error message).
public final class Matcher {
    /// The snapshot answered from.
    public let snapshot: Snapshot
    /// Values whose probes are prefetched together. Large enough to hide memory latency,
    /// small enough that prefetched lines are still in L1/L2 when probed.
    public let batchSize: Int

    let key: DigestKey
    let table: SlotTable
    let prefixes: NetworkPrefixes
    let probeParents: Bool
    /// Prefetch the line after the home line too (a scan can cross into it).
    let prefetchNextLine: Bool
    /// Some scans can run past the home line and the next.
    let prefetchBeyondWindow: Bool
    /// Digest the raw bytes as given instead of canonicalising (benchmark mode).
    let rawDigests: Bool

    /// Scratch space for one canonical form, after two bytes of headroom for the digest's
    /// `version ‖ type` prefix (so digests are computed without copying).
    let canonical: UnsafeMutableBufferPointer<UInt8>
    /// Headroom + masked address + prefix byte of a network probe.
    let networkBody: UnsafeMutableBufferPointer<UInt8>
    /// Probes of the current batch, in priority order per value; room for the most a batch
    /// can need (`maxProbesPerValue` each).
    let probes: UnsafeMutableBufferPointer<Probe>
    /// An IPv6 address: itself + 128 network lengths; a domain of 253 bytes: itself + 126 parents.
    static let maxProbesPerValue = 130
    /// Per value of the current batch: type and probe range, or the refusal.
    var states: UnsafeMutableBufferPointer<ValueState>
    var errors: [IndicatorError?]

    /// A matcher for `snapshot`, which must have been built with `key`.
    public convenience init(snapshot: Snapshot, key: DigestKey, batchSize: Int = 32) throws(StoreError) {
        try self.init(snapshot: snapshot, key: key, batchSize: batchSize, rawDigests: false)
    }

    /// With `rawDigests`, values are digested as given (typed, not canonicalised): the
    /// benchmark's `--no-canonicalize` mode, to measure digest + probe alone.
    package init(snapshot: Snapshot, key: DigestKey, batchSize: Int, rawDigests: Bool) throws(StoreError) {
        guard snapshot.header.keyID == key.id else {
            throw .keyMismatch(path: snapshot.path, expected: key.id, found: snapshot.header.keyID)
        }
        precondition(batchSize > 0, "batch size must be positive")
        self.snapshot = snapshot
        self.key = key
        self.batchSize = batchSize
        self.table = snapshot.table
        self.prefixes = snapshot.header.prefixes
        self.probeParents = snapshot.header.hasSubdomainEntries
        self.prefetchNextLine = snapshot.header.maxDisplacement >= StoreFormat.slotsPerLine
        self.prefetchBeyondWindow = snapshot.header.maxDisplacement >= 2 * StoreFormat.slotsPerLine
        self.rawDigests = rawDigests
        canonical = .allocate(capacity: Canonicalizer.scratchBytes + 2)
        networkBody = .allocate(capacity: 2 + 16 + 1)
        probes = .allocate(capacity: Self.maxProbesPerValue * batchSize)
        states = .allocate(capacity: batchSize)
        errors = Array(repeating: nil, count: batchSize)
    }

    deinit {
        canonical.deallocate()
        networkBody.deallocate()
        probes.deallocate()
        states.deallocate()
    }

    /// Matches `values` (raw bytes each), of `types` (one per value, nil = detect; or nil for
    /// all detected), at `now` (Unix seconds). Appends one result per value to `results`, in order.
    public func match(
        _ values: UnsafeBufferPointer<UnsafeBufferPointer<UInt8>>,
        types: UnsafeBufferPointer<IndicatorType?>? = nil,
        now: UInt32, into results: inout [MatchResult]
    ) {
        precondition(types == nil || types!.count == values.count, "one type per value")
        results.reserveCapacity(results.count + values.count)
        var start = 0
        while start < values.count {
            let end = min(start + batchSize, values.count)
            matchBatch(values, types: types, range: start..<end, now: now, into: &results)
            start = end
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
