/// One partner's rate and quota state. The server keeps one per partner (behind its own lock)
/// and passes it to `PolicySet.evaluate(partner:request:types:clock:limits:)`; it follows policy
/// reloads by itself (a changed rate or quota is adopted at the next batch, keeping what was
/// already used).
public struct PartnerLimits: Equatable, Hashable, Sendable {
    public private(set) var bucket: TokenBucket?
    public private(set) var quota: DailyQuota?

    /// No state yet: the first batch starts with a full bucket and an unused quota.
    public init() {}

    /// Admits `count` values if they fit both the daily quota and the token bucket, taking them
    /// from both; otherwise takes nothing and says why (the quota is checked first: a partner
    /// over its quota learns that, not a misleading "retry in a second").
    public mutating func admit(_ count: Int, policy: PartnerPolicy, clock: PolicyClock) -> Refusal? {
        guard policy.role.mayQuery else {
            return Refusal(.notAuthorised, "partner \(PolicyText.quoted(policy.partner)) has role \(policy.role.rawValue), which may not query")
        }
        let now = clock.unixSeconds
        let tick = clock.monotonicNanoseconds
        var bucket = self.bucket ?? TokenBucket(perSecond: policy.rate.perSecond, burst: policy.rate.burst, now: tick)
        if bucket.perSecond != policy.rate.perSecond || bucket.burst != policy.rate.burst {
            bucket.reconfigure(perSecond: policy.rate.perSecond, burst: policy.rate.burst, at: tick)
        }
        var quota = self.quota ?? DailyQuota(limit: policy.dailyQuota, now: now)
        if quota.limit != policy.dailyQuota { quota.reconfigure(limit: policy.dailyQuota, at: now) }
        defer {
            self.bucket = bucket
            self.quota = quota
        }

        let remaining = quota.remaining(at: now)
        guard count <= remaining else {
            return Refusal(.quotaExceeded, "a batch of \(count) does not fit the daily quota of \(policy.dailyQuota) "
                           + "(\(remaining) left today); it resets at 00:00 UTC, in "
                           + Self.duration(seconds: DailyQuota.secondsUntilReset(at: now)))
        }
        guard let wait = bucket.wait(for: count, at: tick) else {
            return Refusal(.rateLimited, "a batch of \(count) is larger than the burst of \(policy.rate.burst): split it")
        }
        guard wait == 0 else {
            return Refusal(.rateLimited, "a batch of \(count) exceeds the rate of \(policy.rate.perSecond)/s "
                           + "(burst \(policy.rate.burst), \(bucket.available(at: tick)) available now); retry in "
                           + Self.milliseconds(wait))
        }
        let tookTokens = bucket.take(count, at: tick)
        let tookQuota = quota.take(count, at: now)
        assert(tookTokens && tookQuota, "checked above")
        return nil
    }

    /// `3h12m`, `4m05s`, `17s`.
    static func duration(seconds: Int64) -> String {
        let hours = seconds / 3600
        let minutes = seconds / 60 % 60
        let rest = seconds % 60
        if hours > 0 { return "\(hours)h\(minutes < 10 ? "0" : "")\(minutes)m" }
        if minutes > 0 { return "\(minutes)m\(rest < 10 ? "0" : "")\(rest)s" }
        return "\(rest)s"
    }

    /// Rounded up to whole milliseconds: `250 ms`.
    static func milliseconds(_ nanoseconds: UInt64) -> String {
        "\((nanoseconds + 999_999) / 1_000_000) ms"
    }
}
