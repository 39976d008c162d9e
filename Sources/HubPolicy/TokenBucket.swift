/// A token bucket: at most `burst` tokens, refilled at `perSecond` tokens per second from a
/// monotonic clock the caller passes in (nanoseconds; `CLOCK_MONOTONIC` in the server).
/// One queried value takes one token; a batch takes all its tokens or none.
///
/// Integer arithmetic only: tokens are kept in billionths, so refill is exact and never drifts.
public struct TokenBucket: Equatable, Hashable, Sendable {
    public private(set) var perSecond: Int
    public private(set) var burst: Int
    /// Tokens × 10⁹.
    private var scaledTokens: UInt64
    /// The monotonic time the bucket was last refilled.
    private var refilledAt: UInt64

    private static let scale: UInt64 = 1_000_000_000

    /// A full bucket at `now`. `perSecond` and `burst` must be 1 … 10⁹ (policy validation
    /// guarantees it; anything else is a programmer error).
    public init(perSecond: Int, burst: Int, now: UInt64) {
        precondition((1...1_000_000_000).contains(perSecond) && (1...1_000_000_000).contains(burst),
                     "token bucket rate and burst must be 1...1e9")
        self.perSecond = perSecond
        self.burst = burst
        self.scaledTokens = UInt64(burst) * Self.scale
        self.refilledAt = now
    }

    /// Whole tokens available at `now`.
    public func available(at now: UInt64) -> Int {
        var copy = self
        copy.refill(at: now)
        return Int(copy.scaledTokens / Self.scale)
    }

    /// Takes `count` tokens if they are all there at `now`; otherwise takes none.
    public mutating func take(_ count: Int, at now: UInt64) -> Bool {
        refill(at: now)
        guard count >= 0, count <= burst else { return false }
        let needed = UInt64(count) * Self.scale
        guard needed <= scaledTokens else { return false }
        scaledTokens -= needed
        return true
    }

    /// Nanoseconds from `now` until `count` tokens will be there (0 if they are), or nil when
    /// `count` is more than the burst and never can be.
    public func wait(for count: Int, at now: UInt64) -> UInt64? {
        guard count >= 0, count <= burst else { return nil }
        var copy = self
        copy.refill(at: now)
        let needed = UInt64(count) * Self.scale
        guard needed > copy.scaledTokens else { return 0 }
        let missing = needed - copy.scaledTokens
        // Each nanosecond refills `perSecond` scaled units (10⁹ units per token, 10⁹ ns per second).
        return (missing + UInt64(perSecond) - 1) / UInt64(perSecond)
    }

    /// Adopts a new rate and burst (a reloaded policy), keeping the tokens already there
    /// (at most the new burst).
    public mutating func reconfigure(perSecond: Int, burst: Int, at now: UInt64) {
        precondition((1...1_000_000_000).contains(perSecond) && (1...1_000_000_000).contains(burst),
                     "token bucket rate and burst must be 1...1e9")
        refill(at: now)
        self.perSecond = perSecond
        self.burst = burst
        scaledTokens = min(scaledTokens, UInt64(burst) * Self.scale)
    }

    /// Adds what `now - refilledAt` earned, capped at the burst. A clock that goes backwards
    /// earns nothing (and the bucket keeps its later time).
    private mutating func refill(at now: UInt64) {
        guard now > refilledAt else { return }
        let capacity = UInt64(burst) * Self.scale
        let elapsed = now - refilledAt
        refilledAt = now
        guard scaledTokens < capacity else { return }
        // elapsed × perSecond could overflow for long idle times: cap elapsed at the time a full refill takes.
        let fullRefill = (capacity - scaledTokens + UInt64(perSecond) - 1) / UInt64(perSecond)
        if elapsed >= fullRefill {
            scaledTokens = capacity
        } else {
            scaledTokens = min(capacity, scaledTokens + elapsed * UInt64(perSecond))
        }
    }
}
