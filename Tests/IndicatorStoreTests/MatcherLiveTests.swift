import IndicatorKit
import Testing
@testable import IndicatorStore

/// The batched matcher over a `LiveState` (snapshot + delta layers) against the single-digest
/// reference `LiveState.lookup`, probe by probe in the documented priority: the value, then
/// every network length (longest first) or every parent domain (nearest first).
@Suite struct MatcherLiveTests {
    /// Canonical bytes of IPv4 address `index` of the test universe: 10.x.y.z with few
    /// distinct /16s, so networks cover many of them.
    static func address(_ random: inout SplitMix) -> [UInt8] {
        [10, UInt8(random.next() % 4), UInt8(random.next() % 16), UInt8(random.next() % 256)]
    }

    static func network(_ address: [UInt8], _ length: Int) -> [UInt8] {
        var bytes = address
        for index in 0..<4 {
            let keep = length - 8 * index
            bytes[index] &= keep >= 8 ? 0xFF : keep <= 0 ? 0 : ~(0xFF >> UInt8(keep))
        }
        return bytes + [UInt8(length)]
    }

    static let labels = ["a", "b", "mail", "shop", "login", "cdn"]
    static let zones = ["example.com", "bank.example.org", "evil.example.net", "x.y.example"]

    static func domain(_ random: inout SplitMix, depth: Int) -> String {
        var name = zones[Int(random.next() % UInt64(zones.count))]
        for _ in 0..<depth { name = labels[Int(random.next() % UInt64(labels.count))] + "." + name }
        return name
    }

    /// The reference answer: each probe's digest through `LiveState.lookup`, first match wins.
    static func reference(_ value: String, state: LiveState, now: UInt32) -> MatchResult {
        let parts = value.split(separator: ".")
        if parts.count == 4 && parts.allSatisfy({ UInt8($0) != nil }) {
            let octets = parts.map { UInt8($0)! }
            var probes: [(IndicatorDigest, MatchKind)] = [(digest(.ipv4, octets), .exact)]
            for length in stride(from: 31, through: 0, by: -1) {
                probes.append((digest(.ipv4, network(octets, length)), .network(prefixLength: UInt8(length))))
            }
            for (probe, kind) in probes {
                if let metadata = state.lookup(probe, now: now) { return .hit(.ipv4, metadata, kind) }
            }
            return .miss(.ipv4)
        }
        var probes: [(IndicatorDigest, MatchKind)] = [(digest(.domain, value), .exact)]
        var parent = Substring(value)
        var levels: UInt8 = 0
        while let dot = parent.firstIndex(of: "."), parent[parent.index(after: dot)...].contains(".") {
            parent = parent[parent.index(after: dot)...]
            levels += 1
            probes.append((digest(.domain, String(parent)), .parent(levels: levels)))
        }
        for (probe, kind) in probes {
            guard let metadata = state.lookup(probe, now: now) else { continue }
            if case .parent = kind, !metadata.coversSubdomains { continue }
            return .hit(.domain, metadata, kind)
        }
        return .miss(.domain)
    }

    /// A store whose snapshot has addresses, /16 networks and domains none of which covers
    /// subdomains; then uploads in separate groups (so several layers) that add addresses,
    /// /20 and /28 networks and subdomain-covering domains (lengths and flag only in the delta),
    /// re-report snapshot values with other metadata, expire some, and withdraw others.
    static func makeStore(_ directory: TemporaryDirectory, seed: UInt64) throws -> (LiveStore, [String]) {
        var random = SplitMix(seed: seed)
        var values: [String] = []
        var writer = SnapshotWriter(key: testKey)
        var snapshotValues: [(IndicatorDigest, String)] = []
        for _ in 0..<300 {
            let address = address(&random)
            let text = address.map(String.init).joined(separator: ".")
            let digest = digest(.ipv4, address)
            var metadata = Live.metadata(&random, expires: random.next() % 4 == 0 ? 2_000 : 0)
            metadata.sourceID = 1
            metadata.coversSubdomains = false
            writer.add(digest, metadata, form: CanonicalForm(type: .ipv4))
            snapshotValues.append((digest, text))
            values.append(text)
        }
        for _ in 0..<6 {
            let network = network(address(&random), 16)
            var metadata = Live.metadata(&random)
            metadata.expires = random.next() % 2 == 0 ? 3_000 : 0
            metadata.sourceID = 1
            metadata.coversSubdomains = false
            writer.add(digest(.ipv4, network), metadata, form: CanonicalForm(type: .ipv4, prefixLength: 16))
        }
        for depth in 0..<3 {
            for _ in 0..<40 {
                let name = domain(&random, depth: depth)
                var metadata = Live.metadata(&random)
                metadata.coversSubdomains = false
                metadata.sourceID = 1
                metadata.coversSubdomains = false
                writer.add(digest(.domain, name), metadata)
                snapshotValues.append((digest(.domain, name), name))
                values.append(name)
            }
        }
        _ = try writer.write(to: directory.file("indicators.snap"), createdAt: 1)
        let store = try Live.open(directory)

        var uploadIndex = 0
        func upload(source: UInt16, _ reports: [(IndicatorDigest, EntryMetadata)], prefixes: [Int] = []) throws {
            var request = Live.request(Live.uploadID(uploadIndex, salt: seed), source: source, reports)
            for length in prefixes { request.prefixes.insert(.ipv4, prefixLength: length) }
            uploadIndex += 1
            _ = try store.upload(request, time: 1_000)
        }
        // Layer sizes fall, so the binary-counter merge keeps several layers.
        var fresh: [(IndicatorDigest, EntryMetadata)] = []
        for _ in 0..<200 {
            let address = address(&random)
            values.append(address.map(String.init).joined(separator: "."))
            fresh.append((digest(.ipv4, address), Live.metadata(&random, expires: random.next() % 3 == 0 ? 2_500 : 0)))
        }
        try upload(source: 2, fresh)
        var networks: [(IndicatorDigest, EntryMetadata)] = []
        for length in [20, 28] {
            for _ in 0..<20 {
                networks.append((digest(.ipv4, network(address(&random), length)),
                                 Live.metadata(&random, expires: random.next() % 3 == 0 ? 2_500 : 0)))
            }
        }
        try upload(source: 3, networks, prefixes: [20, 28])
        var covering: [(IndicatorDigest, EntryMetadata)] = []
        for depth in 0..<2 {
            for _ in 0..<15 {
                var metadata = Live.metadata(&random, expires: random.next() % 4 == 0 ? 2_500 : 0)
                metadata.coversSubdomains = random.next() % 3 != 0
                covering.append((digest(.domain, domain(&random, depth: depth)), metadata))
            }
        }
        try upload(source: 4, covering)
        // Re-reports of snapshot values: by their own source (replaces) and by another (merges).
        let rereported = (0..<20).map { _ in snapshotValues[Int(random.next() % UInt64(snapshotValues.count))].0 }
        try upload(source: 1, rereported.prefix(10).map { ($0, Live.metadata(&random, expires: 2_200)) })
        try upload(source: 5, rereported.suffix(10).map { ($0, Live.metadata(&random)) })
        // Withdrawals: the snapshot's source withdraws some values (tombstones unless another
        // source reported them too), the network source one network.
        let withdrawn = (0..<8).map { _ in snapshotValues[Int(random.next() % UInt64(snapshotValues.count))].0 }
        _ = try store.withdraw(values: withdrawn + rereported.suffix(3), source: 1)
        _ = try store.withdraw(values: [networks[0].0, networks[25].0], source: 3)

        // Queries: every stored value, subdomains of every zone, fresh random addresses (many
        // inside the networks), junk.
        for _ in 0..<300 { values.append(address(&random).map(String.init).joined(separator: ".")) }
        for depth in 0..<4 { for _ in 0..<60 { values.append(domain(&random, depth: depth)) } }
        return (store, values)
    }

    static func check(_ matcher: Matcher, _ state: LiveState, _ values: [String], now: UInt32) -> Int {
        let results = matcher.match(values, now: now)
        var hits = 0
        for (value, result) in zip(values, results) {
            let expected = reference(value, state: state, now: now)
            #expect(result == expected, "\(value) at \(now): \(result) ≠ reference \(expected)")
            if case .hit = result { hits += 1 }
        }
        return hits
    }

    @Test(arguments: [1, 7, 64])
    func batchedMatcherEqualsTheSingleDigestReference(batchSize: Int) throws {
        for seed: UInt64 in [1, 2, 3] {
            let directory = TemporaryDirectory()
            defer { directory.remove() }
            let (store, values) = try Self.makeStore(directory, seed: seed)
            defer { store.close() }
            let state = store.view()
            #expect(state.layerCount >= 2, "several delta layers")
            #expect(state.snapshot!.header.hasSubdomainEntries == false && state.hasSubdomainEntries)
            let matcher = try Matcher(state: state, key: testKey, batchSize: batchSize)
            #expect(matcher.usesLeanStages, "the C stages answer states with delta layers too")
            // The general (Swift) stages, and the lean ones scanning in their last stage (every
            // probe unscanned there: the delta is searched at resolve time), answer the same.
            let general = try Matcher(state: state, key: testKey, batchSize: batchSize)
            general.generalStagesOnly = true
            let unscanned = try Matcher(state: state, key: testKey, batchSize: batchSize, rawDigests: false, coldStage: false)
            var kinds = Set<String>()
            for now: UInt32 in [1_000, 2_100, 2_300, 2_700, 3_500] {
                let hits = Self.check(matcher, state, values, now: now)
                #expect(hits > 0)
                #expect(Self.check(general, state, values, now: now) == hits)
                #expect(Self.check(unscanned, state, values, now: now) == hits)
                for result in matcher.match(values, now: now) {
                    if case .hit(_, _, let kind) = result { kinds.insert("\(kind)".prefix { $0 != "(" }.description) }
                }
            }
            // The test exercises every kind of match, and networks/parents only the delta has.
            #expect(kinds == ["exact", "network", "parent"], "\(kinds)")
            // The same answers after compaction folds the delta into the snapshot.
            try store.compact(now: 1_000, createdAt: 2)
            let compacted = store.view()
            #expect(compacted.isDeltaEmpty)
            matcher.use(compacted)
            for now: UInt32 in [1_000, 2_300, 3_500] {
                _ = Self.check(matcher, compacted, values, now: now)
                #expect(matcher.match(values, now: now) == Self.referenceResults(values, state, now))
            }
        }
    }

    static func referenceResults(_ values: [String], _ state: LiveState, _ now: UInt32) -> [MatchResult] {
        values.map { reference($0, state: state, now: now) }
    }

    @Test func anEmptyStoreWithoutASnapshotAnswersMisses() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let store = try Live.open(directory)
        defer { store.close() }
        let empty = store.view()
        #expect(empty.snapshot == nil)
        let matcher = try Matcher(state: empty, key: testKey, batchSize: 4)
        let values = ["192.0.2.1", "example.com", "a.b.example.com", "not a value", "2001:db8::1"]
        let results = matcher.match(values, now: 100)
        #expect(results[0] == .miss(.ipv4))
        #expect(results[1] == .miss(.domain))
        #expect(results[2] == .miss(.domain))
        #expect(results[4] == .miss(.ipv6))
        guard case .refused = results[3] else { Issue.record("junk must be refused: \(results[3])"); return }

        // A delta on top of no snapshot: uploads alone answer.
        var request = Live.request(Live.uploadID(1), source: 2, [
            (digest(.ipv4, [192, 0, 2, 0, 24]), EntryMetadata(category: .botnet)),
            (digest(.domain, "example.com"), EntryMetadata(category: .phishing, coversSubdomains: true)),
        ])
        request.prefixes.insert(.ipv4, prefixLength: 24)
        _ = try store.upload(request, time: 50)
        matcher.use(store.view())
        #expect(matcher.snapshot == nil)
        let after = matcher.match(values, now: 100)
        guard case .hit(.ipv4, let network, .network(prefixLength: 24)) = after[0], network.category == .botnet,
              case .hit(.domain, _, .exact) = after[1], case .hit(.domain, _, .parent(levels: 2)) = after[2]
        else {
            Issue.record("delta-only store: \(after)")
            return
        }
        #expect(after[4] == .miss(.ipv6))
    }

    @Test func switchingStatesBetweenBatchesSeesEachGroup() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        _ = try writeSnapshot([(digest(.domain, "old.example"), EntryMetadata(category: .spam, sourceID: 1))],
                              to: directory.file("indicators.snap"))
        let store = try Live.open(directory)
        defer { store.close() }
        let first = store.view()
        let matcher = try Matcher(state: first, key: testKey, batchSize: 2)
        #expect(matcher.match(["old.example", "new.example"], now: 10) == [
            .hit(.domain, EntryMetadata(category: .spam, sourceID: 1), .exact), .miss(.domain),
        ])
        // The same state again is free and changes nothing.
        matcher.use(first)
        #expect(matcher.state === first)

        _ = try store.upload(Live.request(Live.uploadID(1), source: 2, [
            (digest(.domain, "new.example"), EntryMetadata(category: .malware)),
        ]), time: 5)
        _ = try store.withdraw(values: [digest(.domain, "old.example")], source: 1)
        // Until it switches, the matcher keeps answering from the state it holds.
        #expect(matcher.match(["old.example", "new.example"], now: 10)[1] == .miss(.domain))
        matcher.use(store.view())
        #expect(matcher.state.sequence == 2)
        #expect(matcher.match(["old.example", "new.example"], now: 10) == [
            .miss(.domain), .hit(.domain, EntryMetadata(category: .malware, sourceID: 2), .exact),
        ])
        // And back: an older state is answered from as faithfully.
        matcher.use(first)
        #expect(matcher.match(["old.example"], now: 10) == [.hit(.domain, EntryMetadata(category: .spam, sourceID: 1), .exact)])
    }
}
