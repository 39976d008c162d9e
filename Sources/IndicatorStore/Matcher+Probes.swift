import CHubShim
package import IndicatorKit

/// One digest to look up for a value, in the order its matches rank.
struct Probe {
    var lo: UInt64
    var hi: UInt64
    /// 0 exact, 1 network, 2 parent domain.
    var kind: UInt8
    /// Prefix length (network) or labels removed (parent).
    var detail: UInt8

    static let exact: UInt8 = 0
    static let network: UInt8 = 1
    static let parent: UInt8 = 2
}

/// Per value of a batch: its type and probe range, or `count` -1 when refused.
struct ValueState {
    var type: IndicatorType
    var first: Int32
    var count: Int32
}

extension Matcher {
    /// Canonicalises and digests the values in `range`, prefetching as it goes, then probes.
    func matchBatch(
        _ values: UnsafeBufferPointer<UnsafeBufferPointer<UInt8>>, types: UnsafeBufferPointer<IndicatorType?>?,
        range: Range<Int>, now: UInt32, into results: inout [MatchResult]
    ) {
        var probeCount = 0
        for index in range {
            let slot = index - range.lowerBound
            let type = types?[index] ?? nil
            var writer = ByteWriter(canonical)
            let form: CanonicalForm
            let bytes: UnsafeBufferPointer<UInt8>
            if rawDigests, let type {
                form = CanonicalForm(type: type)
                bytes = values[index]
            } else {
                do {
                    form = try Canonicalizer.canonicalize(values[index], as: type, into: &writer)
                } catch {
                    errors[slot] = error
                    states[slot] = ValueState(type: .ipv4, first: 0, count: -1)
                    continue
                }
                bytes = writer.written
            }
            let first = probeCount
            if rawDigests {
                addProbe(key.digest(form.type, body: bytes), kind: Probe.exact, detail: 0, at: &probeCount)
            } else {
                addProbes(form, canonical: bytes, at: &probeCount)
            }
            states[slot] = ValueState(type: form.type, first: Int32(first), count: Int32(probeCount - first))
        }
        for slot in 0..<range.count {
            let state = states[slot]
            if state.count < 0 {
                results.append(.refused(errors[slot]!))
                errors[slot] = nil
            } else {
                results.append(resolve(state, now: now))
            }
        }
    }

    /// The first probe of `state` that finds a live entry (a parent only if it covers subdomains).
    @inline(__always)
    func resolve(_ state: ValueState, now: UInt32) -> MatchResult {
        var index = Int(state.first)
        let end = index + Int(state.count)
        while index < end {
            let probe = probes[index]
            index += 1
            let slot = table.find(lo: probe.lo, hi: probe.hi)
            guard slot >= 0 else { continue }
            let expires = table.expires(at: slot)
            if expires != 0 && now >= expires { continue }
            let metadata = table.metadata(at: slot)
            switch probe.kind {
            case Probe.exact: return .hit(state.type, metadata, .exact)
            case Probe.network: return .hit(state.type, metadata, .network(prefixLength: probe.detail))
            default:
                if metadata.coversSubdomains { return .hit(state.type, metadata, .parent(levels: probe.detail)) }
            }
        }
        return .miss(state.type)
    }

    /// Appends the probes of one canonical value: the value itself, then (IP) every network
    /// length the store holds that contains it, longest first, or (domain, if the store has
    /// subdomain-covering entries) every parent that still has a dot, nearest first.
    func addProbes(_ form: CanonicalForm, canonical bytes: UnsafeBufferPointer<UInt8>, at count: inout Int) {
        // The single place a value's own digest is computed. For URLs this digests
        // `DigestBody.body` (the whole expression); the host-suffix / path-prefix expressions
        // of `URLIndicator.forEachLookupExpression` are to be probed here once it exists.
        addProbe(key.digest(form, canonical: bytes), kind: Probe.exact, detail: 0, at: &count)
        switch form.type {
        case .ipv4 where !prefixes.isEmpty && bytes.count >= 4:
            let own = form.isNetwork ? Int(form.prefixLength) : 32
            addNetworkProbes(.ipv4, address: bytes, width: 4, below: own, low: prefixes.ipv4, high: 0, at: &count)
        case .ipv6 where !prefixes.isEmpty && bytes.count >= 16:
            let own = form.isNetwork ? Int(form.prefixLength) : 128
            addNetworkProbes(
                .ipv6, address: bytes, width: 16, below: own, low: prefixes.ipv6Low, high: prefixes.ipv6High,
                at: &count)
        case .domain where probeParents:
            addParentProbes(bytes, at: &count)
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
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 17) { body in
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
                    body[byteIndex] = address[byteIndex] & mask
                }
                body[width] = UInt8(length)
                let digest = key.digest(type, body: UnsafeBufferPointer(rebasing: body[0...width]))
                addProbe(digest, kind: Probe.network, detail: UInt8(length), at: &count)
            }
        }
    }

    /// Parent probes of a canonical domain: every suffix after a dot that itself has a dot.
    private func addParentProbes(_ name: UnsafeBufferPointer<UInt8>, at count: inout Int) {
        var levels: UInt8 = 0
        var index = 0
        while index < name.count {
            if name[index] == UInt8(ascii: ".") {
                let parent = UnsafeBufferPointer(rebasing: name[(index + 1)...])
                guard parent.contains(UInt8(ascii: ".")) else { return }
                levels &+= 1
                addProbe(key.digest(.domain, body: parent), kind: Probe.parent, detail: levels, at: &count)
            }
            index += 1
        }
    }

    /// Records a probe and prefetches its home line (and the next one, if a scan can reach it).
    @inline(__always)
    func addProbe(_ digest: IndicatorDigest, kind: UInt8, detail: UInt8, at count: inout Int) {
        if count == probes.count { growProbes() }
        let stored = Slot.stored(digest)
        probes[count] = Probe(lo: stored.lo, hi: stored.hi, kind: kind, detail: detail)
        count += 1
        let line = table.homeAddress(lo: stored.lo)
        chub_prefetch(line)
        if prefetchNextLine { chub_prefetch(line + 64) }
    }

    private func growProbes() {
        let larger = UnsafeMutableBufferPointer<Probe>.allocate(capacity: probes.count * 2)
        _ = larger.initialize(fromContentsOf: probes)
        probes.deallocate()
        probes = larger
    }

    /// Test seam: the result for one already canonical value (skips canonicalisation), so
    /// probing can be tested with synthetic canonical bytes.
    package func match(canonical bytes: [UInt8], form: CanonicalForm, now: UInt32) -> MatchResult {
        var count = 0
        bytes.withUnsafeBufferPointer { addProbes(form, canonical: $0, at: &count) }
        return resolve(ValueState(type: form.type, first: 0, count: Int32(count)), now: now)
    }

    /// Test seam: the probes of one canonical value, in order.
    package func probeDigests(canonical bytes: [UInt8], form: CanonicalForm) -> [(IndicatorDigest, MatchKind)] {
        var count = 0
        bytes.withUnsafeBufferPointer { addProbes(form, canonical: $0, at: &count) }
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
}
