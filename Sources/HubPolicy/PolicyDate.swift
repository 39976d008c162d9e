import IndicatorKit

/// The UTC dates of policy files (`valid_until`): `YYYY-MM-DD` (valid through the end of that
/// UTC day) or `YYYY-MM-DDTHH:MM:SSZ` (valid through that second). Proleptic Gregorian calendar,
/// years 1970–9999; no other forms, no offsets other than `Z`.
public enum PolicyDate {
    /// The last valid second (Unix seconds) for a `valid_until` text, or nil when it is not one
    /// of the two forms or names no real date or time.
    public static func lastValidSecond(_ text: String) -> Int64? {
        guard let start = CivilDate.parseTimestamp(text) else { return nil }
        return Int64(text.utf8.count == 10 ? start + 86_399 : start)
    }

    /// `YYYY-MM-DDTHH:MM:SSZ` for Unix seconds (0 … year 9999).
    public static func timestamp(_ seconds: Int64) -> String {
        CivilDate.timestamp(seconds: Int(seconds))
    }
}

extension Int64 {
    /// Division rounding toward negative infinity (a UTC day for negative Unix times too).
    func floorDivided(by divisor: Int64) -> Int64 {
        let quotient = self / divisor
        return (self % divisor != 0 && (self < 0) != (divisor < 0)) ? quotient - 1 : quotient
    }
}
