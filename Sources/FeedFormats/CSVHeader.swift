public import IndicatorKit

/// How a CSV header row maps columns to record fields. Column names are matched
/// case-insensitively after trimming; the first value-column name found (in
/// `valueColumnNames` order) wins unless the caller names one.
public struct CSVHeader: Equatable, Sendable {
    /// What a column is for.
    public enum Role: Equatable, Sendable {
        case value
        case type
        case category
        case confidence
        case tlp
        case action
        case firstSeen
        case lastSeen
        case expires
    }

    /// Names that mark the value column, most specific first.
    public static let valueColumnNames = [
        "value", "indicator", "ioc", "observable", "url", "dst_ip", "ip", "ip_address", "ipaddress",
        "src_ip", "cidr", "network", "domain", "hostname", "host", "email", "iban", "phone", "wallet",
        "md5", "md5_hash", "sha1", "sha1_hash", "sha256", "sha256_hash", "sha512", "handle",
    ]

    static let roleNames: [(Role, [String])] = [
        (.type, ["type", "indicator_type", "ioc_type"]),
        (.category, ["category", "threat", "threat_type"]),
        (.confidence, ["confidence", "confidence_level"]),
        (.tlp, ["tlp"]),
        (.action, ["action"]),
        (.firstSeen, ["first_seen", "first_seen_utc", "firstseen", "dateadded", "date_added"]),
        (.lastSeen, ["last_seen", "last_seen_utc", "lastseen", "last_online"]),
        (.expires, ["expires", "expiry", "valid_until", "expiration"]),
    ]

    /// The header's cells as written.
    public var names: [String]
    /// Index of the value column.
    public var valueColumn: Int
    /// The type a value column's name implies (`url` → url), if any. `ip`-like columns imply
    /// "IPv4 or IPv6", told apart per value.
    public var impliedType: ImpliedType
    /// Column index → role, for every column the hub reads.
    public var roles: [Int: Role]

    public enum ImpliedType: Equatable, Sendable {
        case none
        case exactly(IndicatorType)
        case ipAddress
    }

    /// Maps `cells`; `valueColumnName` overrides the automatic choice. Nil when no value
    /// column can be found.
    public init?(cells: [String], valueColumnName: String? = nil) {
        let lowered = cells.map { $0.trimmingASCIISpaces().lowercased() }
        let wanted = valueColumnName.map { [$0.lowercased()] } ?? Self.valueColumnNames
        guard let index = wanted.lazy.compactMap({ lowered.firstIndex(of: $0) }).first else {
            return nil
        }
        names = cells
        valueColumn = index
        impliedType = Self.impliedType(of: lowered[index])
        var roles: [Int: Role] = [index: .value]
        for (role, aliases) in Self.roleNames {
            if let column = lowered.indices.first(where: { aliases.contains(lowered[$0]) && roles[$0] == nil }) {
                roles[column] = role
            }
        }
        self.roles = roles
    }

    static func impliedType(of name: String) -> ImpliedType {
        switch name {
        case "url": .exactly(.url)
        case "dst_ip", "ip", "ip_address", "ipaddress", "src_ip", "cidr", "network": .ipAddress
        case "domain", "hostname", "host": .exactly(.domain)
        case "email": .exactly(.email)
        case "iban": .exactly(.iban)
        case "phone": .exactly(.phone)
        case "wallet": .exactly(.wallet)
        case "md5", "md5_hash": .exactly(.md5)
        case "sha1", "sha1_hash": .exactly(.sha1)
        case "sha256", "sha256_hash": .exactly(.sha256)
        case "sha512": .exactly(.sha512)
        case "handle": .exactly(.handle)
        default: .none
        }
    }

    /// A line whose cells include a value-column name and which has a separator.
    static func looksLikeHeader(_ text: UnsafeBufferPointer<UInt8>) -> Bool {
        guard text.contains(0x2C) else { return false }  // ','
        let cells = CSVParser.splitSimple(text)
        return CSVHeader(cells: cells) != nil
    }

    /// A line of two or more double-quoted cells separated by commas.
    static func looksLikeQuotedRow(_ text: UnsafeBufferPointer<UInt8>) -> Bool {
        guard text.first == 0x22 else { return false }
        let cells = CSVParser.splitSimple(text)
        return cells.count >= 2
    }

    /// `# id,dateadded,url` → `id,dateadded,url`.
    static func stripCommentMarker(_ text: UnsafeBufferPointer<UInt8>) -> UnsafeBufferPointer<UInt8> {
        var start = 0
        while start < text.count, text[start] == 0x23 || text[start] == 0x3B || LineScanner.isBlank(text[start]) {
            start += 1
        }
        return UnsafeBufferPointer(rebasing: text[start...])
    }
}

extension String {
    func trimmingASCIISpaces() -> String {
        var scalars = Substring(self)
        while let first = scalars.first, first == " " || first == "\t" { scalars.removeFirst() }
        while let last = scalars.last, last == " " || last == "\t" { scalars.removeLast() }
        return String(scalars)
    }
}
