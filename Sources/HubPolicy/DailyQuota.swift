/// Indicators per UTC day: `limit` values, the count reset at 00:00:00 UTC. The wall clock is
/// passed in (Unix seconds). A batch takes its whole count or nothing.
public struct DailyQuota: Equatable, Hashable, Sendable {
    public private(set) var limit: Int
    /// Days since 1970-01-01 UTC of the count.
    public private(set) var day: Int64
    /// Values counted on `day`.
    public private(set) var used: Int

    public init(limit: Int, now: Int64) {
        precondition(limit >= 0, "a quota is not negative")
        self.limit = limit
        self.day = Self.utcDay(now)
        self.used = 0
    }

    /// Days since 1970-01-01 UTC (negative before it).
    public static func utcDay(_ unixSeconds: Int64) -> Int64 {
        unixSeconds.floorDivided(by: 86_400)
    }

    /// Seconds from `now` to the next 00:00:00 UTC, when the quota resets.
    public static func secondsUntilReset(at now: Int64) -> Int64 {
        (utcDay(now) + 1) * 86_400 - now
    }

    /// Values still allowed on the UTC day of `now`.
    public func remaining(at now: Int64) -> Int {
        var copy = self
        copy.roll(to: now)
        return max(0, copy.limit - copy.used)
    }

    /// Counts `count` values if they all fit on the UTC day of `now`; otherwise counts none.
    public mutating func take(_ count: Int, at now: Int64) -> Bool {
        roll(to: now)
        guard count >= 0, count <= limit - used else { return false }
        used += count
        return true
    }

    /// Adopts a new limit (a reloaded policy); what was used today stays used.
    public mutating func reconfigure(limit: Int, at now: Int64) {
        precondition(limit >= 0, "a quota is not negative")
        roll(to: now)
        self.limit = limit
    }

    /// Starts a new count when `now` falls on a later UTC day. A wall clock stepped back to an
    /// earlier day keeps the current count (never a second allowance).
    private mutating func roll(to now: Int64) {
        let today = Self.utcDay(now)
        if today > day {
            day = today
            used = 0
        }
    }
}
