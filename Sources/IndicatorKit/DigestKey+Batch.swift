/// The canonicaliser's fast path and digest for a whole batch of values in one call (the
/// matcher's first stage): each value is canonicalised into scratch memory the batch owns, and
/// the answers are left in an array the caller reads — no call and no optional 40-byte tuple
/// returned through memory per value.
///
/// Two kernels (`FastDigestBatch.kernel`), with the same digests bit for bit:
/// - `.scalar`: each value is canonicalised and digested in one pass, as
///   `DigestKey.canonicalDigestFast(_:as:into:)` does (Swift SipHash, one value at a time).
/// - `.avx2` (the default where the CPU has AVX2): the scan stores each value's SipHash message
///   words instead of hashing them, then two C calls (`SipHashLanes`, AVX2) hash the batch four
///   values at a time: ≈ 113 instead of ≈ 200 instructions per value for the digest, ≈ 47 per
///   value fewer in all (docs/BENCHMARKS-HISTORY.md, "SIMD SipHash"). Where the CPU has AVX2, plain
///   dotted quads and names of up to 64 bytes are scanned by vector scanners in C
///   (`vectorScanners`; ≈ 63 instead of ≈ 252 instructions per address, ≈ 157 instead of
///   ≈ 311 per 23-byte name: docs/BENCHMARKS-HISTORY.md, "Vector scanners"). With the vector
///   scanners, the whole first pass (trim, dispatch, scanners, filing) is one C call over the
///   batch (`canonicalDigestPacked`, DigestKey+BatchScan.swift; "Batch scan in C").
///
/// The results are exactly the one-value call's, value for value (tested in
/// `FastBatchTests` with both kernels): the same fast path decides, with the same accept-only
/// contract. (Interleaving two scalar SipHash states after a canonicalisation pass was
/// measured and was slower: docs/BENCHMARKS-HISTORY.md, "Batch digests (cpu2 branch)".)
extension DigestKey {
    /// The batch calls' bounds: `range` fits the batch and lies inside `values` (and `types`).
    @inline(__always)
    static func checkBatch(
        _ values: UnsafeBufferPointer<UnsafeBufferPointer<UInt8>>, types: UnsafeBufferPointer<IndicatorType?>?,
        range: Range<Int>, batch: FastDigestBatch
    ) {
        precondition(range.count <= batch.capacity, "the batch holds at most \(batch.capacity) values")
        precondition(range.upperBound <= values.count && (types == nil || range.upperBound <= types!.count))
    }

    /// Runs the fast path over `values[range]` (types from `types`, nil = detect, or all
    /// detected when `types` is nil) and writes one `FastDigest` per value to
    /// `batch.results[0..<range.count]`. A declined value (count 0) has to go through the
    /// general path. Allocation-free.
    package func canonicalDigestFast(
        _ values: UnsafeBufferPointer<UnsafeBufferPointer<UInt8>>, types: UnsafeBufferPointer<IndicatorType?>?,
        range: Range<Int>, into batch: FastDigestBatch
    ) {
        Self.checkBatch(values, types: types, range: range, batch: batch)
        let (k0, k1) = sipKey
        switch batch.kernel {
        case .scalar: canonicalDigestFused(values, types: types, range: range, into: batch, k0: k0, k1: k1)
        case .avx2:
            if batch.packedScan, let codes = PackedBatchLayout.codes {
                canonicalDigestPacked(values, types: types, range: range, into: batch, codes: codes, k0: k0, k1: k1)
            } else {
                canonicalDigestLanes(values, types: types, range: range, into: batch, k0: k0, k1: k1)
            }
        }
    }

    /// The `.scalar` kernel: each value scanned and hashed in one pass (`fastScan`). Its own
    /// function, so that the scanner is inlined into this loop as before the `.avx2` kernel
    /// existed (one body per loop keeps both within the inliner's budget).
    @inline(never)
    private func canonicalDigestFused(
        _ values: UnsafeBufferPointer<UnsafeBufferPointer<UInt8>>, types: UnsafeBufferPointer<IndicatorType?>?,
        range: Range<Int>, into batch: FastDigestBatch, k0: UInt64, k1: UInt64
    ) {
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

    /// The `.avx2` kernel in Swift (where the C pass, `canonicalDigestPacked`, is not used): scan every value, storing its message words instead of hashing them
    /// (the same scanners and accept-only contract as `Canonicalizer.fastScan`), then hash them
    /// in two calls to the four-lane kernel and copy the digests out. An address is one word,
    /// kept in `finals` (back to back: loaded four at once, no sorting); a name's words go to
    /// `words` (`Canonicalizer.fastNameWords`), hashed four at a time in the given order (`chub_siphash128_words`).
    @inline(never)
    private func canonicalDigestLanes(
        _ values: UnsafeBufferPointer<UnsafeBufferPointer<UInt8>>, types: UnsafeBufferPointer<IndicatorType?>?,
        range: Range<Int>, into batch: FastDigestBatch, k0: UInt64, k1: UInt64
    ) {
        let results = batch.results
        let words = batch.words
        let finals = batch.finals
        let finalSlots = batch.finalSlots
        let wordFirsts = batch.wordFirsts
        let wordCounts = batch.wordCounts
        let wordSlots = batch.wordSlots
        let vectorScanners = batch.vectorScanners
        var offset = 0
        var wordOffset = 0
        var finalCount = 0
        var longCount = 0
        let declined = FastDigest(lo: 0, hi: 0, offset: 0, count: 0, type: .ipv4)
        for index in range {
            let slot = index &- range.lowerBound
            let type = types.map { $0[index] } ?? nil
            // `Canonicalizer.fastScan`'s dispatch, with each scanner's branch filing its value
            // in its own list (no second branch on the type).
            guard let (input, count, ipv4, detecting) = Canonicalizer.fastDispatch(values[index], as: type) else {
                results[slot] = declined
                continue
            }
            let out = batch.bytes + offset
            if ipv4, let address = Canonicalizer.fastIPv4(input, count, out, vector: vectorScanners) {
                finals[finalCount] = SipHash.ipv4Word(prefix: Canonicalizer.digestPrefix(.ipv4), address: address)
                finalSlots[finalCount] = UInt32(truncatingIfNeeded: slot)
                finalCount &+= 1
                results[slot] = FastDigest(lo: 0, hi: 0, offset: Int32(truncatingIfNeeded: offset), count: 4, type: .ipv4)
                offset &+= 4
                continue
            }
            guard type != .ipv4, let wordCount = Canonicalizer.fastNameWords(
                input, count, out, detecting: detecting, words: words + wordOffset, vector: vectorScanners)
            else {
                results[slot] = declined
                continue
            }
            wordFirsts[longCount] = UInt32(truncatingIfNeeded: wordOffset)
            wordCounts[longCount] = UInt32(truncatingIfNeeded: wordCount)
            wordSlots[longCount] = UInt32(truncatingIfNeeded: slot)
            longCount &+= 1
            results[slot] = FastDigest(
                lo: 0, hi: 0, offset: Int32(truncatingIfNeeded: offset), count: Int32(truncatingIfNeeded: count),
                type: .domain)
            wordOffset &+= wordCount
            offset &+= count
        }
        let digests = batch.digests
        SipHashLanes.digestFinals(k0: k0, k1: k1, finals: finals, count: finalCount, avx2: true, into: digests)
        let longDigests = digests + 2 &* finalCount
        SipHashLanes.digest(
            k0: k0, k1: k1, words: words, wordFirsts: wordFirsts, wordCounts: wordCounts, count: longCount,
            avx2: true, into: longDigests)
        for index in 0..<finalCount {
            let slot = Int(finalSlots[index])
            results[slot].lo = digests[2 &* index]
            results[slot].hi = digests[2 &* index &+ 1]
        }
        for index in 0..<longCount {
            let slot = Int(wordSlots[index])
            results[slot].lo = longDigests[2 &* index]
            results[slot].hi = longDigests[2 &* index &+ 1]
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
    /// Which SipHash code digests the batch (chosen at creation; `SipHashKernel.preferred` by
    /// default: `.avx2` where the CPU has it and `IHUB_SCALAR_SIPHASH` is not set).
    package let kernel: SipHashKernel
    /// `.avx2` only: addresses and names of up to 64 bytes are scanned by the vector scanners
    /// in C (`SipHashLanes.scanIPv4`, `.scanName`) — set where the CPU has AVX2 (the Swift
    /// scanners otherwise, and for `.scalar`). Same answers (`VectorScannerTests`).
    let vectorScanners: Bool
    /// `.avx2` with `vectorScanners` only: the first pass runs in C over the whole batch
    /// (`canonicalDigestPacked`) where this build's layouts allow it (`PackedBatchLayout`);
    /// `false` keeps the Swift loop (for tests that compare the two).
    let packedScan: Bool
    /// One per value of the last batch, in order.
    package let results: UnsafeMutablePointer<FastDigest>
    /// The canonical bytes of the accepted values, back to back; room for `capacity` names of
    /// `Canonicalizer.fastPathMaxBytes` (the most the fast path writes for one value; the
    /// vector name scanner may write 16 bytes past a name of at most 64, which still fits).
    let bytes: UnsafeMutablePointer<UInt8>
    /// `.avx2` only: the SipHash message words of the accepted values of more than one word,
    /// back to back (room for `capacity` × `Canonicalizer.fastPathMaxWords`; the vector name
    /// scanner may write up to 13 words from a value's start, which still fits), with where each
    /// value's words start, how many, and its slot; the one-word messages, back to back, with
    /// their slots; and the kernel's output, two words per value (one-word messages first).
    let words: UnsafeMutablePointer<UInt64>
    let wordFirsts: UnsafeMutablePointer<UInt32>
    let wordCounts: UnsafeMutablePointer<UInt32>
    let wordSlots: UnsafeMutablePointer<UInt32>
    let finals: UnsafeMutablePointer<UInt64>
    let finalSlots: UnsafeMutablePointer<UInt32>
    let digests: UnsafeMutablePointer<UInt64>
    /// The C pass's list of names over 64 bytes (their index in the word lists).
    let deferred: UnsafeMutablePointer<UInt32>

    package init(capacity: Int, kernel: SipHashKernel = .preferred, packedScan: Bool = true) {
        precondition(capacity > 0, "capacity must be positive")
        self.capacity = capacity
        self.kernel = kernel
        vectorScanners = kernel == .avx2 && SipHashLanes.avx2Available
        self.packedScan = packedScan && vectorScanners
        results = Self.filled(capacity, with: FastDigest(lo: 0, hi: 0, offset: 0, count: 0, type: .ipv4))
        bytes = Self.filled(capacity * Canonicalizer.fastPathMaxBytes, with: 0)
        words = Self.filled(kernel == .avx2 ? capacity * Canonicalizer.fastPathMaxWords : 1, with: 0)
        wordFirsts = Self.filled(capacity, with: 0)
        wordCounts = Self.filled(capacity, with: 0)
        wordSlots = Self.filled(capacity, with: 0)
        finals = Self.filled(capacity, with: 0)
        finalSlots = Self.filled(capacity, with: 0)
        digests = Self.filled(2 * capacity, with: 0)
        deferred = Self.filled(capacity, with: 0)
    }

    /// `count` elements allocated and set to `value` (released in `deinit`).
    private static func filled<T>(_ count: Int, with value: T) -> UnsafeMutablePointer<T> {
        let pointer = UnsafeMutablePointer<T>.allocate(capacity: count)
        pointer.initialize(repeating: value, count: count)
        return pointer
    }

    deinit {
        results.deallocate()
        bytes.deallocate()
        words.deallocate()
        wordFirsts.deallocate()
        wordCounts.deallocate()
        wordSlots.deallocate()
        finals.deallocate()
        finalSlots.deallocate()
        digests.deallocate()
        deferred.deallocate()
    }

    /// The canonical bytes of accepted value `slot` of the last batch.
    package func canonical(_ slot: Int) -> UnsafeBufferPointer<UInt8> {
        let result = results[slot]
        return UnsafeBufferPointer(start: bytes + Int(result.offset), count: Int(result.count))
    }
}
