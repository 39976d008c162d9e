import Glibc
import IndicatorKit

enum Clock {
    /// `CLOCK_REALTIME` in whole seconds, clamped to the store's u32 range.
    static func unixSeconds() -> UInt32 {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return UInt32(clamping: now.tv_sec)
    }

    /// `YYYY-MM-DD` for days since 1970-01-01.
    static func date(day: UInt16) -> String {
        CivilDate.dateText(days: Int(day))
    }

    /// `YYYY-MM-DDTHH:MM:SSZ` for Unix seconds.
    static func timestamp(_ seconds: UInt32) -> String {
        CivilDate.timestamp(seconds: Int(seconds))
    }
}
