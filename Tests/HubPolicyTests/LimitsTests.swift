import HubPolicy
import Testing

/// Token bucket and daily quota edge cases: burst, refill, idle overflow, clocks going back,
/// batches larger than the burst, UTC midnight.
@Suite struct LimitsTests {
    static let second: UInt64 = 1_000_000_000

    @Test func aNewBucketHoldsTheBurst() {
        var bucket = TokenBucket(perSecond: 100, burst: 500, now: 7)
        #expect(bucket.available(at: 7) == 500)
        #expect(bucket.take(500, at: 7) == true)
        #expect(bucket.take(1, at: 7) == false)
        #expect(bucket.available(at: 7) == 0)
    }

    @Test func refillIsExactAndCappedAtTheBurst() {
        var bucket = TokenBucket(perSecond: 3, burst: 10, now: 0)
        #expect(bucket.take(10, at: 0) == true)
        #expect(bucket.available(at: Self.second / 3 - 1) == 0)  // 0.999… tokens
        #expect(bucket.available(at: Self.second / 3 + 1) == 1)
        #expect(bucket.available(at: Self.second) == 3)
        // Many small refills add up to the same as one big one (no drift).
        var stepped = TokenBucket(perSecond: 3, burst: 10, now: 0)
        #expect(stepped.take(10, at: 0) == true)
        for tick in stride(from: UInt64(0), through: 2 * Self.second, by: 1_000_003) {
            _ = stepped.take(0, at: tick)
        }
        #expect(stepped.available(at: 2 * Self.second) == 6)
        #expect(bucket.available(at: 100 * Self.second) == 10)
    }

    @Test func aBatchThatDoesNotFitTakesNothing() {
        var bucket = TokenBucket(perSecond: 10, burst: 20, now: 0)
        #expect(bucket.take(15, at: 0) == true)
        #expect(bucket.take(6, at: 0) == false)
        #expect(bucket.available(at: 0) == 5)
        #expect(bucket.wait(for: 6, at: 0) == Self.second / 10)
        #expect(bucket.wait(for: 5, at: 0) == 0)
        #expect(bucket.take(6, at: Self.second / 10) == true)
    }

    @Test func aBatchLargerThanTheBurstNeverFits() {
        var bucket = TokenBucket(perSecond: 1_000, burst: 50, now: 0)
        #expect(bucket.wait(for: 51, at: 0) == nil)
        #expect(bucket.take(51, at: 1_000 * Self.second) == false)
        #expect(bucket.available(at: 1_000 * Self.second) == 50)
        var limits = PartnerLimits()
        let policy = PartnerPolicy(partner: "p", role: .isp, version: 1, types: [.ipv4], categories: [.c2], purposes: ["p"],
                                   legalBases: ["l"], maxBatch: 50, rate: .init(perSecond: 1_000, burst: 50),
                                   dailyQuota: 1_000, tlpCeiling: .green)
        #expect(limits.admit(51, policy: policy, clock: PolicyClock(unixSeconds: 0, monotonicNanoseconds: 0))
                == Refusal(.rateLimited, "a batch of 51 is larger than the burst of 50: split it"))
    }

    @Test func longIdleTimesAndExtremeRatesDoNotOverflow() {
        var bucket = TokenBucket(perSecond: 1_000_000_000, burst: 1_000_000_000, now: 0)
        #expect(bucket.take(1_000_000_000, at: 0) == true)
        #expect(bucket.available(at: UInt64.max) == 1_000_000_000)
        var slow = TokenBucket(perSecond: 1, burst: 1, now: 0)
        #expect(slow.take(1, at: 0) == true)
        #expect(slow.wait(for: 1, at: 0) == Self.second)
        #expect(slow.available(at: UInt64.max - 1) == 1)
    }

    @Test func aClockGoingBackwardsEarnsNothing() {
        var bucket = TokenBucket(perSecond: 10, burst: 10, now: 10 * Self.second)
        #expect(bucket.take(10, at: 10 * Self.second) == true)
        #expect(bucket.available(at: 5 * Self.second) == 0)
        #expect(bucket.available(at: 11 * Self.second) == 10)
    }

    @Test func reconfigureKeepsTokensUpToTheNewBurst() {
        var bucket = TokenBucket(perSecond: 10, burst: 100, now: 0)
        #expect(bucket.take(40, at: 0) == true)
        bucket.reconfigure(perSecond: 1, burst: 20, at: 0)
        #expect(bucket.available(at: 0) == 20)
        bucket.reconfigure(perSecond: 1, burst: 1_000, at: 0)
        #expect(bucket.available(at: 0) == 20)  // a larger burst is earned, not granted
    }

    // MARK: - Daily quota

    /// 2026-03-01T00:00:00Z.
    static let midnight: Int64 = 1_772_323_200

    @Test func theQuotaResetsAtUTCMidnight() {
        var quota = DailyQuota(limit: 100, now: Self.midnight - 10)
        #expect(quota.take(100, at: Self.midnight - 10) == true)
        #expect(quota.take(1, at: Self.midnight - 1) == false)
        #expect(quota.remaining(at: Self.midnight - 1) == 0)
        #expect(quota.remaining(at: Self.midnight) == 100)
        #expect(quota.take(60, at: Self.midnight) == true)
        #expect(quota.take(41, at: Self.midnight + 86_399) == false)
        #expect(quota.used == 60)  // the refused batch counted nothing
        #expect(quota.take(40, at: Self.midnight + 86_399) == true)
        #expect(quota.take(100, at: Self.midnight + 86_400) == true)
    }

    @Test func secondsUntilReset() {
        #expect(DailyQuota.secondsUntilReset(at: Self.midnight) == 86_400)
        #expect(DailyQuota.secondsUntilReset(at: Self.midnight - 1) == 1)
        #expect(DailyQuota.utcDay(-1) == -1)
    }

    @Test func aWallClockSteppedBackDoesNotGiveASecondAllowance() {
        var quota = DailyQuota(limit: 10, now: Self.midnight + 5)
        #expect(quota.take(10, at: Self.midnight + 5) == true)
        #expect(quota.take(1, at: Self.midnight - 5) == false)  // yesterday, per a clock that jumped back
        #expect(quota.take(10, at: Self.midnight + 86_400) == true)
    }

    @Test func reconfiguredQuotaKeepsTodaysUse() {
        var quota = DailyQuota(limit: 10, now: Self.midnight)
        #expect(quota.take(8, at: Self.midnight) == true)
        quota.reconfigure(limit: 5, at: Self.midnight)
        #expect(quota.remaining(at: Self.midnight) == 0)
        quota.reconfigure(limit: 20, at: Self.midnight)
        #expect(quota.remaining(at: Self.midnight) == 12)
    }
}
