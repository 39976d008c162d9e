import CHubSipHash
import IndicatorKit
import Testing
@testable import IndicatorStore

/// The hand-off from the digests to the lean probe stage (`DigestKey.canonicalDigestProbes`,
/// CHubSipHash `chub_batch_digest_probes`): on a batch whose every value the fast path accepts
/// and none needs covering probes, the digest pass files the exact probes itself (value i at
/// probes[i]) — the same probes `chub_stage_exact_probes` files from the results; any other
/// batch gets the results `canonicalDigestFast` writes. Then the matcher over batches of 1–64
/// values, exact-only and mixed (declined and covering values between exact ones).
extension MatcherStagesTests {
    /// Valid values only: addresses and names, typed and detected, with the whitespace, upper
    /// case and long names (over 64 bytes: the Swift scanner's) the fast path accepts.
    static func exactValue(_ random: inout SplitMix, table: Table) -> (String, IndicatorType?) {
        let typed = random.next() % 2 == 0
        switch random.next() % 5 {
        case 0:
            return (table.addresses[Int(random.next() % UInt64(table.addresses.count))].map(String.init)
                .joined(separator: "."), typed ? .ipv4 : nil)
        case 1: return (address(&random).map(String.init).joined(separator: "."), typed ? .ipv4 : nil)
        case 2:
            let listed = table.names[Int(random.next() % UInt64(table.names.count))]
            return (random.next() % 3 == 0 ? " " + listed.uppercased() + "\t" : listed, typed ? .domain : nil)
        case 3:
            let long = String(repeating: "abcdefghij.", count: 7 + Int(random.next() % 3)) + "example"
            return (long, typed ? .domain : nil)
        default: return (name(&random, depth: Int(random.next() % 4)), typed ? .domain : nil)
        }
    }

    /// Values the fast path declines (the general path canonicalises or refuses them).
    static let declined: [(String, IndicatorType?)] = [
        ("not an indicator!", nil), ("", .domain), ("1.2.3", .ipv4), ("010.1.2.3", .ipv4), ("10.0.0.0/8", .ipv4),
        ("2001:db8::1", nil), ("http://evil.example.net/a", nil), ("EXAMPLE.COM.", .domain),
        ("xn--bcher-kva.example", .domain), (String(repeating: "a", count: 300) + ".com", .domain),
        // Over 64 bytes (the Swift scanner's, after the C pass filed them): declined there.
        (String(repeating: "abcdefgh.", count: 8) + ".com", .domain), (String(repeating: "a", count: 70) + ".com", nil),
        (String(repeating: "abcdefgh.", count: 8) + "c_m", nil),
    ]

    /// Runs the hand-off and the plain fast path over `values`: whether the hand-off filed the
    /// probes, its probes, and both batches' results.
    static func handOff(
        _ values: [(String, IndicatorType?)], covering: UInt64, table: chub_table
    ) -> (filed: Bool, probes: [chub_probe], handOff: [FastDigest], fast: [FastDigest]) {
        let types = values.map(\.1)
        let handOffBatch = FastDigestBatch(capacity: 64), fastBatch = FastDigestBatch(capacity: 64)
        var probes = [chub_probe](repeating: chub_probe(), count: values.count)
        var table = table
        let filed = withValueBuffers(values.map(\.0)) { buffers in
            types.withUnsafeBufferPointer { types in
                testKey.canonicalDigestFast(buffers, types: types, range: 0..<values.count, into: fastBatch)
                return probes.withUnsafeMutableBytes { probes in
                    withUnsafePointer(to: &table) {
                        testKey.canonicalDigestProbes(
                            buffers, types: types, range: 0..<values.count, into: handOffBatch, covering: covering,
                            probes: probes.baseAddress!, table: UnsafeRawPointer($0))
                    }
                }
            }
        }
        return (filed, probes, Array(UnsafeBufferPointer(start: handOffBatch.results, count: values.count)),
                Array(UnsafeBufferPointer(start: fastBatch.results, count: values.count)))
    }

    /// Batches of 1–64 valid values: the digest pass files every probe (where this build runs
    /// the C pass), each equal to the probe filed from `canonicalDigestFast`'s result. With a
    /// declined value anywhere, or a covering bit for a type present, it files none and writes
    /// the results `canonicalDigestFast` writes.
    @Test func theDigestPassFilesTheExactProbesOfAnAllExactBatch() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        var random = SplitMix(seed: 0x4A4D_0FF)
        let table = Self.randomTable(&random, networks: false, parents: false)
        let (snapshot, _) = try writeSnapshot(table.entries, to: directory.file("h.snap"))
        let cTable = Matcher.stageTable(snapshot.table)
        let runsCPass = FastDigestBatch(capacity: 1).kernel == .avx2
        let domainBit = UInt64(1) << UInt64(StageLayout.byte(IndicatorType.domain) & 63)
        let ipv4Bit = UInt64(1) << UInt64(StageLayout.byte(IndicatorType.ipv4) & 63)
        for count in 1...64 {
            let values = (0..<count).map { _ in Self.exactValue(&random, table: table) }
            let exact = Self.handOff(values, covering: 0, table: cTable)
            #expect(exact.filed == runsCPass, "batch of \(count)")
            for slot in 0..<count where exact.fast[slot].count > 0 || !exact.filed {
                if exact.filed {
                    let result = exact.fast[slot], probe = exact.probes[slot]
                    let stored = Slot.stored(IndicatorDigest(lo: result.lo, hi: result.hi))
                    #expect(probe.lo == stored.lo && probe.hi == stored.hi, "\(values[slot])")
                    #expect(probe.kind == 0 && probe.detail == 0 && probe.entry == -2)
                    #expect(probe.type == StageLayout.byte(result.type))
                } else {
                    Self.expectSameResults(exact.handOff, exact.fast, values)
                }
            }
            if exact.filed { #expect(exact.fast.allSatisfy { $0.count > 0 }, "every value accepted") }
            // A declined value between exact ones: the results, as canonicalDigestFast's.
            var mixed = values
            mixed[Int(random.next() % UInt64(count))] = Self.declined[Int(random.next() % UInt64(Self.declined.count))]
            let declined = Self.handOff(mixed, covering: 0, table: cTable)
            #expect(!declined.filed)
            Self.expectSameResults(declined.handOff, declined.fast, mixed)
            // A covering type present: the results too.
            let hasDomain = exact.fast.contains { $0.count > 0 && $0.type == .domain }
            let hasIPv4 = exact.fast.contains { $0.count > 0 && $0.type == .ipv4 }
            for (bit, present) in [(domainBit, hasDomain), (ipv4Bit, hasIPv4)] {
                let covered = Self.handOff(values, covering: bit, table: cTable)
                #expect(covered.filed == (runsCPass && !present))
                if !covered.filed { Self.expectSameResults(covered.handOff, covered.fast, values) }
            }
        }
    }

    static func expectSameResults(_ a: [FastDigest], _ b: [FastDigest], _ values: [(String, IndicatorType?)]) {
        for slot in a.indices {
            #expect(a[slot].count == b[slot].count, "\(values[slot])")
            guard a[slot].count > 0, b[slot].count > 0 else { continue }
            #expect(a[slot].lo == b[slot].lo && a[slot].hi == b[slot].hi && a[slot].type == b[slot].type,
                    "\(values[slot])")
        }
    }

    /// The matcher, lean against general, over batches of 1–64 values: exact-only batches (the
    /// digest pass files the probes), and batches with declined values and, in tables with
    /// networks or covering parents, covering values between the exact ones.
    @Test(arguments: [(false, false), (true, false), (false, true)])
    func exactOnlyAndMixedBatchesGiveTheSameRecords(networks: Bool, parents: Bool) throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        var random = SplitMix(seed: 0xBA7C_4000 &+ (networks ? 1 : 0) &+ (parents ? 2 : 0))
        let table = Self.randomTable(&random, networks: networks, parents: parents)
        let (snapshot, _) = try writeSnapshot(table.entries, to: directory.file("m.snap"), prefixes: table.prefixes)
        var exactOnly: [(String, IndicatorType?)] = []
        for _ in 0..<400 { exactOnly.append(Self.exactValue(&random, table: table)) }
        var mixed = exactOnly
        for _ in 0..<40 {
            mixed[Int(random.next() % UInt64(mixed.count))] =
                Self.declined[Int(random.next() % UInt64(Self.declined.count))]
        }
        for batchSize in [1, 2, 5, 7, 13, 31, 63, 64] {
            let lean = try Matcher(snapshot: snapshot, key: testKey, batchSize: batchSize)
            let general = try Matcher(snapshot: snapshot, key: testKey, batchSize: batchSize)
            general.generalStagesOnly = true
            #expect(lean.usesLeanStages && !general.usesLeanStages)
            for queries in [exactOnly, mixed] {
                let leanRecords = Self.records(lean, queries)
                let generalRecords = Self.records(general, queries)
                for index in queries.indices where leanRecords[index] != generalRecords[index] {
                    Issue.record("\(batchSize) \(queries[index]): lean \(leanRecords[index]) general \(generalRecords[index])")
                }
                #expect(leanRecords.contains { $0.status == .hit } && leanRecords.contains { $0.status == .miss })
            }
        }
    }
}
