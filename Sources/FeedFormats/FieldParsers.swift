public import IndicatorKit

/// Parsers for the metadata cells feeds carry. Each returns nil for an empty cell and throws
/// a `FieldError` whose reason names the bad text.
public enum FieldParsers {
    public struct FieldError: Error, Equatable, Sendable {
        public var reason: String
    }

    /// `YYYY-MM-DD`, optionally followed by `T` or a space and `HH:MM[:SS[.fff]]`, optionally
    /// `Z` or `±HH:MM`; or a plain integer of Unix seconds. Returns Unix seconds (UTC).
    public static func timestamp(_ text: String) throws(FieldError) -> UInt32? {
        let bytes = Array(text.utf8)
        if bytes.isEmpty { return nil }
        if bytes.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) {
            guard bytes.count <= 10, let seconds = UInt32(text) else {
                throw FieldError(reason: "timestamp '\(text)' is out of range")
            }
            return seconds
        }
        var cursor = 0
        func number(_ digits: Int) throws(FieldError) -> Int {
            guard cursor + digits <= bytes.count else {
                throw FieldError(reason: "timestamp '\(text)' is cut short (expected YYYY-MM-DD[ HH:MM:SS][Z])")
            }
            var value = 0
            for index in cursor..<(cursor + digits) {
                let byte = bytes[index]
                guard byte >= 0x30 && byte <= 0x39 else {
                    throw FieldError(reason: "timestamp '\(text)' has '\(Character(UnicodeScalar(byte)))' where a digit belongs")
                }
                value = value * 10 + Int(byte - 0x30)
            }
            cursor += digits
            return value
        }
        func expect(_ byte: UInt8) throws(FieldError) {
            guard cursor < bytes.count, bytes[cursor] == byte else {
                throw FieldError(reason: "timestamp '\(text)' is not YYYY-MM-DD[ HH:MM:SS][Z]")
            }
            cursor += 1
        }
        let year = try number(4)
        try expect(0x2D)
        let month = try number(2)
        try expect(0x2D)
        let day = try number(2)
        guard (1...12).contains(month), day >= 1, day <= CivilDate.daysInMonth(year: year, month: month) else {
            throw FieldError(reason: "timestamp '\(text)' is not a real date")
        }
        var seconds = 0
        if cursor < bytes.count, bytes[cursor] == 0x54 || bytes[cursor] == 0x20 {  // 'T' or ' '
            cursor += 1
            let hour = try number(2)
            try expect(0x3A)
            let minute = try number(2)
            var second = 0
            if cursor < bytes.count, bytes[cursor] == 0x3A {
                cursor += 1
                second = try number(2)
                if cursor < bytes.count, bytes[cursor] == 0x2E {  // fraction, ignored
                    cursor += 1
                    while cursor < bytes.count, bytes[cursor] >= 0x30 && bytes[cursor] <= 0x39 { cursor += 1 }
                }
            }
            guard hour < 24, minute < 60, second < 61 else {
                throw FieldError(reason: "timestamp '\(text)' has an impossible time of day")
            }
            seconds = hour * 3600 + minute * 60 + second
            if cursor < bytes.count {
                switch bytes[cursor] {
                case 0x5A, 0x7A: cursor += 1  // Z
                case 0x2B, 0x2D:  // ±HH:MM
                    let sign = bytes[cursor] == 0x2B ? 1 : -1
                    cursor += 1
                    let offsetHours = try number(2)
                    if cursor < bytes.count, bytes[cursor] == 0x3A { cursor += 1 }
                    let offsetMinutes = try number(2)
                    guard offsetHours < 24, offsetMinutes < 60 else {
                        throw FieldError(reason: "timestamp '\(text)' has an impossible UTC offset")
                    }
                    seconds -= sign * (offsetHours * 3600 + offsetMinutes * 60)
                default: break
                }
            }
        }
        guard cursor == bytes.count else {
            throw FieldError(reason: "timestamp '\(text)' has trailing text")
        }
        let total = CivilDate.days(year: year, month: month, day: day) * 86_400 + seconds
        guard total >= 0, total <= Int(UInt32.max) else {
            throw FieldError(reason: "timestamp '\(text)' is outside 1970–2106")
        }
        return UInt32(total)
    }

    /// A timestamp as days since 1970-01-01 (the store's first/last-seen resolution).
    public static func day(_ text: String) throws(FieldError) -> UInt16? {
        guard let seconds = try timestamp(text) else { return nil }
        let days = seconds / 86_400
        guard days <= UInt32(UInt16.max) else {
            throw FieldError(reason: "date '\(text)' is after 2149")
        }
        return UInt16(days)
    }

    /// An integer 0–100.
    public static func confidence(_ text: String) throws(FieldError) -> UInt8? {
        if text.isEmpty { return nil }
        guard let value = Int(text), (0...100).contains(value) else {
            throw FieldError(reason: "confidence '\(text)' is not an integer from 0 to 100")
        }
        return UInt8(value)
    }

    public static func tlp(_ text: String) throws(FieldError) -> TLP? {
        if text.isEmpty { return nil }
        guard let value = TLP(name: text) else {
            throw FieldError(reason: "TLP '\(text)' is not one of clear, green, amber, amber+strict, red")
        }
        return value
    }

    public static func action(_ text: String) throws(FieldError) -> ActionHint? {
        if text.isEmpty { return nil }
        guard let value = ActionHint(name: text) else {
            throw FieldError(reason: "action '\(text)' is not one of block, warn, monitor")
        }
        return value
    }

    /// A category name, or a common feed spelling of one (`malware_download`, `botnet_cc`, …).
    public static func category(_ text: String) throws(FieldError) -> ThreatCategory? {
        if text.isEmpty { return nil }
        guard let value = knownCategory(text) else {
            let names = ThreatCategory.allCases.map(\.name).joined(separator: ", ")
            throw FieldError(reason: "category '\(text)' is not one of \(names)")
        }
        return value
    }

    /// A category name or common feed spelling, or nil (no error text built: feeds with free
    /// labels call this for every label).
    public static func knownCategory(_ text: String) -> ThreatCategory? {
        if let value = ThreatCategory(name: text) { return value }
        switch text.lowercased() {
        case "malware_download", "malware-download", "payload_delivery": return .malware
        case "botnet_cc", "botnet-cc", "cc", "c&c", "command-and-control": return .c2
        case "mule", "money-mule", "mule_account": return .muleAccount
        case "phish": return .phishing
        default: return nil
        }
    }
}
