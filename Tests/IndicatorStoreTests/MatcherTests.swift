import IndicatorKit
import Testing
@testable import IndicatorStore

/// Probing logic with synthetic canonical bytes (the per-type canonicalisers live elsewhere):
/// CIDR networks, parent domains, expiry, priority of matches, the batch API's plumbing.
@Suite struct MatcherTests {
    static let v4Network8: [UInt8] = [10, 0, 0, 0, 8]
    static let v4Network24: [UInt8] = [10, 1, 2, 0, 24]
    static let v4Address: [UInt8] = [198, 51, 100, 7]

    /// A store with 10.0.0.0/8, 10.1.2.0/24 (expired at 5000), 198.51.100.7,
    /// 2001:db8::/32, 2001:db8:0:0:1::/80, example.com (covers subdomains), shop.example.org (does not).
    static func makeStore(_ directory: TemporaryDirectory, prefixes: NetworkPrefixes? = nil) throws -> Snapshot {
        var recorded = NetworkPrefixes()
        recorded.insert(.ipv4, prefixLength: 8)
        recorded.insert(.ipv4, prefixLength: 24)
        recorded.insert(.ipv6, prefixLength: 32)
        recorded.insert(.ipv6, prefixLength: 80)
        let v6Network32: [UInt8] = [0x20, 0x01, 0x0d, 0xb8] + [UInt8](repeating: 0, count: 12) + [32]
        let v6Network80: [UInt8] = [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 1] + [UInt8](repeating: 0, count: 6) + [80]
        let entries: [(IndicatorDigest, EntryMetadata)] = [
            (digest(.ipv4, v4Network8), EntryMetadata(category: .botnet, sourceID: 8)),
            (digest(.ipv4, v4Network24), EntryMetadata(category: .c2, sourceID: 24, expires: 5000)),
            (digest(.ipv4, v4Address), EntryMetadata(category: .scanning, sourceID: 32)),
            (digest(.ipv6, v6Network32), EntryMetadata(sourceID: 632)),
            (digest(.ipv6, v6Network80), EntryMetadata(sourceID: 680)),
            (digest(.domain, "example.com"), EntryMetadata(category: .phishing, sourceID: 1, coversSubdomains: true)),
            (digest(.domain, "shop.example.org"), EntryMetadata(category: .scam, sourceID: 2)),
        ]
        return try writeSnapshot(entries, to: directory.file("match.snap"), prefixes: prefixes ?? recorded).0
    }

    static func ipv4(_ bytes: [UInt8]) -> CanonicalForm {
        CanonicalForm(type: .ipv4, prefixLength: bytes.count == 5 ? bytes[4] : 32)
    }

    @Test func addressesMatchTheLongestLiveNetworkContainingThem() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let matcher = try Matcher(snapshot: Self.makeStore(directory), key: testKey)
        func check(_ bytes: [UInt8], now: UInt32 = 1000) -> MatchResult {
            matcher.match(canonical: bytes, form: Self.ipv4(bytes), now: now)
        }
        guard case .hit(.ipv4, let meta, .network(24)) = check([10, 1, 2, 3]) else {
            Issue.record("10.1.2.3 should match 10.1.2.0/24: \(check([10, 1, 2, 3]))")
            return
        }
        #expect(meta.sourceID == 24)
        // After the /24 expires, the /8 still covers the address.
        guard case .hit(.ipv4, let wider, .network(8)) = check([10, 1, 2, 3], now: 5000) else {
            Issue.record("expired /24 should fall back to /8")
            return
        }
        #expect(wider.sourceID == 8)
        guard case .hit(_, _, .network(8)) = check([10, 200, 0, 1]) else { Issue.record("10.200.0.1 in /8"); return }
        guard case .hit(_, let exact, .exact) = check(Self.v4Address) else { Issue.record("exact address"); return }
        #expect(exact.sourceID == 32)
        #expect(check([11, 0, 0, 1]) == .miss(.ipv4))
        #expect(check([198, 51, 100, 8]) == .miss(.ipv4))
        // A queried network inside a listed one matches it; a wider one does not match narrower entries.
        guard case .hit(_, _, .network(8)) = check([10, 9, 0, 0, 16]) else { Issue.record("10.9.0.0/16 in /8"); return }
        #expect(check([198, 51, 100, 0, 24]) == .miss(.ipv4))
        // The network itself is an exact match.
        guard case .hit(_, _, .exact) = check(Self.v4Network8) else { Issue.record("10.0.0.0/8 exact"); return }
    }

    @Test func ipv6NetworksAboveAndBelow64Bits() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let matcher = try Matcher(snapshot: Self.makeStore(directory), key: testKey)
        let form = CanonicalForm(type: .ipv6, prefixLength: 128)
        var inside80: [UInt8] = [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 1] + [UInt8](repeating: 0, count: 6)
        inside80[15] = 0x42
        guard case .hit(.ipv6, let meta, .network(80)) = matcher.match(canonical: inside80, form: form, now: 0) else {
            Issue.record("address inside the /80")
            return
        }
        #expect(meta.sourceID == 680)
        var inside32 = inside80
        inside32[9] = 2
        guard case .hit(.ipv6, let wide, .network(32)) = matcher.match(canonical: inside32, form: form, now: 0) else {
            Issue.record("address inside the /32 only")
            return
        }
        #expect(wide.sourceID == 632)
        var outside = inside80
        outside[3] = 0xb9
        #expect(matcher.match(canonical: outside, form: form, now: 0) == .miss(.ipv6))
    }

    @Test func onlyPrefixLengthsInTheHeaderAreProbed() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let full = try Matcher(snapshot: Self.makeStore(directory), key: testKey)
        let probes = full.probeDigests(canonical: [10, 1, 2, 3], form: Self.ipv4([10, 1, 2, 3]))
        #expect(probes.map(\.1) == [.exact, .network(prefixLength: 24), .network(prefixLength: 8)])
        #expect(probes[2].0 == Slot.stored(digest(.ipv4, Self.v4Network8)))
        // A /16 query only probes shorter lengths.
        #expect(full.probeDigests(canonical: [10, 1, 0, 0, 16], form: Self.ipv4([10, 1, 0, 0, 16])).count == 2)

        // The same entries with a header that forgot /8: the /8 network is never probed.
        var partial = NetworkPrefixes()
        partial.insert(.ipv4, prefixLength: 24)
        let other = TemporaryDirectory()
        defer { other.remove() }
        let matcher = try Matcher(snapshot: Self.makeStore(other, prefixes: partial), key: testKey)
        #expect(matcher.match(canonical: [10, 200, 0, 1], form: Self.ipv4([10, 200, 0, 1]), now: 0) == .miss(.ipv4))
        #expect(matcher.probeDigests(canonical: [10, 200, 0, 1], form: Self.ipv4([10, 200, 0, 1])).count == 2)
    }

    @Test func parentDomainsMatchOnlyEntriesCoveringSubdomains() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let matcher = try Matcher(snapshot: Self.makeStore(directory), key: testKey)
        let form = CanonicalForm(type: .domain)
        func check(_ name: String) -> MatchResult { matcher.match(canonical: Array(name.utf8), form: form, now: 0) }
        guard case .hit(.domain, let meta, .parent(levels: 2)) = check("a.b.example.com") else {
            Issue.record("a.b.example.com under example.com: \(check("a.b.example.com"))")
            return
        }
        #expect(meta.category == .phishing)
        guard case .hit(_, _, .parent(levels: 1)) = check("login.example.com") else { Issue.record("one level"); return }
        guard case .hit(_, _, .exact) = check("example.com") else { Issue.record("exact"); return }
        guard case .hit(_, _, .exact) = check("shop.example.org") else { Issue.record("exact, not covering"); return }
        #expect(check("x.shop.example.org") == .miss(.domain))
        #expect(check("example.net") == .miss(.domain))
        #expect(check("com") == .miss(.domain))
        #expect(check("notexample.com") == .miss(.domain))
        // Parents with a dot only: "a.b.example.com" probes itself, b.example.com, example.com.
        #expect(matcher.probeDigests(canonical: Array("a.b.example.com".utf8), form: form).map(\.1)
            == [.exact, .parent(levels: 1), .parent(levels: 2)])
    }

    @Test func noParentProbesWithoutCoveringEntries() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let (snapshot, _) = try writeSnapshot(
            [(digest(.domain, "example.com"), EntryMetadata())], to: directory.file("plain.snap"))
        #expect(!snapshot.header.hasSubdomainEntries)
        let matcher = try Matcher(snapshot: snapshot, key: testKey)
        let form = CanonicalForm(type: .domain)
        #expect(matcher.probeDigests(canonical: Array("a.example.com".utf8), form: form).count == 1)
        #expect(matcher.match(canonical: Array("a.example.com".utf8), form: form, now: 0) == .miss(.domain))
    }

    @Test func expiredExactEntryFallsBackToALiveParent() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let entries = [
            (digest(.domain, "mail.example.com"), EntryMetadata(sourceID: 1, expires: 100)),
            (digest(.domain, "example.com"), EntryMetadata(sourceID: 2, coversSubdomains: true)),
        ]
        let matcher = try Matcher(snapshot: writeSnapshot(entries, to: directory.file("e.snap")).0, key: testKey)
        let name = Array("mail.example.com".utf8)
        guard case .hit(_, let live, .exact) = matcher.match(canonical: name, form: CanonicalForm(type: .domain), now: 99)
        else { Issue.record("live exact"); return }
        #expect(live.sourceID == 1)
        guard case .hit(_, let parent, .parent(levels: 1)) = matcher.match(canonical: name, form: CanonicalForm(type: .domain), now: 100)
        else { Issue.record("expired exact → parent"); return }
        #expect(parent.sourceID == 2)
    }

    @Test func batchesKeepInputOrderAndReportRefusals() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        // Raw-digest mode: entries are digests of the raw bytes, as the benchmark's --no-canonicalize.
        let listed = (0..<100).map { "listed-\($0).example" }
        let entries = listed.map { (digest(.domain, $0), EntryMetadata(sourceID: 7)) }
        let snapshot = try writeSnapshot(entries, to: directory.file("batch.snap")).0
        let raw = try Matcher(snapshot: snapshot, key: testKey, batchSize: 8, rawDigests: true)
        var values: [String] = []
        for index in 0..<100 { values.append(index % 3 == 0 ? "absent-\(index)" : listed[index]) }
        let results = raw.match(values, type: .domain, now: 0)
        #expect(results.count == 100)
        for (index, result) in results.enumerated() {
            if index % 3 == 0 {
                #expect(result == .miss(.domain))
            } else {
                #expect(result == .hit(.domain, EntryMetadata(sourceID: 7), .exact))
            }
        }

        // Canonicalising mode: values every canonicaliser refuses, between others.
        let matcher = try Matcher(snapshot: snapshot, key: testKey, batchSize: 3)
        let long = String(repeating: "a", count: Canonicalizer.maxInputBytes + 1)
        let refused = matcher.match(["", " \t ", long, "", long], type: .domain, now: 0)
        #expect(refused == [
            .refused(.empty), .refused(.empty), .refused(.tooLong(limit: Canonicalizer.maxInputBytes)),
            .refused(.empty), .refused(.tooLong(limit: Canonicalizer.maxInputBytes)),
        ])
    }

    @Test(arguments: [1, 7, 32, 256])
    func pipelinedBatchesAnswerEveryValue(batchSize: Int) throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        // Enough entries for scans that spill past their home bucket.
        let listed = (0..<20_000).map { "host-\($0).example" }
        var writer = SnapshotWriter(key: testKey)
        for (index, name) in listed.enumerated() {
            writer.add(digest(.domain, name), EntryMetadata(sourceID: UInt16(index % 60_000), expires: index % 10 == 0 ? 50 : 0))
        }
        _ = try writer.write(to: directory.file("many.snap"), createdAt: 0)
        let snapshot = try Snapshot.open(directory.file("many.snap"), key: testKey, verification: .full)
        #expect(snapshot.header.maxSpill >= 1)
        let matcher = try Matcher(snapshot: snapshot, key: testKey, batchSize: batchSize, rawDigests: true)
        #expect(matcher.match([String](), type: .domain, now: 0).isEmpty)
        var values: [String] = []
        // Even values are listed: index % 4 == 0 at an expired entry (k % 10 == 0), else a live one.
        func listedIndex(_ index: Int) -> Int { index % 4 == 0 ? index * 5 : index * 5 + 1 }
        for index in 0..<3000 { values.append(index % 2 == 0 ? listed[listedIndex(index)] : "other-\(index).example") }
        let results = matcher.match(values, type: .domain, now: 100)
        #expect(results.count == values.count)
        for (index, result) in results.enumerated() {
            if index % 2 == 0 && index % 4 != 0 {
                #expect(result == .hit(.domain, EntryMetadata(sourceID: UInt16(listedIndex(index))), .exact), "value \(index)")
            } else {
                #expect(result == .miss(.domain), "value \(index)")
            }
        }
    }

    @Test func hostileBytesNeverCrashTheMatcher() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let snapshot = try writeSnapshot([(digest(.domain, "example.com"), EntryMetadata())], to: directory.file("h.snap")).0
        let matcher = try Matcher(snapshot: snapshot, key: testKey, batchSize: 5)
        var random = SplitMix(seed: 99)
        var values: [[UInt8]] = []
        for length in 0..<300 { values.append((0..<length).map { _ in UInt8(truncatingIfNeeded: random.next()) }) }
        for type in [nil] + IndicatorType.allCases.map(Optional.some) {
            let results = matcher.match(values.map { String(decoding: $0, as: UTF8.self) }, type: type, now: 0)
            #expect(results.count == values.count)
        }
    }

    @Test func matcherRefusesASnapshotOfAnotherKey() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let snapshot = try writeSnapshot([], to: directory.file("k.snap")).0
        let other = DigestKey(bytes: Array(repeating: 9, count: 16))!
        #expect(throws: StoreError.keyMismatch(path: directory.file("k.snap"), expected: other.id, found: testKey.id)) {
            _ = try Matcher(snapshot: snapshot, key: other)
        }
    }
}
