// MatcherBench: the in-process matcher (raw indicator strings in: canonicalise + digest +
// probe) against a C reference loop (libsodium SipHash + one random cache-line read per
// lookup, batched with prefetch) over a table of the same byte size, in one run.
// Prints one JSON object on stdout; progress on stderr only when stderr is a terminal.
// See docs/BENCHMARKS.md.
import BenchSupport
import CHubShim
import Foundation
import Glibc
import IndicatorKit
import IndicatorStore

struct Options {
    var entries = 10_000_000
    var batch = 32
    /// The reference loop's batch: by default 16, the loop PRODUCT.md's figures come from
    /// ("a random cache-line read ... in batches of 16 with prefetch").
    var referenceBatch = 16
    /// --best: the batches to sweep, each side then timed at its fastest (nil: no sweep).
    var sweep: [Int]? = nil
    /// Values per `match` call, into one reused record buffer (0: all queries in one call).
    var chunk = 10_000
    var lookups = 2_000_000
    var runs = 5
    var hugePages = false
    var canonicalize = true
    var detect = false
    var hitRate = 0.5
    var coldStage = true
    var interleave = true
    var scalarSipHash = false
    var compareScalar = false
    var generalStages = false
    var delta = 0
    var directory: String? = nil

    static let usage = """
        usage: MatcherBench [--entries N] [--batch N] [--reference-batch N] [--best] [--sweep LIST]
                            [--chunk N] [--lookups N]
                            [--runs N] [--huge-pages] [--hit-rate F] [--detect] [--no-canonicalize] [--no-cold-stage]
                            [--grouped] [--scalar-siphash] [--compare-scalar] [--general-stages] [--delta N]
                            [--dir DIRECTORY]
          --entries N        indicators in the table, half IPv4 and half domains (default 10000000)
          --batch N          values per batch, prefetched together (default 32, at most 256)
          --reference-batch N  the reference loop's batch (default 16: the loop PRODUCT.md
                             measured, "in batches of 16 with prefetch"; at most 256). For the
                             same batch on both sides give both flags; the reference is
                             fastest at 64-128 on this machine, ours is flat from 32 up
          --best             time both sides at every batch of the sweep first (3 rounds,
                             interleaved), then time each side at its own fastest batch: the
                             ratio of best against best (the sweep's figures: "sweep")
          --sweep LIST       the batches --best tries, comma-separated (default 16,32,64,128;
                             implies --best)
          --chunk N          ours: values per match call, their records in one buffer reused
                             by every call, as the server matches each QUERY into its records
                             (default 10000, the protocol's most values per QUERY); 0: all
                             lookups in one call, their records in one buffer of 40 bytes each
          --lookups N        lookups per timed run (default 2000000)
          --hit-rate F       fraction of the lookups that are listed, 0...1 (default 0.5)
          --runs N           timed runs after one warm-up; the median is reported (default 5)
          --huge-pages       ours: anonymous copy with MADV_HUGEPAGE; reference: MADV_HUGEPAGE
          --detect           queries untyped: detect each value's type (default: typed ipv4/domain)
          --no-canonicalize  digest the raw bytes as given (typed) instead of canonicalising
          --general-stages   ours: the general (Swift) stages instead of the lean C stages
          --delta N          ours: answer from a live store on the snapshot with one upload
                             of N new digests in its delta (a hub between compactions)
          --no-cold-stage    scan buckets and read cold records in the last stage (no stage
                             of their own that prefetches the cold record of a match)
          --grouped          all of our runs, then all of the reference's (default: alternate
                             them, one of each in turn, and report the median of the pairs'
                             ratios; --interleave is accepted and is the default)
          --scalar-siphash   ours: digest one value at a time in Swift even where the CPU has
                             AVX2 (default there: four at a time, CHubSipHash; sets
                             IHUB_SCALAR_SIPHASH=1)
          --compare-scalar   also time a second matcher with the scalar SipHash, its runs
                             interleaved with ours and the reference's (scalar_* fields)
          --dir DIRECTORY    where to write the snapshot (default: a temporary directory)
        """

    init(_ arguments: [String]) {
        var iterator = arguments.makeIterator()
        func number(_ name: String, orZero: Bool = false) -> Int {
            guard let text = iterator.next(), let value = Int(text.replacingOccurrences(of: "_", with: "")),
                value > 0 || (orZero && value == 0)
            else { fail("\(name) needs \(orZero ? "a number, 0 or more" : "a positive number")") }
            return value
        }
        while let argument = iterator.next() {
            switch argument {
            case "--entries": entries = number(argument)
            case "--batch": batch = min(number(argument), 256)
            case "--reference-batch": referenceBatch = min(number(argument), 256)
            case "--best": sweep = sweep ?? [16, 32, 64, 128]
            case "--sweep":
                guard let text = iterator.next() else { fail("--sweep needs a list of batches, e.g. 16,32,64,128") }
                let batches = text.split(separator: ",", omittingEmptySubsequences: false).map { Int($0) }
                guard !batches.isEmpty, batches.allSatisfy({ $0.map { $0 > 0 && $0 <= 256 } ?? false }) else {
                    fail("--sweep needs batches from 1 to 256, comma-separated, e.g. 16,32,64,128 (got '\(text)')")
                }
                sweep = batches.map { $0! }
            case "--chunk": chunk = number(argument, orZero: true)
            case "--lookups": lookups = number(argument)
            case "--runs": runs = number(argument)
            case "--huge-pages": hugePages = true
            case "--no-canonicalize": canonicalize = false
            case "--no-cold-stage": coldStage = false
            case "--general-stages": generalStages = true
            case "--delta": delta = number(argument)
            case "--detect": detect = true
            case "--hit-rate":
                guard let text = iterator.next(), let value = Double(text), value >= 0, value <= 1 else {
                    fail("--hit-rate needs a fraction between 0 and 1")
                }
                hitRate = value
            case "--interleave": interleave = true
            case "--grouped": interleave = false
            case "--scalar-siphash": scalarSipHash = true
            case "--compare-scalar": compareScalar = true
            case "--dir":
                guard let value = iterator.next() else { fail("--dir needs a directory") }
                directory = value
            case "--help", "-h":
                print(Self.usage)
                exit(0)
            default: fail("unknown option \(argument)")
            }
        }
        if sweep != nil, arguments.contains("--batch") || arguments.contains("--reference-batch") {
            fail("--best (or --sweep) chooses both batches: leave out --batch and --reference-batch")
        }
    }
}

func fail(_ message: String, status: Int32 = 2) -> Never {
    FileHandle.standardError.write(Data("MatcherBench: \(message)\n\(status == 2 ? Options.usage + "\n" : "")".utf8))
    exit(status)
}

let interactive = isatty(2) == 1
func progress(_ message: String) {
    if interactive { FileHandle.standardError.write(Data("\(message)\n".utf8)) }
}

func seconds() -> Double {
    var now = timespec()
    clock_gettime(CLOCK_MONOTONIC, &now)
    return Double(now.tv_sec) + Double(now.tv_nsec) / 1e9
}

/// CPU time of this thread: unlike wall time, it does not count time the thread waited for a
/// core (the machine is shared), but it does count memory stalls.
func threadSeconds() -> Double {
    var now = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now)
    return Double(now.tv_sec) + Double(now.tv_nsec) / 1e9
}

#if DEBUG
let buildKind = "debug"
FileHandle.standardError.write(Data("""
    ************************************************************
    *  MatcherBench was built in DEBUG mode: figures are        *
    *  meaningless. Run `make bench` (swift build -c release).  *
    ************************************************************

    """.utf8))
#else
let buildKind = "release"
#endif

let options = Options(Array(CommandLine.arguments.dropFirst()))
// Before any matcher exists: each reads the kernel choice when it creates its batch.
if options.scalarSipHash { setenv(SipHashKernel.scalarVariable, "1", 1) }
let sipHashKernel = SipHashKernel.preferred
let keyBytes: [UInt8] = (0..<16).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 11) }
let key = DigestKey(bytes: keyBytes)!
let now = UInt32(Date().timeIntervalSince1970)

// 1. Build the store from raw strings, as ingest would: canonicalise + digest + write.
let directory = options.directory ?? NSTemporaryDirectory() + "matcherbench-\(getpid())"
try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
let snapshotPath = directory + "/bench.snap"
defer { if options.directory == nil { try? FileManager.default.removeItem(atPath: directory) } }

/// Generates the entries, canonicalises and digests them, and writes the snapshot
/// (BenchSupport's `StoreBuilder`, shared with E2EBench).
func buildStore() -> SnapshotWriter.Summary {
    do {
        return try StoreBuilder.write(entries: options.entries, key: key, to: snapshotPath,
                                      canonicalize: options.canonicalize, progress: progress)
    } catch {
        fail(error.description, status: 1)
    }
}

let buildStart = seconds()
let summary = buildStore()
let buildSeconds = seconds() - buildStart

// 2. Open (O(1), header check only) and answer one lookup.
var firstValue: [UInt8] = []
Workload.value(.domain, 0, into: &firstValue)
let openStart = seconds()
let coldSnapshot: Snapshot
do { coldSnapshot = try Snapshot.open(snapshotPath, key: key) } catch { fail("\(error)", status: 1) }
let openSeconds = seconds() - openStart
let firstResult: MatchResult
do {
    let matcher = options.canonicalize
        ? try Matcher(snapshot: coldSnapshot, key: key)
        : try Matcher(snapshot: coldSnapshot, key: key, batchSize: 1, rawDigests: true)
    firstResult = matcher.match([String(decoding: firstValue, as: UTF8.self)], type: .domain, now: now)[0]
} catch { fail("\(error)", status: 1) }
let firstLookupSeconds = seconds() - openStart

// 3. The snapshot as the timed runs use it: pre-faulted file mapping, or an anonymous copy
//    with transparent huge pages.
let memory: Snapshot.Memory = options.hugePages ? .anonymousCopy(hugePages: true) : .fileMapping(populate: true)
let snapshot: Snapshot
do { snapshot = try Snapshot.open(snapshotPath, key: key, memory: memory) } catch { fail("\(error)", status: 1) }
/// With --delta: a live store over the same snapshot (linked into a store directory) with one
/// upload of `options.delta` new digests, none of them queried, in its delta.
func liveState() -> (LiveStore, LiveState) {
    let storeDirectory = directory + "/store"
    try? FileManager.default.createDirectory(atPath: storeDirectory, withIntermediateDirectories: true)
    guard link(snapshotPath, storeDirectory + "/indicators.snap") == 0 else {
        fail("linking the snapshot into \(storeDirectory) failed: \(String(cString: strerror(errno)))", status: 1)
    }
    do {
        let store = try LiveStore.open(storeDirectory: storeDirectory, keyID: key.id, memory: memory)
        var random = SystemRandomNumberGenerator()
        let reports = (0..<options.delta).map { _ in
            DigestReport(IndicatorDigest(lo: random.next() | 1, hi: random.next()), EntryMetadata(category: .botnet))
        }
        _ = try store.upload(LiveStore.UploadRequest(id: UploadID(low: 1, high: 1), source: 1, reports: reports),
                             time: UInt64(now))
        return (store, store.view())
    } catch { fail("\(error)", status: 1) }
}
let live = options.delta > 0 ? liveState() : nil
/// Our matcher over the snapshot (or the live state) with batches of `batch` values.
func makeMatcher(batch: Int) -> Matcher {
    do {
        let matcher = try Matcher(
            state: live?.1 ?? LiveState(snapshot: snapshot), key: key, batchSize: batch,
            rawDigests: !options.canonicalize, coldStage: options.coldStage)
        matcher.generalStagesOnly = options.generalStages
        return matcher
    } catch { fail("\(error)", status: 1) }
}
/// The batches the timed runs use: the options', or with --best each side's fastest.
var oursBatch = options.batch
var referenceBatch = options.referenceBatch
var matcher = makeMatcher(batch: oursBatch)
var sweep: BatchSweep? = nil

// --compare-scalar: the same matcher with the scalar SipHash kernel (the kernel is chosen when
// a matcher creates its batch, from IHUB_SCALAR_SIPHASH).
var scalarMatcher: Matcher? = nil
if options.compareScalar {
    setenv(SipHashKernel.scalarVariable, "1", 1)
    do {
        scalarMatcher = try Matcher(
            snapshot: snapshot, key: key, batchSize: options.batch, rawDigests: !options.canonicalize,
            coldStage: options.coldStage)
    } catch { fail("\(error)", status: 1) }
    if !options.scalarSipHash { unsetenv(SipHashKernel.scalarVariable) }
}

progress("generating \(options.lookups) queries")
let queries = QuerySet(count: options.lookups, entries: options.entries, hitRate: options.hitRate, seed: 42)

// 4. Ours (into a reused record buffer: the lean API) and 5. the C reference over an
//    anonymous table of the same byte size: each a warm-up, then timed runs. By default one of
//    each in turn, so both see the same load from other processes (the ratio is the median of
//    the pairs' ratios); with --grouped, all of ours, then all of the reference.
let tableBytes = snapshot.byteCount
let lines = UInt64(tableBytes / 64)
guard let table = mmap(nil, tableBytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0), table != MAP_FAILED else {
    fail("mmap of the reference table failed: \(String(cString: strerror(errno)))", status: 1)
}
if options.hugePages { _ = madvise(table, tableBytes, MADV_HUGEPAGE) }
memset(table, 0x5A, tableBytes)

let chunk = options.chunk == 0 ? queries.count : min(options.chunk, queries.count)
let records = UnsafeMutableBufferPointer<MatchRecord>.allocate(capacity: chunk)
records.initialize(repeating: .refused)
/// Matches all values `records.count` at a time into `records`, handing each chunk's records
/// (and its first index) to `check`.
func matchChunks(
    _ matcher: Matcher, _ values: UnsafeBufferPointer<UnsafeBufferPointer<UInt8>>,
    _ types: UnsafeBufferPointer<IndicatorType?>, now: UInt32, into records: UnsafeMutableBufferPointer<MatchRecord>,
    check: (Int, UnsafeMutableBufferPointer<MatchRecord>) -> Void = { _, _ in }
) {
    let chunk = records.count
    var start = 0
    while start < values.count {
        let end = min(start + chunk, values.count)
        let out = UnsafeMutableBufferPointer(rebasing: records[0..<(end - start)])
        matcher.match(UnsafeBufferPointer(rebasing: values[start..<end]), types: UnsafeBufferPointer(rebasing: types[start..<end]),
                      now: now, into: out)
        check(start, out)
        start = end
    }
}
var hits = 0
var refused = 0
/// Wall-clock and thread CPU seconds of one loop's runs (run 0 is the warm-up and not kept).
struct Timings {
    var wall: [Double] = []
    var cpu: [Double] = []

    mutating func measure(_ name: String, run: Int, lookups: Int, _ body: () -> Void) {
        let start = seconds()
        let cpuStart = threadSeconds()
        body()
        let cpuElapsed = threadSeconds() - cpuStart
        let elapsed = seconds() - start
        if run > 0 {
            wall.append(elapsed)
            cpu.append(cpuElapsed)
        }
        progress("\(name) run \(run): \(Int(Double(lookups) / elapsed)) lookups/s")
    }
}
/// Ours and the reference in turn, one run of each (with --compare-scalar always).
let interleaved = options.interleave || options.compareScalar
var oursTimings = Timings()
var referenceTimings = Timings()
var scalarTimings = Timings()
var referenceSum: UInt64 = 0
let queryTypes: [IndicatorType?] = options.detect ? queries.types.map { _ in nil } : queries.types
keyBytes.withUnsafeBufferPointer { keyBuffer in
    queries.offsets.withUnsafeBufferPointer { offsets in
        queries.bytes.withUnsafeBufferPointer { bytes in
            let values = (0..<queries.count).map { index in
                UnsafeBufferPointer(rebasing: bytes[Int(queries.offsets[index])..<Int(queries.offsets[index + 1])])
            }
            values.withUnsafeBufferPointer { values in
                queryTypes.withUnsafeBufferPointer { types in
                    let oursPass = { (matcher: Matcher) in matchChunks(matcher, values, types, now: now, into: records) }
                    let referencePass = { (batch: Int) in
                        referenceSum &+= chub_reference_lookups(
                            table.assumingMemoryBound(to: UInt8.self), lines, bytes.baseAddress, offsets.baseAddress,
                            queries.count, batch, keyBuffer.baseAddress)
                    }
                    let oursRun = { (run: Int) in
                        oursTimings.measure("ours", run: run, lookups: queries.count) { oursPass(matcher) }
                    }
                    let referenceRun = { (run: Int) in
                        referenceTimings.measure("reference", run: run, lookups: queries.count) { referencePass(referenceBatch) }
                    }
                    let scalarRun = { (run: Int) in
                        guard let scalarMatcher else { return }
                        scalarTimings.measure("scalar", run: run, lookups: queries.count) {
                            matchChunks(scalarMatcher, values, types, now: now, into: records)
                        }
                    }
                    if let batches = options.sweep {
                        let matchers = Dictionary(uniqueKeysWithValues: batches.map { ($0, makeMatcher(batch: $0)) })
                        func elapsed(_ body: () -> Void) -> Double {
                            let start = seconds()
                            body()
                            return seconds() - start
                        }
                        let found = BatchSweep(
                            batches: batches, rounds: 3, lookups: queries.count,
                            ours: { batch in elapsed { oursPass(matchers[batch]!) } },
                            reference: { batch in elapsed { referencePass(batch) } })
                        (oursBatch, referenceBatch) = (found.oursBest, found.referenceBest)
                        matcher = matchers[oursBatch]!
                        sweep = found
                        progress("sweep: ours fastest at \(oursBatch), the reference at \(referenceBatch)")
                    }
                    if interleaved {
                        for run in 0...options.runs { scalarRun(run); oursRun(run); referenceRun(run) }
                    } else {
                        for run in 0...options.runs { oursRun(run) }
                        for run in 0...options.runs { referenceRun(run) }
                    }
                    // Every answer checked once more, untimed, chunk by chunk.
                    matchChunks(matcher, values, types, now: now, into: records) { first, chunkRecords in
                        for (offset, record) in chunkRecords.enumerated() {
                            let index = first + offset
                            switch record.status {
                            case .hit: hits += 1
                            case .refused:
                                refused += 1
                                if refused == 1, let error = Matcher.refusal(of: values[index], as: queryTypes[index]) {
                                    fail("a query was refused: \(error)", status: 1)
                                }
                            case .miss: break
                            }
                            if record.status != .refused, record.type != queries.types[index] {
                                fail("query \(index) was detected as \(record.type), not \(queries.types[index]!)", status: 1)
                            }
                        }
                    }
                }
            }
        }
    }
}
records.deallocate()
let hugePagesKiB = anonHugePagesKiB()
munmap(table, tableBytes)

/// Kilobytes of anonymous memory in huge pages (diagnostic for --huge-pages).
func anonHugePagesKiB() -> Int {
    guard let text = try? String(contentsOfFile: "/proc/self/smaps_rollup", encoding: .utf8) else { return -1 }
    for line in text.split(separator: "\n") where line.hasPrefix("AnonHugePages:") {
        return Int(line.split(separator: " ", omittingEmptySubsequences: true)[1]) ?? -1
    }
    return -1
}

/// Cache lines and pages per lookup (`Snapshot.cacheLines`), averaged over the first 200,000
/// queries: bucket lines scanned, cold-record lines read, distinct 4 KiB pages touched.
@MainActor func linesPerLookup() -> (hot: Double, cold: Double, pages: Double) {
    var hot = 0
    var cold = 0
    var pages = 0
    let sample = min(queries.count, 200_000)
    var sampled = 0
    try? Canonicalizer.withScratch { (out: inout ByteWriter) throws(IndicatorError) in
        for index in 0..<sample {
            let value = queries.bytes[Int(queries.offsets[index])..<Int(queries.offsets[index + 1])]
            guard let type = queries.types[index] else { continue }
            let digest: IndicatorDigest
            if options.canonicalize {
                out.truncate(to: 0)
                guard let form = try? value.withUnsafeBufferPointer({ (raw) throws(IndicatorError) in
                    try Canonicalizer.canonicalize(raw, as: type, into: &out)
                }) else { continue }
                digest = key.digest(form, canonical: out.written)
            } else {
                digest = value.withUnsafeBufferPointer { key.digest(type, body: $0) }
            }
            let lines = snapshot.cacheLines(for: digest)
            hot += lines.hot
            cold += lines.cold
            pages += lines.pages
            sampled += 1
        }
    }
    let samples = Double(max(sampled, 1))
    return (Double(hot) / samples, Double(cold) / samples, Double(pages) / samples)
}
let lineCounts = linesPerLookup()

// 6. Report.
let ours = Double(queries.count) / median(oursTimings.wall)
let pairRatios = interleaved ? zip(oursTimings.wall, referenceTimings.wall).map { $1 / $0 }.sorted() : []
let pairRatio: Double? = pairRatios.isEmpty ? nil : median(pairRatios)
let reference = Double(queries.count) / median(referenceTimings.wall)
let oursCPU = Double(queries.count) / median(oursTimings.cpu)
let referenceCPU = Double(queries.count) / median(referenceTimings.cpu)
// The fastest run of each: on a shared machine, the run least disturbed by other processes.
let oursBestCPU = Double(queries.count) / oursTimings.cpu.min()!
let referenceBestCPU = Double(queries.count) / referenceTimings.cpu.min()!
func json(_ value: Double, _ places: Int = 3) -> String { String(format: "%.\(places)f", value) }
let firstOK: Bool = if case .hit = firstResult { true } else { false }
let fields: [(String, String)] = [
    ("name", "\"matcher\""),
    ("entries", "\(summary.entries)"),
    ("duplicates", "\(summary.duplicates)"),
    ("batch", "\(oursBatch)"),
    ("reference_batch", "\(referenceBatch)"),
    ("best_against_best", "\(sweep != nil)"),
    ("sweep", sweep?.json ?? "null"),
    ("chunk", "\(chunk)"),
    ("lookups", "\(queries.count)"),
    ("runs", "\(options.runs)"),
    ("lookups_per_second", json(ours, 0)),
    ("reference_lookups_per_second", json(reference, 0)),
    // Interleaved: the median over pairs (our run i, the reference's run i) of their ratio, so
    // a slow spell of the machine hits both sides of a pair; grouped: ratio of the medians.
    ("ratio", json(pairRatio ?? ours / reference)),
    ("ratio_of_medians", json(ours / reference)),
    ("pair_ratio_min", pairRatios.first.map { json($0) } ?? "null"),
    ("pair_ratio_max", pairRatios.last.map { json($0) } ?? "null"),
    ("cpu_lookups_per_second", json(oursCPU, 0)),
    ("cpu_reference_lookups_per_second", json(referenceCPU, 0)),
    ("cpu_ratio", json(oursCPU / referenceCPU)),
    ("best_cpu_lookups_per_second", json(oursBestCPU, 0)),
    ("best_cpu_reference_lookups_per_second", json(referenceBestCPU, 0)),
    ("best_cpu_ratio", json(oursBestCPU / referenceBestCPU)),
    ("interleave", "\(interleaved)"),
    ("siphash", "\"\(sipHashKernel.rawValue)\""),
    ("scalar_lookups_per_second", scalarTimings.wall.isEmpty ? "null" : json(Double(queries.count) / median(scalarTimings.wall), 0)),
    ("scalar_ratio", scalarTimings.wall.isEmpty ? "null" : json(Double(queries.count) / median(scalarTimings.wall) / reference)),
    ("scalar_cpu_ratio", scalarTimings.wall.isEmpty ? "null" : json(Double(queries.count) / median(scalarTimings.cpu) / referenceCPU)),
    ("scalar_best_cpu_ratio",
     scalarTimings.wall.isEmpty ? "null" : json(Double(queries.count) / scalarTimings.cpu.min()! / referenceBestCPU)),
    ("hit_rate", json(Double(hits) / Double(queries.count))),
    ("expected_hit_rate", json(Double(queries.expectedHits) / Double(queries.count))),
    ("bytes_per_entry", json(Double(snapshot.byteCount) / Double(max(summary.entries, 1)))),
    ("table_bytes", "\(snapshot.byteCount)"),
    ("max_spill", "\(snapshot.header.maxSpill)"),
    ("hot_lines_per_lookup", json(lineCounts.hot, 4)),
    ("cold_lines_per_lookup", json(lineCounts.cold, 4)),
    ("lines_per_lookup", json(lineCounts.hot + lineCounts.cold, 4)),
    ("pages_per_lookup", json(lineCounts.pages, 4)),
    ("open_seconds", json(openSeconds, 6)),
    ("first_lookup_seconds", json(firstLookupSeconds, 6)),
    ("first_lookup_hit", "\(firstOK)"),
    ("build_seconds", json(buildSeconds, 1)),
    ("canonicalize", "\(options.canonicalize)"),
    ("detect", "\(options.detect)"),
    ("cold_stage", "\(options.coldStage)"),
    ("stages", matcher.usesLeanStages ? "\"lean\"" : "\"general\""),
    ("delta_entries", "\(options.delta)"),
    ("huge_pages", "\(options.hugePages)"),
    ("memory", options.hugePages ? "\"anonymous-copy+madv-hugepage\"" : "\"file-mapping\""),
    ("anon_huge_pages_kib", "\(hugePagesKiB)"),
    ("reference_checksum", "\(referenceSum)"),
    ("build", "\"\(buildKind)\""),
]
print("{" + fields.map { "\"\($0.0)\":\($0.1)" }.joined(separator: ",") + "}")
