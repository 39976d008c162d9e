public import IndicatorKit

/// The benchmarks' (MatcherBench, E2EBench) synthetic but realistic indicators: value `k` of each kind is a pure function
/// of `k`, distinct for distinct `k`, so the table never has to be kept as strings. The store
/// holds IPv4 addresses `0..<n/2` and domains `0..<n/2`; misses use indices from `n/2` on.
public enum Workload {
    public static let secondLevel = [
        "example-shop", "secure-login", "cdn-static", "paypa1-verify", "mail-service", "update-center",
        "bank-online", "free-gifts", "account-check", "track-parcel", "crypto-bonus", "cloud-docs",
    ]
    public static let topLevel = ["com", "net", "org", "info", "xyz", "ru", "de", "top", "shop", "co.uk"]
    public static let digits: [UInt8] = Array("0123456789abcdefghijklmnopqrstuvwxyz".utf8)

    /// An IPv4 address in dotted-quad text: a bijection of the low 32 bits of `k`.
    public static func ipv4(_ k: Int, into out: inout [UInt8]) {
        let mixed = UInt32(truncatingIfNeeded: k) &* 0x9E37_79B1 ^ 0x5BD1_E995
        for shift in stride(from: 24, through: 0, by: -8) {
            appendDecimal(UInt8(truncatingIfNeeded: mixed >> UInt32(shift)), into: &out)
            if shift > 0 { out.append(UInt8(ascii: ".")) }
        }
    }

    /// A domain like `a7f3kq.example-shop.com`: the label is a bijection of the low 40 bits of `k`
    /// in base 36 (1–8 characters), the rest chosen by a hash of `k`.
    public static func domain(_ k: Int, into out: inout [UInt8]) {
        var label = (UInt64(truncatingIfNeeded: k) &* 0x9E37_79B9_7F4B) & 0xFF_FFFF_FFFF
        let start = out.count
        repeat {
            out.append(digits[Int(label % 36)])
            label /= 36
        } while label != 0
        out[start...].reverse()
        out.append(UInt8(ascii: "."))
        let hash = UInt64(truncatingIfNeeded: k) &* 0xD6E8_FEB8_6659_FD93
        out.append(contentsOf: secondLevel[Int(hash >> 59) % secondLevel.count].utf8)
        out.append(UInt8(ascii: "."))
        out.append(contentsOf: topLevel[Int((hash >> 40) & 0xFFFF) % topLevel.count].utf8)
    }

    /// Value `k` of `type` (ipv4 or domain).
    public static func value(_ type: IndicatorType, _ k: Int, into out: inout [UInt8]) {
        if type == .ipv4 { ipv4(k, into: &out) } else { domain(k, into: &out) }
    }

    private static func appendDecimal(_ value: UInt8, into out: inout [UInt8]) {
        if value >= 100 { out.append(UInt8(ascii: "0") + value / 100) }
        if value >= 10 { out.append(UInt8(ascii: "0") + (value / 10) % 10) }
        out.append(UInt8(ascii: "0") + value % 10)
    }

    /// Plausible metadata for entry `k`.
    public static func metadata(_ k: Int) -> EntryMetadata {
        let hash = UInt64(truncatingIfNeeded: k) &* 0x2545_F491_4F6C_DD1D
        return EntryMetadata(
            category: ThreatCategory(rawValue: UInt8(hash >> 60) % 13) ?? .unspecified,
            confidence: UInt8((hash >> 32) % 101), tlp: TLP(rawValue: UInt8((hash >> 24) % 5)) ?? .amber,
            action: ActionHint(rawValue: UInt8((hash >> 20) % 3)) ?? .block, sourceID: UInt16(truncatingIfNeeded: hash),
            firstSeenDay: 19_000, lastSeenDay: 20_000, expires: 0)
    }
}

/// A deterministic generator (SplitMix64) for query order.
public struct SplitMix: RandomNumberGenerator {
    public var state: UInt64
    public init(state: UInt64) { self.state = state }
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Queries packed into one buffer: value `i` is `bytes[offsets[i]..<offsets[i + 1]]`.
public struct QuerySet {
    public var bytes: [UInt8] = []
    public var offsets: [UInt64] = [0]
    public var types: [IndicatorType?] = []
    public var expectedHits = 0

    /// `count` queries in random order, a fraction `hitRate` of them listed (hits), the rest
    /// not. Query `i` is a hit when `ceil((i + 1) × hitRate) > ceil(i × hitRate)`: exactly the
    /// even ones at 0.5 (the query set of the earlier figures), one in a hundred at 0.01.
    public init(count: Int, entries: Int, hitRate: Double = 0.5, seed: UInt64) {
        var random = SplitMix(state: seed)
        let perType = entries / 2
        for index in 0..<count {
            let type: IndicatorType = random.next() & 1 == 0 ? .ipv4 : .domain
            let hit = (Double(index + 1) * hitRate).rounded(.up) > (Double(index) * hitRate).rounded(.up)
            let k = hit ? Int(random.next() % UInt64(max(perType, 1))) : perType + Int(random.next() % (1 << 30))
            if hit { expectedHits += 1 }
            Workload.value(type, k, into: &bytes)
            offsets.append(UInt64(bytes.count))
            types.append(type)
        }
        // Shuffle the order of hits and misses by shuffling whole queries.
        var order = Array(0..<count)
        order.shuffle(using: &random)
        var shuffled = QuerySet(empty: ())
        for index in order {
            shuffled.bytes.append(contentsOf: bytes[Int(offsets[index])..<Int(offsets[index + 1])])
            shuffled.offsets.append(UInt64(shuffled.bytes.count))
            shuffled.types.append(types[index])
        }
        shuffled.expectedHits = expectedHits
        self = shuffled
    }

    private init(empty: ()) {}

    public var count: Int { types.count }

    /// Query `index`'s bytes.
    public func value(_ index: Int) -> ArraySlice<UInt8> { bytes[Int(offsets[index])..<Int(offsets[index + 1])] }
}
