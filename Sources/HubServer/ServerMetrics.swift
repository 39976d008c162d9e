import Glibc
import HubAudit
import HubWire
import IndicatorKit
import Synchronization

/// What the server counts for `--metrics-file` (docs/OPERATIONS.md, "Metrics"): requests by
/// kind and outcome, refusals by protocol code, latencies, query values, hits and value
/// refusals, feed records, connection-level errors. Sharded by event loop: each loop's
/// sessions add to their own `MetricsShard` under an uncontended lock (once per answered
/// request, never per value), and the metrics writer sums the shards every interval.
///
/// Privacy: nothing here is keyed by anything a partner sent or by who sent it. Labels come
/// from closed sets the hub defines (request kinds, error code names, indicator type names,
/// refusal names); no value, digest, reference or partner name is ever recorded.
public final class ServerMetrics: Sendable {
    let shards: [MetricsShard]
    /// Unix time (seconds) the server was created: `ihub_start_time_seconds`.
    let startTime: Double
    private let compactionsSucceeded = Atomic<Int>(0)
    private let compactionsFailed = Atomic<Int>(0)

    /// `shards`: one per event loop.
    public init(shards: Int) {
        self.shards = (0..<max(1, shards)).map { _ in MetricsShard() }
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        startTime = Double(now.tv_sec) + Double(now.tv_nsec / 1_000_000) / 1000
    }

    /// The shard of event loop `index`.
    func shard(_ index: Int) -> MetricsShard { shards[index % shards.count] }

    /// A background compaction finished (`ihub_compactions_total`).
    func noteCompaction(succeeded: Bool) {
        if succeeded {
            compactionsSucceeded.add(1, ordering: .relaxed)
        } else {
            compactionsFailed.add(1, ordering: .relaxed)
        }
    }

    var compactions: (succeeded: Int, failed: Int) {
        (compactionsSucceeded.load(ordering: .relaxed), compactionsFailed.load(ordering: .relaxed))
    }

    /// Every shard's counters added up (a consistent total per shard, not across shards).
    package func totals() -> RequestCounters {
        var total = RequestCounters()
        for shard in shards { shard.counters.withLock { total.add($0) } }
        return total
    }
}

/// One event loop's counters (see `ServerMetrics`).
final class MetricsShard: Sendable {
    let counters = Mutex(RequestCounters())

    /// Counts an answered request: its audit record (kind, decision, counts, hits, feed
    /// numbers) and the answer sent (a request-level ERROR's code). Called once per request on
    /// the session's loop, when its answer is encoded.
    func record(_ record: AuditRecord, answer: Message) {
        let latency = RequestClock.now().wallMicros &- record.timeMicros
        let refusedCode: UInt16? = if case .error(let error) = answer { error.code.rawValue } else { nil }
        counters.withLock { $0.add(record, refusedCode: refusedCode, latencyMicros: latency) }
    }

    /// A connection-level ERROR (codes 1–99) sent before closing.
    func connectionError(_ code: ErrorCode) {
        counters.withLock { $0.connectionErrors[code.rawValue, default: 0] += 1 }
    }

    /// A TLS handshake that failed (bad or missing client certificate, protocol error).
    func handshakeFailed() {
        counters.withLock { $0.handshakeFailures += 1 }
    }
}

/// The request counters of one shard, or their total. Fixed slots where the set is closed and
/// small (kinds, types, value refusals, latency buckets); dictionaries, touched only when a
/// refusal happens, for protocol codes.
package struct RequestCounters: Sendable {
    /// The request kinds, in slot order (`AuditRecord.Kind`).
    static let kinds: [AuditRecord.Kind] = [.query, .upload, .withdraw]
    /// The latency histogram's upper bounds in microseconds (50 µs – 1 s), then `+Inf`.
    static let bucketMicros: [UInt64] = [50, 100, 250, 500, 1_000, 2_500, 5_000, 10_000, 25_000, 50_000, 100_000,
                                         250_000, 500_000, 1_000_000]
    static var bucketSlots: Int { bucketMicros.count + 1 }

    /// Requests by kind (slot `kind * 2`) and outcome (`+ 1` refused).
    package var requests = [Int](repeating: 0, count: 6)
    /// Refused requests by kind slot and ERROR code (`kind << 16 | code`).
    package var refusals: [UInt32: Int] = [:]
    /// Latencies by kind: per-bucket (not cumulative) counts, `bucketSlots` per kind.
    package var latencyBuckets = [Int](repeating: 0, count: 3 * 15)
    package var latencySumMicros = [UInt64](repeating: 0, count: 3)
    /// QUERY values by indicator type (slot 0: type unknown, refused before it was known).
    package var queryValues = [Int](repeating: 0, count: 16)
    package var queryHits = 0
    /// Values refused individually in QUERY batches, by `ValueRefusal` raw value.
    package var valueRefusals = [Int](repeating: 0, count: 8)
    /// Upload records stored new / merged as duplicates / rejected.
    package var uploadAccepted = 0
    package var uploadDuplicates = 0
    package var uploadRejected = 0
    /// Withdrawal: reports withdrawn / values without a live report / values refused.
    package var withdrawn = 0
    package var withdrawNotFound = 0
    package var withdrawRejected = 0
    /// Connection-level ERRORs sent, by code.
    package var connectionErrors: [UInt16: Int] = [:]
    package var handshakeFailures = 0

    package init() {}

    static func kindSlot(_ kind: AuditRecord.Kind) -> Int {
        switch kind {
        case .query: 0
        case .upload: 1
        case .withdraw: 2
        }
    }

    /// Index of the first bucket whose bound is ≥ `micros` (the last slot: `+Inf`).
    static func bucket(_ micros: UInt64) -> Int {
        var index = 0
        while index < bucketMicros.count && micros > bucketMicros[index] { index += 1 }
        return index
    }

    mutating func add(_ record: AuditRecord, refusedCode: UInt16?, latencyMicros: UInt64) {
        let kind = Self.kindSlot(record.kind)
        // A wall clock stepped back makes a negative difference: count it as 0.
        let micros = latencyMicros > 1 << 62 ? 0 : latencyMicros
        let refused = record.decision == .refused || refusedCode != nil
        requests[kind * 2 + (refused ? 1 : 0)] += 1
        if let refusedCode { refusals[UInt32(kind) << 16 | UInt32(refusedCode), default: 0] += 1 }
        latencyBuckets[kind * Self.bucketSlots + Self.bucket(micros)] += 1
        latencySumMicros[kind] &+= micros
        switch record.kind {
        case .query:
            queryValues[0] += record.unknownTypeCount
            for (type, count) in record.countsByType { queryValues[Int(type.rawValue) & 15] += count }
            queryHits += record.hitDigests.count
            for (name, count) in record.refusedValues {
                if let refusal = ValueRefusal.allCases.first(where: { $0.name == name }) {
                    valueRefusals[Int(refusal.rawValue)] += count
                }
            }
        case .upload:
            guard let feed = record.feed else { break }
            uploadAccepted += feed.accepted
            uploadDuplicates += feed.duplicates
            uploadRejected += feed.rejected
        case .withdraw:
            guard let feed = record.feed else { break }
            withdrawn += feed.withdrawn
            withdrawNotFound += feed.notFound
            withdrawRejected += feed.rejected
        }
    }

    /// Adds `other`'s counts to these.
    mutating func add(_ other: RequestCounters) {
        func sum(_ left: inout [Int], _ right: [Int]) { for index in left.indices { left[index] += right[index] } }
        sum(&requests, other.requests)
        sum(&latencyBuckets, other.latencyBuckets)
        for index in latencySumMicros.indices { latencySumMicros[index] &+= other.latencySumMicros[index] }
        sum(&queryValues, other.queryValues)
        sum(&valueRefusals, other.valueRefusals)
        refusals.merge(other.refusals, uniquingKeysWith: +)
        connectionErrors.merge(other.connectionErrors, uniquingKeysWith: +)
        queryHits += other.queryHits
        uploadAccepted += other.uploadAccepted
        uploadDuplicates += other.uploadDuplicates
        uploadRejected += other.uploadRejected
        withdrawn += other.withdrawn
        withdrawNotFound += other.withdrawNotFound
        withdrawRejected += other.withdrawRejected
        handshakeFailures += other.handshakeFailures
    }
}
