/// The canonicaliser's fast path and digest for a whole batch of values at once (the
/// matcher's first stage): every value is canonicalised first, into scratch memory laid out as
/// digest messages, and only then are the digests computed, two interleaved SipHash states at a
/// time (`SipHash+Batch.swift`). Hashing value by value inside the scan leaves one long chain
/// of dependent rounds per value; a batch of finished messages gives the core two at once, and
/// the matcher one call per batch instead of one per value.
///
/// The results are exactly `DigestKey.canonicalDigestFast(_:as:into:)`'s, value for value
/// (tested in `FastBatchTests`): the same fast path decides, with the same accept-only contract.
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
        let accepted = batch.accepted
        var acceptedCount = 0
        var offset = 0
        // 1. Canonicalise every value into its message: `version ‖ type ‖ canonical bytes`.
        for index in range {
            let slot = index &- range.lowerBound
            let type = types.map { $0[index] } ?? nil
            let message = batch.bytes + offset
            guard let scan = Canonicalizer.fastScan(
                values[index], as: type, into: message + 2, hashing: false, k0: 0, k1: 0)
            else {
                results[slot] = FastDigest(lo: 0, hi: 0, offset: 0, count: 0, type: .ipv4)
                continue
            }
            UnsafeMutableRawPointer(message).storeBytes(
                of: Canonicalizer.digestPrefix(scan.type).littleEndian, as: UInt16.self)
            results[slot] = FastDigest(
                lo: 0, hi: 0, offset: Int32(truncatingIfNeeded: offset), count: Int32(truncatingIfNeeded: scan.count),
                type: scan.type)
            accepted[acceptedCount] = Int32(truncatingIfNeeded: slot)
            acceptedCount &+= 1
            // The final word's load (`SipHash.paddedFinalWord`) stays inside the slot.
            offset &+= (scan.count &+ 2) & ~7 &+ 8
        }
        // 2. Digest the messages, two at a time.
        let bytes = UnsafeRawPointer(batch.bytes)
        var next = 0
        while next &+ 1 < acceptedCount {
            let first = Int(accepted[next])
            let second = Int(accepted[next &+ 1])
            let (a, b) = SipHash.hash128(
                k0: k0, k1: k1, padded: bytes + Int(results[first].offset), length: Int(results[first].count) &+ 2,
                bytes + Int(results[second].offset), length: Int(results[second].count) &+ 2)
            (results[first].lo, results[first].hi) = a
            (results[second].lo, results[second].hi) = b
            next &+= 2
        }
        if next < acceptedCount {
            let only = Int(accepted[next])
            (results[only].lo, results[only].hi) = SipHash.hash128(
                k0: k0, k1: k1, padded: bytes + Int(results[only].offset), length: Int(results[only].count) &+ 2)
        }
    }
}

/// One value's answer from the batch fast path.
package struct FastDigest {
    /// The digest (`IndicatorDigest.lo`, `.hi`) of the canonical form, when accepted.
    package var lo: UInt64
    package var hi: UInt64
    /// Where the value's message starts in the batch's scratch bytes.
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
    /// The messages, each in a slot of `(count + 2) & ~7 + 8` bytes (at most 256).
    let bytes: UnsafeMutablePointer<UInt8>
    /// Slots of the accepted values, in order.
    let accepted: UnsafeMutablePointer<Int32>

    /// Bytes a value's slot can take: a name of `Canonicalizer.fastPathMaxBytes`, the two
    /// prefix bytes and the final word's padding.
    static let slotBytes = (Canonicalizer.fastPathMaxBytes + 2) & ~7 + 8

    package init(capacity: Int) {
        precondition(capacity > 0, "capacity must be positive")
        self.capacity = capacity
        results = .allocate(capacity: capacity)
        results.initialize(repeating: FastDigest(lo: 0, hi: 0, offset: 0, count: 0, type: .ipv4), count: capacity)
        bytes = .allocate(capacity: capacity * Self.slotBytes)
        bytes.initialize(repeating: 0, count: capacity * Self.slotBytes)
        accepted = .allocate(capacity: capacity)
        accepted.initialize(repeating: 0, count: capacity)
    }

    deinit {
        results.deallocate()
        bytes.deallocate()
        accepted.deallocate()
    }

    /// The canonical bytes of accepted value `slot` of the last batch.
    package func canonical(_ slot: Int) -> UnsafeBufferPointer<UInt8> {
        let result = results[slot]
        return UnsafeBufferPointer(start: bytes + Int(result.offset) + 2, count: Int(result.count))
    }
}
