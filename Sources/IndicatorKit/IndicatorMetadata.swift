/// What the hub knows about a listed indicator besides its digest (PRODUCT.md). Every field
/// fits the 32-byte store slot (docs/STORE-FORMAT.md); raw values are stable on disk.
public struct EntryMetadata: Equatable, Hashable, Sendable {
    public var category: ThreatCategory
    /// 0–100.
    public var confidence: UInt8
    public var tlp: TLP
    public var action: ActionHint
    /// Pseudonymous id of the contributing source (its name stays in the data directory;
    /// partners never see either).
    public var sourceID: UInt16
    /// Days since 1970-01-01 UTC; 0 = unknown.
    public var firstSeenDay: UInt16
    /// Days since 1970-01-01 UTC; 0 = unknown.
    public var lastSeenDay: UInt16
    /// Unix seconds after which the entry no longer matches; 0 = never expires.
    public var expires: UInt32
    /// A domain entry that also matches every subdomain (written `*.example.com` in a feed).
    public var coversSubdomains: Bool

    public init(
        category: ThreatCategory = .unspecified, confidence: UInt8 = 50, tlp: TLP = .amber,
        action: ActionHint = .block, sourceID: UInt16 = 0, firstSeenDay: UInt16 = 0,
        lastSeenDay: UInt16 = 0, expires: UInt32 = 0, coversSubdomains: Bool = false
    ) {
        self.category = category
        self.confidence = min(confidence, 100)
        self.tlp = tlp
        self.action = action
        self.sourceID = sourceID
        self.firstSeenDay = firstSeenDay
        self.lastSeenDay = lastSeenDay
        self.expires = expires
        self.coversSubdomains = coversSubdomains
    }

    /// Whether the entry has expired at `now` (Unix seconds): expired entries never match.
    @inline(__always)
    public func isExpired(at now: UInt32) -> Bool {
        expires != 0 && now >= expires
    }

    /// Several reports of one value keep one entry: earliest first seen, latest last seen,
    /// highest confidence, latest expiry (never-expiring wins), widest subdomain coverage.
    /// Category, TLP, action and source follow the report with the higher confidence
    /// (`self` on a tie) — the strictest TLP is kept.
    public func merged(with other: EntryMetadata) -> EntryMetadata {
        var result = other.confidence > confidence ? other : self
        result.confidence = max(confidence, other.confidence)
        result.firstSeenDay = Self.earliestKnown(firstSeenDay, other.firstSeenDay)
        result.lastSeenDay = max(lastSeenDay, other.lastSeenDay)
        result.expires = (expires == 0 || other.expires == 0) ? 0 : max(expires, other.expires)
        result.tlp = max(tlp, other.tlp)
        result.coversSubdomains = coversSubdomains || other.coversSubdomains
        return result
    }

    private static func earliestKnown(_ a: UInt16, _ b: UInt16) -> UInt16 {
        if a == 0 { return b }
        if b == 0 { return a }
        return min(a, b)
    }
}

/// Why an indicator is listed. Raw values are stored; never renumber.
public enum ThreatCategory: UInt8, CaseIterable, Sendable, Hashable {
    case unspecified = 0
    case phishing = 1
    case malware = 2
    case c2 = 3
    case botnet = 4
    case fraud = 5
    case muleAccount = 6
    case scam = 7
    case spam = 8
    case ransomware = 9
    case exploit = 10
    case scanning = 11
    case hijacked = 12

    /// The feed / JSON spelling.
    public var name: String {
        switch self {
        case .unspecified: "unspecified"
        case .phishing: "phishing"
        case .malware: "malware"
        case .c2: "c2"
        case .botnet: "botnet"
        case .fraud: "fraud"
        case .muleAccount: "mule-account"
        case .scam: "scam"
        case .spam: "spam"
        case .ransomware: "ransomware"
        case .exploit: "exploit"
        case .scanning: "scanning"
        case .hijacked: "hijacked"
        }
    }

    public init?(name: String) {
        let lowered = name.lowercased()
        guard let match = Self.allCases.first(where: { $0.name == lowered }) else { return nil }
        self = match
    }
}

/// Traffic Light Protocol 2.0 marking. Ordered from least to most restrictive.
public enum TLP: UInt8, CaseIterable, Sendable, Hashable, Comparable {
    case clear = 0
    case green = 1
    case amber = 2
    case amberStrict = 3
    case red = 4

    public var name: String {
        switch self {
        case .clear: "clear"
        case .green: "green"
        case .amber: "amber"
        case .amberStrict: "amber+strict"
        case .red: "red"
        }
    }

    /// Accepts TLP 2.0 names, `white` (TLP 1.0 for clear) and an optional `tlp:` prefix.
    public init?(name: String) {
        var lowered = name.lowercased()
        if lowered.hasPrefix("tlp:") { lowered.removeFirst(4) }
        if lowered == "white" { self = .clear; return }
        guard let match = Self.allCases.first(where: { $0.name == lowered }) else { return nil }
        self = match
    }

    public static func < (a: TLP, b: TLP) -> Bool { a.rawValue < b.rawValue }
}

/// What the hub suggests a partner do on a match.
public enum ActionHint: UInt8, CaseIterable, Sendable, Hashable {
    case block = 0
    case warn = 1
    case monitor = 2

    public var name: String {
        switch self {
        case .block: "block"
        case .warn: "warn"
        case .monitor: "monitor"
        }
    }

    public init?(name: String) {
        let lowered = name.lowercased()
        guard let match = Self.allCases.first(where: { $0.name == lowered }) else { return nil }
        self = match
    }
}
