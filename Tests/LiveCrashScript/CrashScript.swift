public import IndicatorKit
public import IndicatorStore

/// The deterministic sequence of writes the live-store crash test's child process performs
/// (Tests/LiveStoreCrashChild) and its parent (LiveStoreCrashSafetyTests) replays into a
/// model: operation `index` of round `round` depends only on (round, index). Synthetic
/// digests, no values.
public enum CrashScript {
    /// Operations a child performs per round (it is usually killed long before).
    public static let operationsPerRound = 5_000
    /// Digests the operations draw from.
    public static let universe: [IndicatorDigest] = (0..<160).map { index in
        var random = SplitMix64(seed: 0xC0FFEE &+ UInt64(index))
        return IndicatorDigest(lo: random.next() | 2, hi: random.next())
    }

    public enum Operation: Sendable {
        case upload(LiveStore.UploadRequest, time: UInt64)
        case withdrawValues([IndicatorDigest], source: UInt16)
        case withdrawUpload(UploadID, source: UInt16)
    }

    public static func uploadID(round: Int, index: Int) -> UploadID {
        UploadID(low: UInt64(index), high: UInt64(round) | 0x5EED_0000_0000)
    }

    static func generator(round: Int, index: Int) -> SplitMix64 {
        SplitMix64(seed: UInt64(round) &* 1_000_003 &+ UInt64(index) &* 7_919 &+ 17)
    }

    static func isUpload(round: Int, index: Int) -> Bool {
        var random = generator(round: round, index: index)
        return index < 3 || random.next() % 10 < 7
    }

    static func source(round: Int, index: Int) -> UInt16 {
        var random = generator(round: round, index: index)
        _ = random.next()
        return UInt16(1 + random.next() % 3)
    }

    /// Operation `index` of `round`.
    public static func operation(round: Int, index: Int) -> Operation {
        var random = generator(round: round, index: index)
        _ = random.next()
        _ = random.next()
        let source = source(round: round, index: index)
        if isUpload(round: round, index: index) {
            let count = 1 + Int(random.next() % 20)
            let reports = (0..<count).map { _ in
                DigestReport(
                    universe[Int(random.next() % UInt64(universe.count))],
                    EntryMetadata(
                        category: ThreatCategory(rawValue: UInt8(random.next() % 13))!, confidence: UInt8(random.next() % 101),
                        tlp: TLP(rawValue: UInt8(random.next() % 5))!, lastSeenDay: UInt16(20_000 + random.next() % 50)))
            }
            let request = LiveStore.UploadRequest(id: uploadID(round: round, index: index), source: source, reports: reports)
            return .upload(request, time: 1_700_000_000 + UInt64(round) * 10_000 + UInt64(index))
        }
        if random.next() % 2 == 0 {
            // Withdraw an earlier upload of this round, by its owner.
            var earlier = Int(random.next() % UInt64(index))
            while !isUpload(round: round, index: earlier) { earlier -= 1 }
            return .withdrawUpload(uploadID(round: round, index: earlier), source: Self.source(round: round, index: earlier))
        }
        let values = (0..<(1 + Int(random.next() % 6))).map { _ in universe[Int(random.next() % UInt64(universe.count))] }
        return .withdrawValues(values, source: source)
    }
}
