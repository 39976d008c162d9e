// LiveBench: what the live store's delta costs a lookup, against the snapshot alone
// (docs/LIVE-UPDATES.md "Publication", docs/BENCHMARKS.md "Live updates").
//
//     swift build -c release --scratch-path .build-release --product LiveBench
//     .build-release/release/LiveBench [ENTRIES] [DELTA] [UPLOAD_SIZE]
//
// Builds a snapshot of ENTRIES random digests (default 1,000,000), then times single-digest
// lookups (half hits, half misses) through `Snapshot.lookup`, `LiveState.lookup` with an empty
// delta, and `LiveState.lookup` after DELTA (default 100,000) reports arrived in uploads of
// UPLOAD_SIZE (default 1,000: one journal group and one delta layer each, before merging).
// `LiveBench --compaction-latency [ENTRIES] [DELTA]` (CompactionLatency.swift) measures the
// batched matcher's per-batch latency over a live state, idle and during a compaction.
// Also reports upload throughput (one fdatasync per upload here: sequential, no grouping) and
// the compaction time. Synthetic digests only.
import Foundation
import IndicatorKit
import IndicatorStore

#if DEBUG
print("WARNING: debug build; run with -c release for numbers")
#endif

let arguments = CommandLine.arguments.dropFirst().compactMap { Int($0) }
if CommandLine.arguments.contains("--compaction-latency") {
    try compactionLatency(entries: arguments.first ?? 10_000_000, delta: arguments.count > 1 ? arguments[1] : 100_000)
    exit(0)
}
let entries = arguments.count > 0 ? arguments[0] : 1_000_000
let deltaSize = arguments.count > 1 ? arguments[1] : 100_000
let uploadSize = arguments.count > 2 ? arguments[2] : 1_000
let keyID: UInt64 = 0x1234_5678
let queries = 2_000_000
let runs = 5

nonisolated(unsafe) var random = SplitMix64(seed: 42)
func randomDigest() -> IndicatorDigest { IndicatorDigest(lo: random.next() | 2, hi: random.next()) }

let directory = FileManager.default.temporaryDirectory.appendingPathComponent("livebench-\(getpid())").path
try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
defer { try? FileManager.default.removeItem(atPath: directory) }

var stored: [IndicatorDigest] = []
stored.reserveCapacity(entries)
var writer = SnapshotWriter(keyID: keyID, reservingCapacity: entries)
for _ in 0..<entries {
    let digest = randomDigest()
    stored.append(digest)
    writer.add(digest, EntryMetadata(sourceID: 1))
}
_ = try writer.write(to: directory + "/indicators.snap", createdAt: 0)

var probe: [IndicatorDigest] = []
probe.reserveCapacity(queries)
for index in 0..<queries {
    probe.append(index % 2 == 0 ? stored[Int(random.next() % UInt64(entries))] : randomDigest())
}

/// Best and median ns per lookup over `runs` runs (after one warm-up).
func time(_ label: String, _ body: () -> Int) {
    _ = body()
    var samples: [Double] = []
    var hits = 0
    for _ in 0..<runs {
        let start = DispatchTime.now().uptimeNanoseconds
        hits = body()
        samples.append(Double(DispatchTime.now().uptimeNanoseconds - start) / Double(queries))
    }
    samples.sort()
    print(String(format: "%@ best %6.1f ns  median %6.1f ns  (%d hits)", label as NSString, samples[0], samples[runs / 2], hits))
}

let store = try LiveStore.open(storeDirectory: directory, keyID: keyID)
let snapshot = store.view().snapshot!
print("entries \(entries), delta \(deltaSize) in uploads of \(uploadSize), \(queries) lookups per run, \(runs) runs")
let empty = store.view()
// Interleaved, so that both see the same machine load.
for _ in 0..<2 {
    time("Snapshot.lookup") {
        var hits = 0
        for digest in probe where snapshot.lookup(digest, now: 1) != nil { hits += 1 }
        return hits
    }
    time("LiveState.lookup, empty delta") {
        var hits = 0
        for digest in probe where empty.lookup(digest, now: 1) != nil { hits += 1 }
        return hits
    }
}

var uploaded = 0
var uploadNumber = 0
let uploadStart = DispatchTime.now().uptimeNanoseconds
while uploaded < deltaSize {
    let count = min(uploadSize, deltaSize - uploaded)
    // Half re-report snapshot entries, half are new.
    let reports = (0..<count).map { index in
        DigestReport(index % 2 == 0 ? stored[Int(random.next() % UInt64(entries))] : randomDigest(), EntryMetadata(confidence: 70))
    }
    uploadNumber += 1
    _ = try store.upload(
        LiveStore.UploadRequest(id: UploadID(low: UInt64(uploadNumber), high: 7), source: 2, reports: reports),
        time: 1)
    uploaded += count
}
let uploadSeconds = Double(DispatchTime.now().uptimeNanoseconds - uploadStart) / 1e9
print(String(format: "uploads: %d of %d reports in %.2f s: %.0f reports/s, %.2f ms per upload",
             uploadNumber, uploadSize, uploadSeconds, Double(uploaded) / uploadSeconds, uploadSeconds * 1000 / Double(uploadNumber)))

let withDelta = store.view()
time("LiveState.lookup, delta of \(withDelta.deltaCount) entries in \(withDelta.layerCount) layers") {
    var hits = 0
    for digest in probe where withDelta.lookup(digest, now: 1) != nil { hits += 1 }
    return hits
}
let compactStart = DispatchTime.now().uptimeNanoseconds
let summary = try store.compact(now: 1, createdAt: 0)
print(String(format: "compaction to %d entries (%d reports in the table): %.2f s",
             summary.entries, summary.reports, Double(DispatchTime.now().uptimeNanoseconds - compactStart) / 1e9))
let compacted = store.view()
time("LiveState.lookup, after compaction") {
    var hits = 0
    for digest in probe where compacted.lookup(digest, now: 1) != nil { hits += 1 }
    return hits
}
store.close()
