public import IndicatorKit

/// The CIDR prefix lengths a store holds networks of: a lookup probes an address at exactly
/// these lengths (besides the address itself), so a store without networks costs one probe.
///
/// Stored in the snapshot header as bitmaps (docs/STORE-FORMAT.md). A bitmap may be a superset
/// of the lengths really present (after expired entries are dropped); never a subset.
public struct NetworkPrefixes: Equatable, Hashable, Sendable {
    /// Bit `p` set: some entry is an IPv4 network `/p` (`p` < 32).
    public var ipv4: UInt64
    /// Bit `p` of `ipv6Low` (`p` < 64) or bit `p - 64` of `ipv6High`: an IPv6 network `/p`.
    public var ipv6Low: UInt64
    public var ipv6High: UInt64

    public init(ipv4: UInt64 = 0, ipv6Low: UInt64 = 0, ipv6High: UInt64 = 0) {
        self.ipv4 = ipv4
        self.ipv6Low = ipv6Low
        self.ipv6High = ipv6High
    }

    /// Records the prefix length of `form` if it is an IP network.
    public mutating func insert(_ form: CanonicalForm) {
        guard form.isNetwork else { return }
        insert(form.type, prefixLength: Int(form.prefixLength))
    }

    /// Records an IPv4 (`0..<32`) or IPv6 (`0..<128`) network prefix length.
    public mutating func insert(_ type: IndicatorType, prefixLength: Int) {
        switch type {
        case .ipv4:
            precondition(prefixLength >= 0 && prefixLength < 32, "IPv4 network prefix out of range")
            ipv4 |= 1 << UInt64(prefixLength)
        case .ipv6:
            precondition(prefixLength >= 0 && prefixLength < 128, "IPv6 network prefix out of range")
            if prefixLength < 64 {
                ipv6Low |= 1 << UInt64(prefixLength)
            } else {
                ipv6High |= 1 << UInt64(prefixLength - 64)
            }
        default:
            preconditionFailure("only IP networks have prefix lengths")
        }
    }

    /// Adds every length of `other`.
    public mutating func formUnion(_ other: NetworkPrefixes) {
        ipv4 |= other.ipv4
        ipv6Low |= other.ipv6Low
        ipv6High |= other.ipv6High
    }

    /// Whether some network of `type` has prefix length `prefixLength`.
    @inline(__always)
    public func contains(_ type: IndicatorType, prefixLength: Int) -> Bool {
        switch type {
        case .ipv4: prefixLength >= 0 && prefixLength < 32 && ipv4 >> UInt64(prefixLength) & 1 != 0
        case .ipv6:
            prefixLength >= 0 && prefixLength < 128
                && (prefixLength < 64
                    ? ipv6Low >> UInt64(prefixLength) & 1 != 0
                    : ipv6High >> UInt64(prefixLength - 64) & 1 != 0)
        default: false
        }
    }

    /// The prefix lengths of `type`, longest first (the order a lookup reports a match in).
    public func lengths(_ type: IndicatorType) -> [Int] {
        let limit = type == .ipv4 ? 32 : type == .ipv6 ? 128 : 0
        return (0..<limit).reversed().filter { contains(type, prefixLength: $0) }
    }

    /// Whether there are no networks at all.
    public var isEmpty: Bool { ipv4 == 0 && ipv6Low == 0 && ipv6High == 0 }
}
