import CHubShim
package import IndicatorKit

/// One digest to look up for a value, in the order its matches rank.
struct Probe {
    var lo: UInt64
    var hi: UInt64
    /// 0 exact, 1 network, 2 parent domain, 3 URL expression.
    var kind: UInt8
    /// Prefix length (network), labels removed (parent) or expression index (URL).
    var detail: UInt8
    /// The value's `IndicatorType` byte, set only by the lean first stage (`Matcher+Stages.swift`)
    /// for a batch whose values all have this one probe (their states are then not written).
    var type: UInt8 = 0
    /// Set by the scan stage: the cold index of the first entry whose fingerprint is `lo`,
    /// `absent` when there is none, `unscanned` before (the last stage then scans itself);
    /// or, when a delta layer has the digest, `deltaReference(layer:slot:)` (≤ -3).
    var entry: Int

    static let absent = -1
    static let unscanned = -2

    /// `entry` for slot `slot` of delta layer `layer` (newest first).
    @inline(__always)
    static func deltaReference(layer: Int, slot: Int) -> Int { -3 &- (layer &<< 48 | slot) }

    /// The layer and slot of an `entry` ≤ -3.
    @inline(__always)
    static func deltaLocation(_ entry: Int) -> (layer: Int, slot: Int) {
        let packed = -3 &- entry
        return (packed &>> 48, packed & ((1 << 48) - 1))
    }

    static let exact: UInt8 = 0
    static let network: UInt8 = 1
    static let parent: UInt8 = 2
    static let urlExpression: UInt8 = 3
}

/// Per value of a batch: its type and probe range, or `count` -1 when refused.
struct ValueState {
    var type: IndicatorType
    var first: Int32
    var count: Int32
}

extension Matcher {
    /// First stage: canonicalises and digests the values in `range` into the probe and state
    /// buffers of `stage`. Returns the number of probes. Plain IPv4 addresses and LDH domains
    /// take the canonicaliser's one-pass fast path, one call for the whole batch
    /// (`DigestKey.canonicalDigestFast(_:types:range:into:)`); a value it declines goes through
    /// the general path, and a refused one is only marked (its reason is rebuilt on demand).
    func digestBatch(
        _ values: UnsafeBufferPointer<UnsafeBufferPointer<UInt8>>, types: UnsafeBufferPointer<IndicatorType?>?,
        range: Range<Int>, stage: Int
    ) -> Int {
        if rawDigests { return digestRawBatch(values, types: types, range: range, stage: stage) }
        let states = self.states.baseAddress! + stage * batchSize
        let probeBase = stage * batchSize * Self.maxProbesPerValue
        var probeCount = probeBase
        key.canonicalDigestFast(values, types: types, range: range, into: fast)
        let results = fast.results
        for slot in 0..<range.count {
            digestValue(values, types: types, range: range, slot: slot, result: results[slot], into: states,
                        at: &probeCount)
        }
        return probeCount - probeBase
    }

    /// The probes and state of value `slot` of the batch in `range`: from its fast-path
    /// `result` when accepted (the exact probe, then any covering ones), else from the general
    /// canonicaliser (or marked refused).
    func digestValue(
        _ values: UnsafeBufferPointer<UnsafeBufferPointer<UInt8>>, types: UnsafeBufferPointer<IndicatorType?>?,
        range: Range<Int>, slot: Int, result: FastDigest, into states: UnsafeMutablePointer<ValueState>,
        at probeCount: inout Int
    ) {
        let first = probeCount
        if result.count > 0 {
            addProbe(IndicatorDigest(lo: result.lo, hi: result.hi), kind: Probe.exact, detail: 0, at: &probeCount)
            // No branch on the type (random in traffic, and far from the scanner's own
            // dispatch, so the predictor cannot correlate them): a bit per type.
            if coveringTypes &>> UInt32(truncatingIfNeeded: result.type.rawValue) & 1 != 0 {
                // Covering probes read (and parents overwrite) the bytes in `canonical`.
                let bytes = fast.canonical(slot)
                (canonical.baseAddress! + 2).update(from: bytes.baseAddress!, count: bytes.count)
                addCoveringProbes(result.form, count: bytes.count, at: &probeCount)
            }
            // Wrapping conversions: probe counts are bounded by the batch's probe buffer.
            states[slot] = ValueState(
                type: result.type, first: Int32(truncatingIfNeeded: first),
                count: Int32(truncatingIfNeeded: probeCount &- first))
            return
        }
        let index = range.lowerBound + slot
        var writer = ByteWriter(UnsafeMutableBufferPointer(rebasing: canonical[2...]))
        let form: CanonicalForm
        do {
            form = try Canonicalizer.canonicalize(values[index], as: types?[index] ?? nil, into: &writer)
        } catch {
            states[slot] = ValueState(type: .ipv4, first: 0, count: -1)
            return
        }
        addProbes(form, count: writer.count, at: &probeCount)
        states[slot] = ValueState(type: form.type, first: Int32(first), count: Int32(probeCount - first))
    }

    /// `digestBatch` in benchmark mode (`rawDigests`): a typed value's bytes digested as given;
    /// an untyped one canonicalised value by value.
    private func digestRawBatch(
        _ values: UnsafeBufferPointer<UnsafeBufferPointer<UInt8>>, types: UnsafeBufferPointer<IndicatorType?>?,
        range: Range<Int>, stage: Int
    ) -> Int {
        let states = self.states.baseAddress! + stage * batchSize
        let probeBase = stage * batchSize * Self.maxProbesPerValue
        var probeCount = probeBase
        let output = UnsafeMutableBufferPointer(rebasing: canonical[2...])
        for index in range {
            let slot = index - range.lowerBound
            let type = types?[index] ?? nil
            let value = values[index]
            let first = probeCount
            if let type {
                let count = min(value.count, output.count)
                if let source = value.baseAddress, count > 0 {
                    UnsafeMutableRawPointer(output.baseAddress!).copyMemory(from: source, byteCount: count)
                }
                let whole = UnsafeMutableBufferPointer(rebasing: canonical[..<(count + 2)])
                addProbe(key.digest(type, headroom: whole), kind: Probe.exact, detail: 0, at: &probeCount)
                states[slot] = ValueState(type: type, first: Int32(first), count: 1)
                continue
            }
            var writer = ByteWriter(output)
            let form: CanonicalForm
            do {
                form = try Canonicalizer.canonicalize(value, as: nil, into: &writer)
            } catch {
                states[slot] = ValueState(type: .ipv4, first: 0, count: -1)
                continue
            }
            addProbes(form, count: writer.count, at: &probeCount)
            states[slot] = ValueState(type: form.type, first: Int32(first), count: Int32(probeCount - first))
        }
        return probeCount - probeBase
    }

    /// Second part of the first stage: prefetches the home bucket of every probe of `stage`,
    /// back to back — issued between digests, each prefetch would wait for its page walk —
    /// and, with a delta, each layer's filter word.
    func prefetchHomeBuckets(stage: Int, count: Int) {
        let table = self.table
        let probes = self.probes.baseAddress! + stage * batchSize * Self.maxProbesPerValue
        for index in 0..<count { chub_prefetch(table.homeAddress(lo: probes[index].lo)) }
        guard !delta.isEmpty else { return }
        for layer in delta {
            for index in 0..<count { chub_prefetch(layer.prefetchAddress(lo: probes[index].lo)) }
        }
    }

    /// Second stage: scans the (prefetched) bucket of every probe of `stage` for its
    /// fingerprint and prefetches the cold record of a match — both of its lines, as one in
    /// four 24-byte records straddles a line boundary. With a delta, a probe the delta knows
    /// records its layer slot instead (its snapshot entry, if any, is not read).
    func locateBatch(stage: Int, count: Int) {
        let probes = self.probes.baseAddress! + stage * batchSize * Self.maxProbesPerValue
        if lean {
            locateLean(probes, count: count)
            return
        }
        let table = self.table
        if !delta.isEmpty {
            for index in 0..<count {
                let reference = locateInDelta(lo: probes[index].lo, hi: probes[index].hi)
                if reference != Probe.absent {
                    probes[index].entry = reference
                    continue
                }
                probes[index].entry = locateInSnapshot(table, lo: probes[index].lo)
            }
            return
        }
        for index in 0..<count { probes[index].entry = locateInSnapshot(table, lo: probes[index].lo) }
    }

    @inline(__always)
    private func locateInSnapshot(_ table: BucketTable, lo: UInt64) -> Int {
        let entry = table.locate(lo: lo)
        if entry >= 0 {
            let record = table.recordAddress(entry)
            chub_prefetch(record)
            chub_prefetch(record + (StoreFormat.recordSize - 1))
        }
        return entry
    }

    /// The delta reference of a stored digest (the newest layer that has it), or `absent`.
    @inline(__always)
    private func locateInDelta(lo: UInt64, hi: UInt64) -> Int {
        for (layer, index) in delta.enumerated() {
            let slot = index.slot(lo: lo, hi: hi)
            if slot >= 0 { return Probe.deltaReference(layer: layer, slot: slot) }
        }
        return Probe.absent
    }

    /// Third stage: writes the record of every value of `stage`, in order, to `records`.
    /// `exactOnly`: the lean first stage filed one exact probe per value and no states.
    func resolveBatch(
        stage: Int, count: Int, now: UInt32, into records: UnsafeMutablePointer<MatchRecord>, exactOnly: Bool = false
    ) {
        let states = self.states.baseAddress! + stage * batchSize
        if lean {
            resolveLean(stage: stage, count: count, now: now, into: records, exactOnly: exactOnly)
            return
        }
        if !delta.isEmpty {
            for slot in 0..<count {
                let state = states[slot]
                records[slot] = state.count < 0 ? .refused : resolveLive(state, now: now)
            }
            return
        }
        // The table and probe buffer read once per batch, not per value (`records` could alias
        // them as far as the compiler knows, so it reloads them after every store).
        let table = self.table
        let probes = self.probes
        for slot in 0..<count {
            let state = states[slot]
            records[slot] = state.count < 0 ? .refused : Self.resolve(state, table: table, probes: probes, now: now)
        }
    }

    /// The first probe of `state` that finds a live entry (a parent only if it covers
    /// subdomains), from the snapshot alone (the delta is empty). A located fingerprint is
    /// confirmed by the cold record's `hi`; when that differs (another digest with the same
    /// `lo`), the full lookup decides. Reads the entry's metadata words once; decoding waits
    /// for the caller.
    @inline(__always)
    func resolve(_ state: ValueState, now: UInt32) -> MatchRecord {
        Self.resolve(state, table: table, probes: probes, now: now)
    }

    /// `resolve` with the table and probes given.
    @inline(__always)
    static func resolve(
        _ state: ValueState, table: BucketTable, probes: UnsafeMutableBufferPointer<Probe>, now: UInt32
    ) -> MatchRecord {
        var index = Int(state.first)
        let end = index + Int(state.count)
        while index < end {
            let probe = probes[index]
            index += 1
            var entry = probe.entry
            if entry == Probe.unscanned || (entry >= 0 && table.hi(at: entry) != probe.hi) {
                entry = table.find(lo: probe.lo, hi: probe.hi)
            }
            guard entry >= 0 else { continue }
            let (word2, word3) = table.words(at: entry)
            if let record = Self.record(state, probe, word2: word2, word3: word3, now: now) { return record }
        }
        return .miss(state.type)
    }

    /// `resolve` with a delta: a probe the delta knows is answered by the delta's entry alone
    /// (a tombstone or an expired entry does not match, and the snapshot is not consulted),
    /// any other probe by the snapshot — `LiveState.lookup` per probe.
    func resolveLive(_ state: ValueState, now: UInt32) -> MatchRecord {
        let table = self.table
        let probes = self.probes
        var index = Int(state.first)
        let end = index + Int(state.count)
        while index < end {
            let probe = probes[index]
            index += 1
            var entry = probe.entry
            if entry == Probe.unscanned {
                entry = locateInDelta(lo: probe.lo, hi: probe.hi)
                if entry == Probe.absent { entry = table.find(lo: probe.lo, hi: probe.hi) }
            } else if entry >= 0 && table.hi(at: entry) != probe.hi {
                entry = table.find(lo: probe.lo, hi: probe.hi)
            }
            let word2: UInt64
            let word3: UInt64
            if entry <= Probe.deltaReference(layer: 0, slot: 0) {
                let (layer, slot) = Probe.deltaLocation(entry)
                (word2, word3) = delta[layer].words(at: slot)
                if word3 == DeltaIndex.tombstoneWord3 { continue }
            } else if entry >= 0 {
                (word2, word3) = table.words(at: entry)
            } else {
                continue
            }
            if let record = Self.record(state, probe, word2: word2, word3: word3, now: now) { return record }
        }
        return .miss(state.type)
    }

    /// The hit record of `probe` for an entry's metadata words, nil when the entry has expired
    /// at `now` or is a parent domain that does not cover its subdomains.
    @inline(__always)
    private static func record(_ state: ValueState, _ probe: Probe, word2: UInt64, word3: UInt64, now: UInt32) -> MatchRecord? {
        let expires = UInt32(truncatingIfNeeded: word2)
        if expires != 0 && now >= expires { return nil }
        if probe.kind == Probe.parent && !Slot.coversSubdomains(word3) { return nil }
        return MatchRecord(
            status: .hit, type: state.type, kindCode: probe.kind, detail: probe.detail, word2: word2, word3: word3,
            digestLo: probe.lo, digestHi: probe.hi)
    }

    /// Appends the probes of the canonical value in `canonical[2..<2 + count]` (the first is
    /// always the exact one, kind 0 and detail 0, as the lean resolve relies on): the value
    /// itself, then (IP) every network length the store holds that contains it, longest first,
    /// or (domain, if the store has subdomain-covering entries) every parent that still has a
    /// dot, nearest first. Overwrites the canonical bytes (parents are digested in place).
    func addProbes(_ form: CanonicalForm, count: Int, at probeCount: inout Int) {
        let bytes = UnsafeBufferPointer(rebasing: canonical[2..<(2 + count)])
        if form.type == .url {
            // The exact expression (`DigestBody.body`) first, then the other Safe Browsing
            // host-suffix / path-prefix expressions, each digested as a URL body.
            var expression: UInt8 = 0
            URLIndicator.forEachLookupExpression(bytes) { body in
                addProbe(key.digest(.url, body: body), kind: expression == 0 ? Probe.exact : Probe.urlExpression,
                         detail: expression, at: &probeCount)
                expression &+= 1
            }
            return
        }
        let whole = UnsafeMutableBufferPointer(rebasing: canonical[..<(2 + count)])
        addProbe(key.digest(form.type, headroom: whole), kind: Probe.exact, detail: 0, at: &probeCount)
        addCoveringProbes(form, count: count, at: &probeCount)
    }

    /// The probes after the exact one for the canonical IP or domain value in
    /// `canonical[2..<2 + count]`: covering networks the store holds, or parent domains.
    @inline(__always)
    func addCoveringProbes(_ form: CanonicalForm, count: Int, at probeCount: inout Int) {
        let bytes = UnsafeBufferPointer(rebasing: canonical[2..<(2 + count)])
        switch form.type {
        case .ipv4 where prefixes.ipv4 != 0 && count >= 4:
            let own = form.isNetwork ? Int(form.prefixLength) : 32
            addNetworkProbes(.ipv4, address: bytes, width: 4, below: own, low: prefixes.ipv4, high: 0, at: &probeCount)
        case .ipv6 where (prefixes.ipv6Low | prefixes.ipv6High) != 0 && count >= 16:
            let own = form.isNetwork ? Int(form.prefixLength) : 128
            addNetworkProbes(
                .ipv6, address: bytes, width: 16, below: own, low: prefixes.ipv6Low, high: prefixes.ipv6High,
                at: &probeCount)
        case .domain where probeParents:
            addParentProbes(count: count, at: &probeCount)
        default:
            break
        }
    }

    /// Network probes: for each stored length `p` < `own` (longest first), the digest of the
    /// first `width` bytes masked to `p` bits followed by the byte `p` (the canonical CIDR form).
    private func addNetworkProbes(
        _ type: IndicatorType, address: UnsafeBufferPointer<UInt8>, width: Int, below own: Int,
        low: UInt64, high: UInt64, at count: inout Int
    ) {
        let body = networkBody
        var remainingHigh = own > 64 ? (own >= 128 ? high : high & ((1 << UInt64(own - 64)) - 1)) : 0
        var remainingLow = own >= 64 ? low : low & ((1 << UInt64(own)) - 1)
        while remainingHigh != 0 || remainingLow != 0 {
            let length: Int
            if remainingHigh != 0 {
                let bit = 63 - remainingHigh.leadingZeroBitCount
                remainingHigh &= ~(1 << UInt64(bit))
                length = 64 + bit
            } else {
                let bit = 63 - remainingLow.leadingZeroBitCount
                remainingLow &= ~(1 << UInt64(bit))
                length = bit
            }
            for byteIndex in 0..<width {
                let keep = length - 8 * byteIndex
                let mask: UInt8 = keep >= 8 ? 0xFF : keep <= 0 ? 0 : ~(0xFF >> UInt8(keep))
                body[2 + byteIndex] = address[byteIndex] & mask
            }
            body[2 + width] = UInt8(length)
            let digest = key.digest(type, headroom: UnsafeMutableBufferPointer(rebasing: body[..<(3 + width)]))
            addProbe(digest, kind: Probe.network, detail: UInt8(length), at: &count)
        }
    }

    /// Parent probes of the canonical domain in `canonical[2..<2 + count]`: every suffix after
    /// a dot that itself has a dot. Each is digested in place, the two bytes before it (already
    /// scanned) serving as headroom.
    private func addParentProbes(count: Int, at probeCount: inout Int) {
        let end = 2 + count
        var lastDot = -1
        for index in stride(from: end - 1, through: 2, by: -1) where canonical[index] == UInt8(ascii: ".") {
            lastDot = index
            break
        }
        var levels: UInt8 = 0
        var index = 2
        while index < lastDot {
            if canonical[index] == UInt8(ascii: ".") {
                levels &+= 1
                let start = index + 1  // the parent is canonical[start..<end]
                let digest = key.digest(.domain, headroom: UnsafeMutableBufferPointer(rebasing: canonical[(start - 2)..<end]))
                addProbe(digest, kind: Probe.parent, detail: levels, at: &probeCount)
            }
            index += 1
        }
    }

    /// Records a probe.
    @inline(__always)
    func addProbe(_ digest: IndicatorDigest, kind: UInt8, detail: UInt8, at count: inout Int) {
        let stored = Slot.stored(digest)
        probes[count] = Probe(lo: stored.lo, hi: stored.hi, kind: kind, detail: detail, entry: Probe.unscanned)
        count &+= 1
    }

    /// Test seam: the result for one already canonical value (skips canonicalisation), so
    /// probing can be tested with synthetic canonical bytes.
    package func match(canonical bytes: [UInt8], form: CanonicalForm, now: UInt32) -> MatchResult {
        var count = 0
        addProbes(form, count: loadCanonical(bytes), at: &count)
        let state = ValueState(type: form.type, first: 0, count: Int32(count))
        let record = delta.isEmpty ? resolve(state, now: now) : resolveLive(state, now: now)
        return MatchResult(record, refusal: .unrecognised)
    }

    /// Test seam: the probes of one canonical value, in order.
    package func probeDigests(canonical bytes: [UInt8], form: CanonicalForm) -> [(IndicatorDigest, MatchKind)] {
        var count = 0
        addProbes(form, count: loadCanonical(bytes), at: &count)
        return (0..<count).map { index in
            let probe = probes[index]
            let kind: MatchKind = switch probe.kind {
            case Probe.exact: .exact
            case Probe.network: .network(prefixLength: probe.detail)
            default: .parent(levels: probe.detail)
            }
            return (IndicatorDigest(lo: probe.lo, hi: probe.hi), kind)
        }
    }

    private func loadCanonical(_ bytes: [UInt8]) -> Int {
        precondition(bytes.count + 2 <= canonical.count)
        for (offset, byte) in bytes.enumerated() { canonical[2 + offset] = byte }
        return bytes.count
    }
}

extension Matcher {
    /// Test seam: the result for one stored digest of `type`, through the matcher's own stages
    /// (scan with `locate`, then confirm by the cold record's `hi`, falling back to the full
    /// lookup when another digest shares the `lo`).
    package func match(digest: IndicatorDigest, type: IndicatorType, now: UInt32) -> MatchResult {
        var count = 0
        addProbe(digest, kind: Probe.exact, detail: 0, at: &count)
        locateBatch(stage: 0, count: count)
        let state = ValueState(type: type, first: 0, count: Int32(count))
        let record = delta.isEmpty ? resolve(state, now: now) : resolveLive(state, now: now)
        return MatchResult(record, refusal: .unrecognised)
    }
}
