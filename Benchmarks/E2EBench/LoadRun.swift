import Foundation
import Glibc

/// One side's client connection, pipelining batches from a pool of pre-encoded requests.
/// Both servers answer a connection's requests in order (the hub's request ids are checked).
protocol PipelinedConnection: AnyObject {
    /// Writes the next `count` requests of the pool in one write.
    func send(count: Int) throws(BenchFailure)
    /// Blocks until at least one answer is complete; returns the complete answers (in request
    /// order), the values they answered and how many were hits.
    func receive() throws(BenchFailure) -> (answers: Int, checks: Int, hits: Int)
    /// Closes the connection.
    func close()
}

/// What a load run measured.
struct LoadFigures {
    var checksPerSecond: Double
    var requestsPerSecond: Double
    var p50Micros: Double
    var p99Micros: Double
    var hitRate: Double
    var checks: Int
    var seconds: Double
    /// The server process's CPU use during the measured window, in cores (1.0 = one core).
    var serverCores: Double

    /// Server CPU time (user + system, from /proc/PID/stat) per answered request, in µs.
    var serverMicrosPerRequest: Double { serverCores / max(requestsPerSecond, 1e-9) * 1e6 }
}

/// Drives `connections` (one thread each) with `depth` requests in flight per connection for
/// `warmup` + `duration` seconds; only answers received in the measured window count.
/// Latency is per request: from the write of its pipeline to the read that completed it.
func runLoad(_ connections: [any PipelinedConnection], depth: Int, warmup: Double, duration: Double,
             server: Child?) throws(BenchFailure) -> LoadFigures {
    final class Outcome: @unchecked Sendable {
        var checks = 0
        var hits = 0
        var answers = 0
        var latencies: [UInt32] = []
        var failure: BenchFailure?
    }
    let outcomes = connections.map { _ in Outcome() }
    let start = monotonicNow() + 0.05
    let measureFrom = start + warmup
    let measureTo = measureFrom + duration
    let group = DispatchGroup()
    nonisolated(unsafe) let clients = connections
    for (index, outcome) in outcomes.enumerated() {
        group.enter()
        let thread = Thread {
            defer { group.leave() }
            let connection = clients[index]
            var sent: [Double] = Array(repeating: 0, count: depth)  // ring of send times
            var head = 0
            var inFlight = 0
            outcome.latencies.reserveCapacity(1 << 20)
            while monotonicNow() < start {}
            do throws(BenchFailure) {
                while true {
                    let now = monotonicNow()
                    if now >= measureTo { break }
                    if inFlight < depth {
                        let count = depth - inFlight
                        try connection.send(count: count)
                        for _ in 0..<count { sent[(head + inFlight) % depth] = now; inFlight += 1 }
                    }
                    let got = try connection.receive()
                    let done = monotonicNow()
                    let measured = done >= measureFrom && done < measureTo
                    for _ in 0..<got.answers {
                        if measured { outcome.latencies.append(UInt32(clamping: Int((done - sent[head]) * 1e9))) }
                        head = (head + 1) % depth
                        inFlight -= 1
                    }
                    if measured {
                        outcome.checks += got.checks
                        outcome.hits += got.hits
                        outcome.answers += got.answers
                    }
                }
                while inFlight > 0 { inFlight -= try connection.receive().answers }
            } catch {
                outcome.failure = error
            }
        }
        thread.start()
    }
    while monotonicNow() < measureFrom {}
    let cpuBefore = server?.cpuSeconds() ?? 0
    while monotonicNow() < measureTo { usleep(1000) }
    let cpuAfter = server?.cpuSeconds() ?? 0
    group.wait()
    if let failure = outcomes.compactMap(\.failure).first { throw failure }
    var latencies: [UInt32] = []
    latencies.reserveCapacity(outcomes.reduce(0) { $0 + $1.latencies.count })
    for outcome in outcomes { latencies.append(contentsOf: outcome.latencies) }
    let checks = outcomes.reduce(0) { $0 + $1.checks }
    let hits = outcomes.reduce(0) { $0 + $1.hits }
    let answers = outcomes.reduce(0) { $0 + $1.answers }
    guard !latencies.isEmpty else { throw BenchFailure("no answer arrived in the measured \(duration) s") }
    latencies.sort()
    return LoadFigures(checksPerSecond: Double(checks) / duration, requestsPerSecond: Double(answers) / duration,
                       p50Micros: percentile(latencies, 0.50), p99Micros: percentile(latencies, 0.99),
                       hitRate: Double(hits) / Double(max(checks, 1)), checks: checks, seconds: duration,
                       serverCores: (cpuAfter - cpuBefore) / duration)
}

/// Latency of single requests, one at a time on one connection (an idle server): `count`
/// requests after `warmup` unmeasured ones. Returns (p50, p99, p999) in microseconds.
func runIdle(_ connection: any PipelinedConnection, count: Int, warmup: Int) throws(BenchFailure) -> (Double, Double, Double) {
    var latencies: [UInt32] = []
    latencies.reserveCapacity(count)
    for index in 0..<(warmup + count) {
        let start = monotonicNow()
        try connection.send(count: 1)
        var answers = 0
        while answers == 0 { answers = try connection.receive().answers }
        if index >= warmup { latencies.append(UInt32(clamping: Int((monotonicNow() - start) * 1e9))) }
    }
    latencies.sort()
    return (percentile(latencies, 0.50), percentile(latencies, 0.99), percentile(latencies, 0.999))
}

/// The nearest-rank percentile of sorted nanosecond values, in microseconds.
func percentile(_ sorted: [UInt32], _ fraction: Double) -> Double {
    let rank = min(sorted.count - 1, max(0, Int((fraction * Double(sorted.count)).rounded(.up)) - 1))
    return Double(sorted[rank]) / 1000
}
