import CHubSipHash
import IndicatorKit
import Testing
@testable import IndicatorStore

/// The lean stages (`Matcher+Stages.swift`, CHubSipHash `probe.c`) against the general Swift
/// stages: the same record for every value, in every field, on random tables with CIDR
/// entries, subdomain-covering parents, expired entries and refusals; the C bucket scan
/// (AVX2 and portable) against `BucketTable.locate` / `find` on crowded tables (long spills,
/// shared fingerprints, tail buckets) and on deliberately corrupted buckets.
@Suite struct MatcherStagesTests {
    static let now: UInt32 = 1_800_000_000

    @Test func theLeanStagesAnswerInThisBuild() throws {
        #expect(StageLayout.codes != nil, "this build's Probe / ValueState / MatchRecord layouts match the C stages")
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let (snapshot, _) = try writeSnapshot([(digest(.ipv4, [1, 2, 3, 4]), EntryMetadata())], to: directory.file("a.snap"))
        let matcher = try Matcher(snapshot: snapshot, key: testKey)
        #expect(matcher.usesLeanStages)
        matcher.generalStagesOnly = true
        #expect(!matcher.usesLeanStages)
        matcher.generalStagesOnly = false
        #expect(matcher.usesLeanStages)
        #expect(matcher.match(["1.2.3.4", "1.2.3.5"], now: 0).map(\.isHitForTest) == [true, false])
    }

    /// Random tables, with and without networks and subdomain-covering entries (so the lean
    /// first stage both files every value itself and hands covering types to the general
    /// code), matched in batches of several sizes by both stage sets.
    @Test(arguments: [(false, false), (true, false), (false, true), (true, true)])
    func leanAndGeneralStagesGiveTheSameRecords(networks: Bool, parents: Bool) throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        var random = SplitMix(seed: 0x5EED_0000 &+ (networks ? 1 : 0) &+ (parents ? 2 : 0))
        let table = Self.randomTable(&random, networks: networks, parents: parents)
        let (snapshot, _) = try writeSnapshot(table.entries, to: directory.file("t.snap"), prefixes: table.prefixes)
        let queries = Self.queries(&random, table: table)
        var kinds = Set<MatchKind>()
        for batchSize in [1, 3, 8, 32] {
            let lean = try Matcher(snapshot: snapshot, key: testKey, batchSize: batchSize)
            let general = try Matcher(snapshot: snapshot, key: testKey, batchSize: batchSize)
            general.generalStagesOnly = true
            #expect(lean.usesLeanStages && !general.usesLeanStages)
            let leanRecords = Self.records(lean, queries)
            let generalRecords = Self.records(general, queries)
            for index in queries.indices where leanRecords[index] != generalRecords[index] {
                Issue.record("\(queries[index]): lean \(leanRecords[index]) general \(generalRecords[index])")
            }
            for record in leanRecords { if let kind = record.kind { kinds.insert(kind) } }
            #expect(leanRecords.contains { $0.status == .refused } && leanRecords.contains { $0.status == .miss })
        }
        // The tables are built so that every probe kind they allow matches somewhere.
        #expect(kinds.contains(.exact))
        #expect(kinds.contains { if case .network = $0 { true } else { false } } == networks)
        #expect(kinds.contains { if case .parent = $0 { true } else { false } } == parents)
    }

    /// Digests crowded into a few home buckets (spilling over many buckets, into tail buckets
    /// past the last home one), some sharing a fingerprint with different `hi`: the C scan
    /// with and without AVX2 against `BucketTable`, and the lean stages against the general
    /// ones through the digest seam.
    @Test func theScanFollowsSpillsAndSharedFingerprints() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        var random = SplitMix(seed: 0xC0DE)
        var digests: [IndicatorDigest] = []
        let clusters: [UInt64] = [0x1000_0000_0000_0000, 0x8000_0000_0000_0000, 0xFFFF_FFFF_FFFF_0000, 0]
        for cluster in clusters {
            for _ in 0..<150 {
                let lo = cluster &+ random.next() % 0x1_0000
                digests.append(IndicatorDigest(lo: lo, hi: random.next()))
                if random.next() % 4 == 0 { digests.append(IndicatorDigest(lo: lo, hi: random.next())) }
            }
        }
        for _ in 0..<300 { digests.append(IndicatorDigest(lo: random.next(), hi: random.next())) }
        var entries: [(IndicatorDigest, EntryMetadata)] = []
        var seen = Set<IndicatorDigest>()
        for digest in digests where seen.insert(Slot.stored(digest)).inserted {
            let expires: UInt32 = random.next() % 5 == 0 ? Self.now - 1 : 0
            entries.append((digest, EntryMetadata(sourceID: UInt16(truncatingIfNeeded: random.next()), expires: expires)))
        }
        let (snapshot, summary) = try writeSnapshot(entries, to: directory.file("crowded.snap"))
        #expect(summary.header.maxSpill >= 20, "the clusters spill over many buckets")
        #expect(snapshot.table.lastBucket + 1 > Int(snapshot.table.homeBuckets), "entries in tail buckets")
        try Self.compareScans(snapshot, probes: Self.probeDigests(entries.map(\.0), &random))
    }

    /// Buckets with counts above 7, unsorted and random fingerprints (a header-only open of a
    /// damaged file): the C scan gives `BucketTable`'s answers and stays inside the file.
    @Test func theScanMatchesBucketTableOnCorruptedBuckets() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        var random = SplitMix(seed: 0xBAD)
        var entries: [(IndicatorDigest, EntryMetadata)] = []
        for index in 0..<2000 {
            let lo = index % 3 == 0 ? 0x4000_0000_0000_0000 &+ random.next() % 0x10_0000 : random.next()
            entries.append((IndicatorDigest(lo: lo, hi: random.next()), EntryMetadata(sourceID: UInt16(index))))
        }
        let path = directory.file("damaged.snap")
        try writeSnapshot(entries, to: path)
        let snapshot = try Snapshot.open(path, key: testKey, verification: .header, memory: .anonymousCopy(hugePages: false))
        let table = snapshot.table
        let buckets = UnsafeMutableRawPointer(mutating: table.buckets)
        for bucket in 0...table.lastBucket where random.next() % 3 == 0 {
            let address = buckets + bucket * StoreFormat.bucketSize
            switch random.next() % 4 {
            case 0: address.storeBytes(of: UInt8(truncatingIfNeeded: random.next()), toByteOffset: 4, as: UInt8.self)
            case 1:  // shuffle the fingerprints
                var slots = (0..<7).map { address.loadUnaligned(fromByteOffset: 8 + 8 * $0, as: UInt64.self) }
                slots.shuffle(using: &random)
                for (slot, value) in slots.enumerated() { address.storeBytes(of: value, toByteOffset: 8 + 8 * slot, as: UInt64.self) }
            case 2:
                address.storeBytes(of: random.next(), toByteOffset: 8 + 8 * Int(random.next() % 7), as: UInt64.self)
            default:  // a base past the entry count
                address.storeBytes(of: UInt32(truncatingIfNeeded: random.next()), toByteOffset: 0, as: UInt32.self)
            }
        }
        try Self.compareScans(snapshot, probes: Self.probeDigests(entries.map(\.0), &random))
    }

    // MARK: - Helpers

    /// Every query digest through `BucketTable` and the C scan (both kernels, where AVX2 is
    /// available), and through the matcher's lean and general stages.
    static func compareScans(_ snapshot: Snapshot, probes: [IndicatorDigest]) throws {
        var table = Matcher.stageTable(snapshot.table)
        let lean = try Matcher(snapshot: snapshot, key: testKey)
        let general = try Matcher(snapshot: snapshot, key: testKey)
        general.generalStagesOnly = true
        let kernels: [Int32] = chub_siphash128_avx2_available() != 0 ? [0, 1] : [0]
        var hits = 0
        for probe in probes {
            let stored = Slot.stored(probe)
            let expected = snapshot.table.locate(lo: stored.lo)
            for avx2 in kernels {
                let found = chub_stage_locate_one(avx2, &table, stored.lo)
                if found != Int64(expected) {
                    Issue.record("locate \(String(stored.lo, radix: 16)) avx2 \(avx2): \(found), expected \(expected)")
                }
            }
            #expect(chub_stage_find(&table, stored.lo, stored.hi) == Int64(snapshot.table.find(lo: stored.lo, hi: stored.hi)))
            let leanResult = lean.match(digest: probe, type: .domain, now: now)
            let generalResult = general.match(digest: probe, type: .domain, now: now)
            #expect(leanResult == generalResult, "\(probe)")
            if case .hit = leanResult { hits += 1 }
        }
        #expect(hits > 0)
    }

    /// The stored digests, the same fingerprints with another `hi`, fingerprints one above and
    /// one below, and random digests.
    static func probeDigests(_ stored: [IndicatorDigest], _ random: inout SplitMix) -> [IndicatorDigest] {
        var probes: [IndicatorDigest] = []
        for digest in stored {
            probes.append(digest)
            probes.append(IndicatorDigest(lo: digest.lo, hi: digest.hi &+ 1))
            probes.append(IndicatorDigest(lo: digest.lo &+ 1, hi: digest.hi))
            probes.append(IndicatorDigest(lo: digest.lo &- 1, hi: digest.hi))
            probes.append(IndicatorDigest(lo: random.next(), hi: random.next()))
        }
        probes.append(IndicatorDigest(lo: 0, hi: 0))
        probes.append(IndicatorDigest(lo: .max, hi: .max))
        return probes
    }

    struct Table {
        var entries: [(IndicatorDigest, EntryMetadata)] = []
        var prefixes = NetworkPrefixes()
        var addresses: [[UInt8]] = []
        var names: [String] = []
    }

    static let labels = MatcherLiveTests.labels

    /// A name `depth` labels below one of the zones (the live matcher tests' generator).
    static func name(_ random: inout SplitMix, depth: Int) -> String { MatcherLiveTests.domain(&random, depth: depth) }

    static func address(_ random: inout SplitMix) -> [UInt8] {
        [10, UInt8(random.next() % 4), UInt8(random.next() % 16), UInt8(random.next() % 256)]
    }

    static func metadata(_ random: inout SplitMix, covers: Bool = false) -> EntryMetadata {
        EntryMetadata(
            category: .phishing, confidence: UInt8(random.next() % 101), sourceID: UInt16(truncatingIfNeeded: random.next()),
            firstSeenDay: 19_000, lastSeenDay: 19_001,
            expires: random.next() % 4 == 0 ? now - UInt32(random.next() % 2) : (random.next() % 2 == 0 ? 0 : now + 1),
            coversSubdomains: covers)
    }

    static func randomTable(_ random: inout SplitMix, networks: Bool, parents: Bool) -> Table {
        var table = Table()
        var seen = Set<IndicatorDigest>()
        func add(_ digest: IndicatorDigest, _ metadata: EntryMetadata) {
            if seen.insert(digest).inserted { table.entries.append((digest, metadata)) }
        }
        for _ in 0..<400 {
            let bytes = address(&random)
            table.addresses.append(bytes)
            add(digest(.ipv4, bytes), metadata(&random))
        }
        if networks {
            for length in [8, 16, 23, 30] {
                table.prefixes.ipv4 |= 1 << UInt64(length)
                for _ in 0..<(length == 8 ? 1 : 6) {
                    add(digest(.ipv4, MatcherLiveTests.network(address(&random), length)), metadata(&random))
                }
            }
        }
        for _ in 0..<400 {
            let value = name(&random, depth: Int(random.next() % 3))
            table.names.append(value)
            add(digest(.domain, value), metadata(&random, covers: parents && random.next() % 3 == 0))
        }
        return table
    }

    /// Listed and unlisted addresses and names (subdomains of listed ones too), typed and
    /// detected, with whitespace and upper case the fast path handles, and values only the
    /// general path takes or refuses.
    static func queries(_ random: inout SplitMix, table: Table) -> [(String, IndicatorType?)] {
        var queries: [(String, IndicatorType?)] = []
        let junk: [(String, IndicatorType?)] = [
            ("not an indicator!", nil), ("", .domain), ("1.2.3", .ipv4), ("999.1.1.1", .ipv4), ("10.0.0.0/8", .ipv4),
            ("10.1.0.0/16", nil), ("2001:db8::1", nil), ("http://evil.example.net/a/b", nil), ("user@example.com", nil),
            ("EXAMPLE.COM.", .domain), ("xn--bcher-kva.example", .domain), (" 10.1.2.3 ", .ipv4), ("010.1.2.3", .ipv4),
        ]
        for _ in 0..<1500 {
            let typed = random.next() % 2 == 0
            switch random.next() % 6 {
            case 0, 1:
                let bytes = random.next() % 2 == 0 ? table.addresses[Int(random.next() % UInt64(table.addresses.count))] : address(&random)
                queries.append((bytes.map(String.init).joined(separator: "."), typed ? .ipv4 : nil))
            case 2, 3:
                let listed = table.names[Int(random.next() % UInt64(table.names.count))]
                let value = random.next() % 2 == 0 ? listed : labels[Int(random.next() % 6)] + "." + listed
                queries.append((random.next() % 5 == 0 ? value.uppercased() : value, typed ? .domain : nil))
            case 4:
                queries.append((name(&random, depth: 1 + Int(random.next() % 3)), typed ? .domain : nil))
            default:
                queries.append(junk[Int(random.next() % UInt64(junk.count))])
            }
        }
        return queries
    }

    /// The record API over `queries`.
    static func records(_ matcher: Matcher, _ queries: [(String, IndicatorType?)]) -> [MatchRecord] {
        var records = [MatchRecord](repeating: .refused, count: queries.count)
        let types = queries.map(\.1)
        withValueBuffers(queries.map(\.0)) { buffers in
            types.withUnsafeBufferPointer { types in
                records.withUnsafeMutableBufferPointer { matcher.match(buffers, types: types, now: now, into: $0) }
            }
        }
        return records
    }

    /// `values`' UTF-8 bytes back to back in one allocation, as the buffers a caller passes.
    static func withValueBuffers<R>(
        _ values: [String], _ body: (UnsafeBufferPointer<UnsafeBufferPointer<UInt8>>) -> R
    ) -> R {
        let bytes = values.map { Array($0.utf8) }
        let storage = UnsafeMutablePointer<UInt8>.allocate(capacity: max(1, bytes.reduce(0) { $0 + $1.count }))
        defer { storage.deallocate() }
        var buffers: [UnsafeBufferPointer<UInt8>] = []
        var offset = 0
        for value in bytes {
            (storage + offset).initialize(from: value, count: value.count)
            buffers.append(UnsafeBufferPointer(start: storage + offset, count: value.count))
            offset += value.count
        }
        return buffers.withUnsafeBufferPointer(body)
    }
}

extension MatchResult {
    fileprivate var isHitForTest: Bool { if case .hit = self { true } else { false } }
}
