/// The kinds of indicator the hub understands (PRODUCT.md, "Indicator types and canonical forms").
///
/// The raw value is the type byte that enters every keyed digest and the snapshot format
/// (docs/STORE-FORMAT.md); never renumber a case.
public enum IndicatorType: UInt8, CaseIterable, Sendable, Hashable, CustomStringConvertible {
    case ipv4 = 1
    case ipv6 = 2
    case domain = 3
    case url = 4
    case email = 5
    case iban = 6
    case phone = 7
    /// BTC (base58check P2PKH/P2SH, bech32/bech32m segwit) and ETH (0x + 40 hex) addresses.
    case wallet = 8
    case md5 = 9
    case sha1 = 10
    case sha256 = 11
    case sha512 = 12
    /// `platform:handle`, e.g. `telegram:scam_support`.
    case handle = 13

    /// The stable name used on the command line, in JSON and in feeds.
    public var name: String {
        switch self {
        case .ipv4: "ipv4"
        case .ipv6: "ipv6"
        case .domain: "domain"
        case .url: "url"
        case .email: "email"
        case .iban: "iban"
        case .phone: "phone"
        case .wallet: "wallet"
        case .md5: "md5"
        case .sha1: "sha1"
        case .sha256: "sha256"
        case .sha512: "sha512"
        case .handle: "handle"
        }
    }

    public var description: String { name }

    /// Parses a type name (`ipv4`, `domain`, …; case-insensitive).
    public init?(name: String) {
        let lowered = name.lowercased()
        guard let match = IndicatorType.allCases.first(where: { $0.name == lowered }) else {
            return nil
        }
        self = match
    }
}
