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
        let days = seconds >= 0 ? seconds / 86_400 : -((-seconds + 86_399) / 86_400)
        let rest = seconds - days * 86_400
        var text = dateText(days: days) + "T" + pad(rest / 3600, 2) + ":" + pad(rest / 60 % 60, 2) + ":"
            + pad(rest % 60, 2)
        if let fraction { text += "." + pad(fraction.value, fraction.digits) }
        return text + "Z"
    }

    /// Unix seconds for exactly `YYYY-MM-DD` (that day's midnight) or `YYYY-MM-DDTHH:MM:SSZ`
    /// (the forms `timestamp(seconds:)` and `dateText(days:)` write), years 1970–9999; nil for any
    /// other text or for a date or time that does not exist (2023-02-29, 24:00:00, a leap second).
    package static func parseTimestamp(_ text: some StringProtocol) -> Int? {
        let bytes = Array(text.utf8)
        guard bytes.count == 10 || bytes.count == 20 else { return nil }
        func number(_ range: Range<Int>) -> Int? {
            var value = 0
            for index in range {
                let digit = bytes[index] &- 0x30
                guard digit <= 9 else { return nil }
                value = value * 10 + Int(digit)
            }
            return value
        }
        guard bytes[4] == UInt8(ascii: "-"), bytes[7] == UInt8(ascii: "-"),
              let year = number(0..<4), let month = number(5..<7), let day = number(8..<10),
              year >= 1970, (1...12).contains(month), day >= 1, day <= daysInMonth(year: year, month: month)
        else { return nil }
        let midnight = days(year: year, month: month, day: day) * 86_400
        if bytes.count == 10 { return midnight }
        guard bytes[10] == UInt8(ascii: "T"), bytes[13] == UInt8(ascii: ":"), bytes[16] == UInt8(ascii: ":"),
              bytes[19] == UInt8(ascii: "Z"),
              let hour = number(11..<13), let minute = number(14..<16), let second = number(17..<19),
              hour < 24, minute < 60, second < 60
        else { return nil }
        return midnight + hour * 3600 + minute * 60 + second
    }

    package static func pad(_ value: Int, _ width: Int) -> String {
        let digits = String(value)
        return String(repeating: "0", count: max(0, width - digits.count)) + digits
    }
}
