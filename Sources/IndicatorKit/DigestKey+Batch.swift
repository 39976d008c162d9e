/// The canonicaliser's fast path and digest for a whole batch of values in one call (the
/// matcher's first stage): each value is canonicalised and digested in one pass, as
/// `DigestKey.canonicalDigestFast(_:as:into:)` does, into scratch memory the batch owns, and
/// the answers are left in an array the caller reads — no call and no optional 40-byte tuple
/// returned through memory per value.
///
/// The results are exactly the one-value call's, value for value (tested in
/// `FastBatchTests`): the same fast path decides, with the same accept-only contract.
/// (Canonicalising the whole batch first and then computing two SipHash states interleaved was
/// measured and was slower: docs/BENCHMARKS.md, "Batch digests (cpu2 branch)".)
extension DigestKey {
    /// Runs the fast path over `values[range]` (types from `types`, nil = detect, or all
    /// detected when `types` is nil) and writes one `FastDigest` per value to
    /// `batch.results[0..<range.count]`. A declined value (count 0) has to go through the
    /// general path. Allocation-free.
    package func canonicalDigestFast(
        _ values: UnsafeBufferPointer<UnsafeBufferPointer<UInt8>>, types: UnsafeBufferPointer<IndicatorType?>?,
        range: Range<Int>, into batch: FastDigestBatch
    ) {
        precondition(range.count <= batch.capacity, "the batch holds at most \(batch.capacity) values")
        precondition(range.upperBound <= values.count && (types == nil || range.upperBound <= types!.count))
        let (k0, k1) = sipKey
        let results = batch.results
        var offset = 0
        for index in range {
            let slot = index &- range.lowerBound
            let type = types.map { $0[index] } ?? nil
            guard let scan = Canonicalizer.fastScan(
                values[index], as: type, into: batch.bytes + offset, hashing: true, k0: k0, k1: k1)
            else {
                results[slot] = FastDigest(lo: 0, hi: 0, offset: 0, count: 0, type: .ipv4)
                continue
            }
            results[slot] = FastDigest(
                lo: scan.digest.0, hi: scan.digest.1, offset: Int32(truncatingIfNeeded: offset),
                count: Int32(truncatingIfNeeded: scan.count), type: scan.type)
            offset &+= scan.count
        }
    }
}

/// One value's answer from the batch fast path.
package struct FastDigest {
    /// The digest (`IndicatorDigest.lo`, `.hi`) of the canonical form, when accepted.
    package var lo: UInt64
    package var hi: UInt64
    /// Where the value's canonical bytes start in the batch's scratch bytes.
    var offset: Int32
    /// Canonical bytes written; 0 when the fast path declined (the general path decides).
    package var count: Int32
    /// `.ipv4` (an address) or `.domain` (a name that does not cover subdomains), when accepted.
    package var type: IndicatorType

    /// The canonical form (valid when accepted).
    @inline(__always)
    package var form: CanonicalForm { CanonicalForm(type: type, prefixLength: type == .ipv4 ? 32 : 0) }
}

/// Scratch memory and results of `DigestKey.canonicalDigestFast(_:types:range:into:)` for up to
/// `capacity` values. Not thread-safe: one per matcher.
package final class FastDigestBatch {
    /// Values a batch can hold.
    package let capacity: Int
    /// One per value of the last batch, in order.
    package let results: UnsafeMutablePointer<FastDigest>
    /// The canonical bytes of the accepted values, back to back; room for `capacity` names of
    /// `Canonicalizer.fastPathMaxBytes` (the most the fast path writes for one value).
    let bytes: UnsafeMutablePointer<UInt8>

    package init(capacity: Int) {
        precondition(capacity > 0, "capacity must be positive")
        self.capacity = capacity
        results = .allocate(capacity: capacity)
        results.initialize(repeating: FastDigest(lo: 0, hi: 0, offset: 0, count: 0, type: .ipv4), count: capacity)
        let byteCount = capacity * Canonicalizer.fastPathMaxBytes
        bytes = .allocate(capacity: byteCount)
        bytes.initialize(repeating: 0, count: byteCount)
    }

    deinit {
        results.deallocate()
        bytes.deallocate()
    }

    /// The canonical bytes of accepted value `slot` of the last batch.
    package func canonical(_ slot: Int) -> UnsafeBufferPointer<UInt8> {
        let result = results[slot]
        return UnsafeBufferPointer(start: bytes + Int(result.offset), count: Int(result.count))
    }
}
