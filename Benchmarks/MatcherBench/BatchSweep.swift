// `--best`: each side at every batch of a sweep, so that the timed runs can set each side's
// fastest batch against the other's (docs/BENCHMARKS.md). The reference loop exposes one memory
// latency per batch and gains from large batches; ours is pipelined and nearly flat, so an
// equal batch flatters whichever side the batch happens to suit.
import BenchSupport

/// Lookups per second of both sides at each batch of the sweep: `rounds` rounds, each timing
/// every batch once per side, ours and the reference in turn (so both see the same load); each
/// figure is the median over the rounds.
struct BatchSweep {
    struct Point {
        let batch: Int
        let ours: Double
        let reference: Double
    }

    let points: [Point]

    /// `ours(batch)` and `reference(batch)` run one pass over the queries at that batch and
    /// return its wall seconds; each is called once untimed first (a warm-up per batch).
    init(batches: [Int], rounds: Int, lookups: Int, ours: (Int) -> Double, reference: (Int) -> Double) {
        for batch in batches {
            _ = ours(batch)
            _ = reference(batch)
        }
        var oursSeconds = [[Double]](repeating: [], count: batches.count)
        var referenceSeconds = [[Double]](repeating: [], count: batches.count)
        for _ in 0..<rounds {
            for (index, batch) in batches.enumerated() {
                oursSeconds[index].append(ours(batch))
                referenceSeconds[index].append(reference(batch))
            }
        }
        points = batches.indices.map { index in
            Point(batch: batches[index], ours: Double(lookups) / median(oursSeconds[index]),
                  reference: Double(lookups) / median(referenceSeconds[index]))
        }
    }

    /// Our fastest batch.
    var oursBest: Int { points.max { $0.ours < $1.ours }!.batch }
    /// The reference loop's fastest batch.
    var referenceBest: Int { points.max { $0.reference < $1.reference }!.batch }

    /// `[{"batch":B,"lookups_per_second":…,"reference_lookups_per_second":…,"ratio":…},…]`: the
    /// ratio at an equal batch B, for each B.
    var json: String {
        let objects = points.map { point in
            "{\"batch\":\(point.batch),\"lookups_per_second\":\(Int(point.ours.rounded()))"
                + ",\"reference_lookups_per_second\":\(Int(point.reference.rounded()))"
                + ",\"ratio\":\(String(format: "%.3f", point.ours / point.reference))}"
        }
        return "[" + objects.joined(separator: ",") + "]"
    }
}
