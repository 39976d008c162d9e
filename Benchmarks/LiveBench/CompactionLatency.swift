// `LiveBench --compaction-latency [ENTRIES] [DELTA]`: query latency of the batched matcher
// over a live state, idle and while a compaction runs on another thread (issue 4's target:
// p99 during compaction ≤ 2 × idle). Prints one JSON object.
import Foundation
import IndicatorKit
import IndicatorStore
import Synchronization

/// Set by the compaction thread when it is done.
final class DoneFlag: Sendable {
    private let value = Atomic(false)
    func set() { value.store(true, ordering: .releasing) }
    var isSet: Bool { value.load(ordering: .acquiring) }
}

func compactionLatency(entries: Int, delta: Int) throws {
    let key = DigestKey.generate()
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("livebench-latency-\(getpid())").path
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: directory) }

    // Entries: digests of distinct IPv4 addresses (so queries are real values), from 1.0.0.0.
    func address(_ index: Int) -> [UInt8] {
        let value = UInt32(truncatingIfNeeded: 0x0100_0000 &+ index &* 7)
        return [UInt8(value >> 24), UInt8((value >> 16) & 255), UInt8((value >> 8) & 255), UInt8(value & 255)]
    }
    func digest(_ index: Int) -> IndicatorDigest { address(index).withUnsafeBufferPointer { key.digest(.ipv4, body: $0) } }
    var writer = SnapshotWriter(key: key, reservingCapacity: entries)
    for index in 0..<entries { writer.add(digest(index), EntryMetadata(sourceID: 1)) }
    _ = try writer.write(to: directory + "/indicators.snap", createdAt: 0)
    writer = SnapshotWriter(key: key)
    let store = try LiveStore.open(storeDirectory: directory, keyID: key.id)
    defer { store.close() }
    // The delta: fresh uploads of 1,000 reports (new addresses after the snapshot's).
    var uploaded = 0
    while uploaded < delta {
        let count = min(1_000, delta - uploaded)
        let reports = (0..<count).map { DigestReport(digest(entries + uploaded + $0), EntryMetadata(confidence: 70)) }
        _ = try store.upload(LiveStore.UploadRequest(id: UploadID.random(), source: 2, reports: reports), time: 1)
        uploaded += count
    }

    // Queries: a third snapshot hits, a third delta hits, a third misses (as text, canonicalised).
    var random = SplitMix64(seed: 7)
    let queryCount = 1 << 16
    let texts: [[UInt8]] = (0..<queryCount).map { index in
        let pick = Int(random.next() % UInt64(entries))
        let chosen = index % 3 == 0 ? pick : index % 3 == 1 ? entries + pick % max(delta, 1) : entries + delta + pick
        return Array(address(chosen).map(String.init).joined(separator: ".").utf8)
    }
    let storage = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: texts.reduce(0) { $0 + $1.count })
    defer { storage.deallocate() }
    var buffers: [UnsafeBufferPointer<UInt8>] = []
    var offset = 0
    for text in texts {
        let slice = UnsafeMutableBufferPointer(rebasing: storage[offset..<(offset + text.count)])
        _ = slice.initialize(from: text)
        buffers.append(UnsafeBufferPointer(slice))
        offset += text.count
    }
    let records = UnsafeMutableBufferPointer<MatchRecord>.allocate(capacity: 64)
    defer { records.deallocate() }
    records.initialize(repeating: .refused)

    /// Per-batch nanoseconds for `batches` batches of `size` (each takes the current view,
    /// as a server's event loop would), while `running()` holds (or for all, if nil).
    func measure(size: Int, batches: Int, matcher: Matcher, while running: (() -> Bool)? = nil) -> [Double] {
        var samples: [Double] = []
        samples.reserveCapacity(batches)
        var position = 0
        buffers.withUnsafeBufferPointer { all in
            for _ in 0..<batches {
                if let running, !running() { break }
                if position + size > all.count { position = 0 }
                let start = DispatchTime.now().uptimeNanoseconds
                matcher.use(store.view())
                matcher.match(UnsafeBufferPointer(rebasing: all[position..<(position + size)]), now: 2, into: records)
                samples.append(Double(DispatchTime.now().uptimeNanoseconds - start))
                position += size
            }
        }
        return samples
    }
    func percentile(_ samples: [Double], _ p: Double) -> Double {
        let sorted = samples.sorted()
        return sorted.isEmpty ? 0 : sorted[min(sorted.count - 1, Int(Double(sorted.count) * p))]
    }

    var result: [String: Any] = [
        "name": "live_compaction_latency", "entries": entries, "delta": delta,
        "delta_layers": store.view().layerCount,
    ]
    for size in [64, 1] {
        let matcher = try Matcher(state: store.view(), key: key, batchSize: 32)
        _ = measure(size: size, batches: 2_000, matcher: matcher)  // warm-up
        let idle = measure(size: size, batches: size == 1 ? 200_000 : 20_000, matcher: matcher)
        // The same again while a compaction runs on another thread (it publishes a new
        // snapshot at its end; the delta then is what arrived meanwhile: nothing here).
        let done = DoneFlag()
        let compactionStart = DispatchTime.now().uptimeNanoseconds
        let thread = Thread {
            _ = try? store.compact(now: 2)
            done.set()
        }
        thread.start()
        var during: [Double] = []
        while !done.isSet {
            during += measure(size: size, batches: 1_000, matcher: matcher) { !done.isSet }
        }
        let compactionSeconds = Double(DispatchTime.now().uptimeNanoseconds - compactionStart) / 1e9
        let p50 = (percentile(idle, 0.5), percentile(during, 0.5))
        let p99 = (percentile(idle, 0.99), percentile(during, 0.99))
        result["batch_\(size)"] = [
            "idle_batches": idle.count, "idle_p50_us": (p50.0 / 10).rounded() / 100, "idle_p99_us": (p99.0 / 10).rounded() / 100,
            "compaction_batches": during.count, "compaction_p50_us": (p50.1 / 10).rounded() / 100,
            "compaction_p99_us": (p99.1 / 10).rounded() / 100, "p99_ratio": ((p99.1 / p99.0) * 100).rounded() / 100,
            "compaction_seconds": (compactionSeconds * 100).rounded() / 100,
            "target_p99_ratio_at_most": 2,
        ] as [String: Any]
        // The next batch size measures against a store with the delta again.
        if size == 64 {
            var again = 0
            while again < delta {
                let count = min(1_000, delta - again)
                let reports = (0..<count).map { DigestReport(digest(entries + delta + again + $0), EntryMetadata(confidence: 70)) }
                _ = try store.upload(LiveStore.UploadRequest(id: UploadID.random(), source: 2, reports: reports), time: 1)
                again += count
            }
        }
    }
    let json = try JSONSerialization.data(withJSONObject: result, options: [.sortedKeys])
    print(String(decoding: json, as: UTF8.self))
}
