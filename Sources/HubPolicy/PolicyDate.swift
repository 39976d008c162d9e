import IndicatorKit

/// The UTC dates of policy files (`valid_until`): `YYYY-MM-DD` (valid through the end of that
/// UTC day) or `YYYY-MM-DDTHH:MM:SSZ` (valid through that second). Proleptic Gregorian calendar,
/// years 1970–9999; no other forms, no offsets other than `Z`.
public enum PolicyDate {
    /// The last valid second (Unix seconds) for a `valid_until` text, or nil when it is not one
    /// of the two forms or names no real date or time.
    public static func lastValidSecond(_ text: String) -> Int64? {
        let bytes = Array(text.utf8)
        guard bytes.count == 10 || bytes.count == 20 else { return nil }
        func number(_ range: Range<Int>) -> Int? {
            var value = 0
            for index in range {
                let byte = bytes[index]
                guard byte >= 0x30 && byte <= 0x39 else { return nil }
                value = value * 10 + Int(byte - 0x30)
            }
            return value
        }
        guard bytes[4] == UInt8(ascii: "-"), bytes[7] == UInt8(ascii: "-"),
              let year = number(0..<4), let month = number(5..<7), let day = number(8..<10),
              year >= 1970, (1...12).contains(month), day >= 1, day <= CivilDate.daysInMonth(year: year, month: month)
        else { return nil }
        let midnight = Int64(CivilDate.days(year: year, month: month, day: day)) * 86_400
        if bytes.count == 10 { return midnight + 86_399 }
        guard bytes[10] == UInt8(ascii: "T"), bytes[13] == UInt8(ascii: ":"), bytes[16] == UInt8(ascii: ":"),
              bytes[19] == UInt8(ascii: "Z"),
              let hour = number(11..<13), let minute = number(14..<16), let second = number(17..<19),
              hour < 24, minute < 60, second < 60
        else { return nil }
        return midnight + Int64(hour * 3600 + minute * 60 + second)
    }

    /// `YYYY-MM-DDTHH:MM:SSZ` for Unix seconds (0 … year 9999).
    public static func timestamp(_ seconds: Int64) -> String {
        let days = Int(seconds.floorDivided(by: 86_400))
        let rest = Int(seconds - Int64(days) * 86_400)
        return CivilDate.timestamp(seconds: days * 86_400 + rest)
    }
}

extension Int64 {
    /// Division rounding toward negative infinity (a UTC day for negative Unix times too).
    func floorDivided(by divisor: Int64) -> Int64 {
        let quotient = self / divisor
        return (self % divisor != 0 && (self < 0) != (divisor < 0)) ? quotient - 1 : quotient
    }
}
