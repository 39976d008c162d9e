/// Proleptic Gregorian calendar arithmetic in UTC (days since 1970-01-01), shared by feed
/// timestamps, the command line and the audit log so that all of them agree on dates.
/// The era-based algorithms are exact for every date from 0000-03-01 on.
package enum CivilDate {
    /// Days from 1970-01-01 to `year-month-day`.
    package static func days(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let shiftedMonth = month > 2 ? month - 3 : month + 9
        let dayOfYear = (153 * shiftedMonth + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    /// The date `days` after 1970-01-01.
    package static func date(days: Int) -> (year: Int, month: Int, day: Int) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let shiftedMonth = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * shiftedMonth + 2) / 5 + 1
        let month = shiftedMonth < 10 ? shiftedMonth + 3 : shiftedMonth - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }

    package static func daysInMonth(year: Int, month: Int) -> Int {
        switch month {
        case 2: (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    /// `YYYY-MM-DD` for `days` after 1970-01-01.
    package static func dateText(days: Int) -> String {
        let (year, month, day) = date(days: days)
        return pad(year, 4) + "-" + pad(month, 2) + "-" + pad(day, 2)
    }

    /// `YYYY-MM-DDTHH:MM:SSZ` for Unix `seconds`, with `.ffffff` when `micros` is given.
    package static func timestamp(seconds: Int, micros: Int? = nil) -> String {
        timestamp(seconds: seconds, fraction: micros.map { ($0, 6) })
    }

    /// `YYYY-MM-DDTHH:MM:SS[.f…]Z`; `fraction` is the sub-second value and its digit count
    /// (`(123, 3)` → `.123`).
    package static func timestamp(seconds: Int, fraction: (value: Int, digits: Int)?) -> String {
        let rest = seconds % 86_400
        var text = dateText(days: seconds / 86_400) + "T" + pad(rest / 3600, 2) + ":" + pad(rest / 60 % 60, 2) + ":"
            + pad(rest % 60, 2)
        if let fraction { text += "." + pad(fraction.value, fraction.digits) }
        return text + "Z"
    }

    package static func pad(_ value: Int, _ width: Int) -> String {
        let digits = String(value)
        return String(repeating: "0", count: max(0, width - digits.count)) + digits
    }
}
