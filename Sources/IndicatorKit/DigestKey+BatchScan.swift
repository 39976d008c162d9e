internal import CHubSipHash

/// The `.avx2` kernel's first pass in C (`chub_batch_scan`, CHubSipHash `batch.c`): the trim
/// test, the type dispatch, the inlined vector scanners and the filing of each value's message
/// words, for the whole batch in one call, then the digests written into the results by a
/// second (`chub_batch_digest`). The Swift loop it replaces (`canonicalDigestLanes`, kept where
/// the layouts below do not hold) held about 17 pointers and counters and spilled them per
/// value (docs/BENCHMARKS-HISTORY.md, "Batch scan in C").
///
/// C reads the caller's arrays as they are: `UnsafeBufferPointer<UInt8>` as a pointer and a
/// count, `IndicatorType?` as one byte per value, and writes `FastDigest`s in place. None of
/// these layouts is promised by Swift on Linux, so `PackedBatchLayout.codes` checks each of them
/// once, at run time, and the batch uses the C pass only when all hold. Names over 64 bytes
/// (which the vector scanner leaves to the Swift one) come back as a list and are scanned here.
extension DigestKey {
    /// Runs the C pass over `values[range]`; same answers as `canonicalDigestLanes`
    /// (`BatchScanTests`).
    @inline(never)
    func canonicalDigestPacked(
        _ values: UnsafeBufferPointer<UnsafeBufferPointer<UInt8>>, types: UnsafeBufferPointer<IndicatorType?>?,
        range: Range<Int>, into batch: FastDigestBatch, codes: chub_type_codes, k0: UInt64, k1: UInt64
    ) {
        guard !range.isEmpty else { return }
        var (scratch, _) = scanPacked(values, types: types, range: range, into: batch, codes: codes)
        chub_batch_digest(k0, k1, &scratch)
    }

    /// The matcher's hand-off (IndicatorStore, `Matcher+Stages.swift`): as
    /// `canonicalDigestFast(_:types:range:into:)`, except that when this batch runs the C pass,
    /// the scan accepted every value and none has its type's bit in `covering`, each value's
    /// exact probe (a `chub_probe`, value i at `probes + i`) is filed straight from the digest
    /// and its home bucket in `table` (a `chub_table`) prefetched, and the results' digests are
    /// not written: returns true (`chub_batch_digest_probes`). Otherwise the results are
    /// written as by `canonicalDigestFast` and it returns false.
    package func canonicalDigestProbes(
        _ values: UnsafeBufferPointer<UnsafeBufferPointer<UInt8>>, types: UnsafeBufferPointer<IndicatorType?>?,
        range: Range<Int>, into batch: FastDigestBatch, covering: UInt64, probes: UnsafeMutableRawPointer,
        table: UnsafeRawPointer
    ) -> Bool {
        guard batch.kernel == .avx2, batch.packedScan, let codes = PackedBatchLayout.codes, !range.isEmpty else {
            canonicalDigestFast(values, types: types, range: range, into: batch)
            return false
        }
        Self.checkBatch(values, types: types, range: range, batch: batch)
        let (k0, k1) = sipKey
        var (scratch, declined) = scanPacked(values, types: types, range: range, into: batch, codes: codes)
        guard !declined else {
            chub_batch_digest(k0, k1, &scratch)
            return false
        }
        return chub_batch_digest_probes(
            k0, k1, &scratch, range.count, covering, probes.assumingMemoryBound(to: chub_probe.self),
            table.assumingMemoryBound(to: chub_table.self)) != 0
    }

    /// The first pass (`chub_batch_scan`) and the Swift scanner for the long names it lists:
    /// everything but the digests. `declined`: the Swift scanner declined a long name (its word
    /// count is now 0).
    @inline(__always)
    private func scanPacked(
        _ values: UnsafeBufferPointer<UnsafeBufferPointer<UInt8>>, types: UnsafeBufferPointer<IndicatorType?>?,
        range: Range<Int>, into batch: FastDigestBatch, codes: chub_type_codes
    ) -> (chub_batch, declined: Bool) {
        var scratch = chub_batch(
            results: UnsafeMutableRawPointer(batch.results).assumingMemoryBound(to: chub_fast_digest.self),
            bytes: batch.bytes, words: batch.words, word_firsts: batch.wordFirsts, word_counts: batch.wordCounts,
            word_slots: batch.wordSlots, finals: batch.finals, final_slots: batch.finalSlots, deferred: batch.deferred,
            digests: batch.digests, final_count: 0, long_count: 0)
        let packedValues = UnsafeRawPointer(values.baseAddress! + range.lowerBound)
            .assumingMemoryBound(to: chub_value.self)
        let packedTypes = types.map {
            UnsafeRawPointer($0.baseAddress! + range.lowerBound).assumingMemoryBound(to: UInt8.self)
        }
        let deferredCount = chub_batch_scan(
            packedValues, packedTypes, range.count, codes, Canonicalizer.digestPrefix(.ipv4),
            Canonicalizer.digestPrefix(.domain), Canonicalizer.maxInputBytes, Canonicalizer.fastPathMaxBytes, &scratch)
        var declined = false
        for index in 0..<deferredCount {
            let entry = Int(batch.deferred[index])
            let slot = Int(batch.wordSlots[entry])
            let type = types.map { $0[range.lowerBound &+ slot] } ?? nil
            if let (input, count, _, detecting) = Canonicalizer.fastDispatch(values[range.lowerBound &+ slot], as: type),
                let wordCount = Canonicalizer.fastNameWords(
                    input, count, batch.bytes + Int(batch.results[slot].offset), detecting: detecting,
                    words: batch.words + Int(batch.wordFirsts[entry]))
            {
                assert(wordCount == Int(batch.wordCounts[entry]), "words reserved for a long name")
                continue
            }
            batch.results[slot] = FastDigest(lo: 0, hi: 0, offset: 0, count: 0, type: .ipv4)
            batch.wordCounts[entry] = 0
            declined = true
        }
        return (scratch, declined)
    }
}

/// Whether the C batch pass can read and write this build's Swift values in place, and the
/// type bytes it compares with (see `canonicalDigestPacked`). Checked once.
enum PackedBatchLayout {
    static let codes: chub_type_codes? = {
        // UnsafeBufferPointer<UInt8>: a pointer, then the count, 16 bytes.
        guard MemoryLayout<UnsafeBufferPointer<UInt8>>.stride == MemoryLayout<chub_value>.stride,
            MemoryLayout<chub_value>.stride == 16
        else { return nil }
        let probeBytes = UnsafeMutablePointer<UInt8>.allocate(capacity: 1)
        defer { probeBytes.deallocate() }
        let probe = UnsafeBufferPointer(start: probeBytes, count: 0x5A5A)
        let valueOK = withUnsafeBytes(of: probe) { raw in
            raw.count == 16 && raw.load(fromByteOffset: 0, as: UInt.self) == UInt(bitPattern: probeBytes)
                && raw.load(fromByteOffset: 8, as: Int.self) == 0x5A5A
        }
        // FastDigest: lo, hi, offset, count, type at the offsets of chub_fast_digest.
        guard valueOK, MemoryLayout<FastDigest>.stride == MemoryLayout<chub_fast_digest>.stride,
            MemoryLayout<FastDigest>.offset(of: \FastDigest.lo) == 0,
            MemoryLayout<FastDigest>.offset(of: \FastDigest.hi) == 8,
            MemoryLayout<FastDigest>.offset(of: \FastDigest.offset) == 16,
            MemoryLayout<FastDigest>.offset(of: \FastDigest.count) == 20,
            MemoryLayout<FastDigest>.offset(of: \FastDigest.type) == 24,
            MemoryLayout<chub_fast_digest>.offset(of: \chub_fast_digest.type) == 24,
            MemoryLayout<IndicatorType>.size == 1, MemoryLayout<IndicatorType?>.size == 1,
            MemoryLayout<IndicatorType?>.stride == 1
        else { return nil }
        func byte<T>(_ value: T) -> UInt8 { withUnsafeBytes(of: value) { $0[0] } }
        let codes = chub_type_codes(
            ipv4: byte(IndicatorType?.some(.ipv4)), domain: byte(IndicatorType?.some(.domain)),
            none: byte(IndicatorType?.none), result_ipv4: byte(IndicatorType.ipv4),
            result_domain: byte(IndicatorType.domain))
        guard Set([codes.ipv4, codes.domain, codes.none]).count == 3 else { return nil }
        // Every other IndicatorType? must have a byte of its own (declined by the C pass).
        var seen = Set<UInt8>([codes.none])
        for type in IndicatorType.allCases where !seen.insert(byte(IndicatorType?.some(type))).inserted { return nil }
        return codes
    }()
}
