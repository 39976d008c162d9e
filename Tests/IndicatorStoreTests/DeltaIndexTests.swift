import IndicatorKit
import Testing
@testable import IndicatorStore

/// A delta layer's index: every entry is found behind its filter, tombstones included, and the
/// filter turns most absent digests away before any slot is read.
@Suite struct DeltaIndexTests {
    static func entries(_ count: Int, universe: UInt64) -> [IndicatorDigest: DeltaEntry] {
        var entries: [IndicatorDigest: DeltaEntry] = [:]
        for index in 0..<count {
            let report = Report(source: 1, upload: 1, metadata: EntryMetadata(confidence: UInt8(index % 101)))
            // Every fifth one a tombstone (no reports).
            entries[Live.digest(index, universe: universe)] = DeltaEntry(reports: index % 5 == 0 ? [] : [report])
        }
        return entries
    }

    @Test(arguments: [0, 1, 3, 4, 5, 1_000, 20_000])
    func everyEntryIsFoundAndTheFilterTurnsAbsentDigestsAway(count: Int) {
        let entries = Self.entries(count, universe: 7)
        let index = DeltaIndex(entries)
        for (digest, entry) in entries {
            #expect(index.mayContain(lo: digest.lo))
            #expect(index.find(digest) == entry)
            let slot = index.slot(lo: digest.lo, hi: digest.hi)
            #expect(slot >= 0)
            let (_, word3) = index.words(at: slot)
            #expect((word3 == DeltaIndex.tombstoneWord3) == (entry.entry == nil))
        }
        // Absent digests: none found; the filter (16 positions per entry) passes about 6 %.
        var passed = 0
        let trials = 50_000
        for probe in 0..<trials {
            let digest = Live.digest(probe, universe: 8)
            #expect(index.find(digest) == nil)
            if index.mayContain(lo: digest.lo) { passed += 1 }
        }
        #expect(Double(passed) / Double(trials) < (count == 0 ? 0.001 : 0.10), "\(passed) of \(trials) passed the filter")
        // Same lo, another hi: the filter passes it, the slot search tells it apart.
        if let (digest, _) = entries.first {
            #expect(index.find(IndicatorDigest(lo: digest.lo, hi: digest.hi ^ 1)) == nil)
        }
    }
}
