import Glibc
public import IndicatorKit
public import IndicatorStore

/// Builds the benchmarks' store: `entries` indicators of `Workload` (IPv4 `0..<n/2`, then
/// domains `0...n/2` — one more domain when `n` is odd), canonicalised and digested as ingest
/// would, written as a snapshot with `SnapshotWriter`. `value(at:)` gives entry `i`'s raw value.
public enum StoreBuilder {
    /// Why a generated value could not be stored.
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    /// Appends entry `index`'s raw value (of `entries`) to `out` and returns its type.
    @discardableResult
    public static func value(at index: Int, entries: Int, into out: inout [UInt8]) -> IndicatorType {
        let perType = entries / 2
        let type: IndicatorType = index < perType ? .ipv4 : .domain
        Workload.value(type, index < perType ? index : index - perType, into: &out)
        return type
    }

    /// Generates, digests and writes the snapshot to `path`. With `canonicalize` false the raw
    /// bytes are digested as given (MatcherBench's `--no-canonicalize`). `progress` is called
    /// now and then with a line for a terminal.
    public static func write(entries: Int, key: DigestKey, to path: String, canonicalize: Bool = true,
                             progress: (String) -> Void = { _ in }) throws(Failure) -> SnapshotWriter.Summary {
        var writer = SnapshotWriter(key: key, reservingCapacity: entries)
        var raw: [UInt8] = []
        raw.reserveCapacity(64)
        do {
            try Canonicalizer.withScratch { (out: inout ByteWriter) throws(IndicatorError) in
                for index in 0..<entries {
                    raw.removeAll(keepingCapacity: true)
                    let type = value(at: index, entries: entries, into: &raw)
                    let digest: IndicatorDigest
                    var form = CanonicalForm(type: type)
                    if canonicalize {
                        out.truncate(to: 0)
                        form = try raw.withUnsafeBufferPointer { (value) throws(IndicatorError) in
                            try Canonicalizer.canonicalize(value, as: type, into: &out)
                        }
                        digest = key.digest(form, canonical: out.written)
                    } else {
                        digest = raw.withUnsafeBufferPointer { key.digest(type, body: $0) }
                    }
                    writer.add(digest, Workload.metadata(index), form: form)
                    if index % 5_000_000 == 0 && index > 0 { progress("generated \(index) entries") }
                }
            }
        } catch {
            throw Failure(description: """
                the canonicaliser refused the generated value '\(String(decoding: raw, as: UTF8.self))': \(error) \
                (use --no-canonicalize to measure digest + probe alone)
                """)
        }
        progress("sorting and writing \(path)")
        do { return try writer.write(to: path) } catch { throw Failure(description: "\(error)") }
    }
}

/// Monotonic seconds, for timing.
public func monotonicSeconds() -> Double {
    var now = timespec()
    clock_gettime(CLOCK_MONOTONIC, &now)
    return Double(now.tv_sec) + Double(now.tv_nsec) / 1e9
}

/// The median of `values` (not empty).
public func median(_ values: [Double]) -> Double {
    let sorted = values.sorted()
    return sorted.count % 2 == 1 ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
}
