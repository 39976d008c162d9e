import Glibc

enum Clock {
    /// `CLOCK_REALTIME` in whole seconds, clamped to the store's u32 range.
    static func unixSeconds() -> UInt32 {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return UInt32(clamping: now.tv_sec)
    }

    /// `CLOCK_MONOTONIC` in seconds, for durations.
    static func monotonic() -> Double {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return Double(now.tv_sec) + Double(now.tv_nsec) / 1e9
    }

    /// `YYYY-MM-DD` for days since 1970-01-01.
    static func date(day: UInt16) -> String {
        civil(days: Int(day)).date
    }

    /// `YYYY-MM-DDTHH:MM:SSZ` for Unix seconds.
    static func timestamp(_ seconds: UInt32) -> String {
        let value = Int(seconds)
        let (date, _) = civil(days: value / 86_400)
        let rest = value % 86_400
        return date + "T" + two(rest / 3600) + ":" + two(rest / 60 % 60) + ":" + two(rest % 60) + "Z"
    }

    private static func civil(days: Int) -> (date: String, year: Int) {
        // Inverse of days-from-civil (era-based, proleptic Gregorian).
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let shiftedMonth = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * shiftedMonth + 2) / 5 + 1
        let month = shiftedMonth < 10 ? shiftedMonth + 3 : shiftedMonth - 9
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        return (String(year) + "-" + two(month) + "-" + two(day), year)
    }

    private static func two(_ value: Int) -> String {
        value < 10 ? "0" + String(value) : String(value)
    }
}
