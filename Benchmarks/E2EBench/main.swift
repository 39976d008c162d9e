// E2EBench: the hub end to end — `ihub serve` as a child process on loopback, partners over
// mutual TLS 1.3, pipelined QUERY batches — against Redis (`redis-server`, also a child
// process) answering `SMISMEMBER` over the same values in one set, with the same number of
// connections, batch size and pipeline depth, in one run. Prints one JSON object on stdout;
// progress on stderr only when stderr is a terminal. See docs/BENCHMARKS.md.
import BenchSupport
import Foundation
import Glibc
import HubTLS
import IndicatorKit
import IndicatorStore

struct Options {
    var entries = 1_000_000
    var connections = 8
    var batch = 64
    var singleValueRun = true
    var depth = 16
    var seconds = 5.0
    var warmup = 1.0
    var idleRequests = 20_000
    var pool = 1 << 16
    var loops: Int?
    var ihub: String
    var redisServer = "redis-server"
    var keep = false
    var parent = "/tmp"
    /// `ihub serve --audit-sync` (nil: the server's default, `interval:10`).
    var auditSync: String?
    var logQueries = false

    static let usage = """
        usage: E2EBench [--entries N] [--connections C] [--batch B] [--no-single] [--depth D]
                        [--seconds S] [--warmup S] [--idle-requests N] [--loops N]
                        [--ihub PATH] [--redis-server PATH] [--tmp DIR] [--keep]
                        [--audit-sync interval[:MS]|group] [--log-queries]
          --entries N        indicators in the store and in the Redis set, half IPv4, half domains (1000000)
          --connections C    client connections, one thread each, to each server (8)
          --batch B          values per QUERY / per SMISMEMBER (64)
          --no-single        skip the second pair of runs with B = 1
          --depth D          requests in flight per connection (16)
          --seconds S        measured seconds per run, after --warmup S (5, 1)
          --idle-requests N  single-value requests, one at a time, for the idle latency (20000)
          --loops N          the hub's event loops (`ihub serve --loops`; default: one per core)
          --ihub PATH        the ihub binary (default: next to this program)
          --redis-server P   the Redis server binary (default: redis-server on PATH)
          --tmp DIR          where the temporary directory goes (/tmp); the hub's audit log is
                             written there (and, with --audit-sync group, fdatasync'ed before each answer)
          --audit-sync MODE  passed to `ihub serve --audit-sync` (default: the server's, interval:10)
          --log-queries      passed to `ihub serve` (one log line per request)
          --keep             keep the temporary directory (data, policies, server logs)
        """

    init(_ arguments: [String]) {
        let own = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().path
        ihub = own + "/ihub"
        var iterator = arguments.makeIterator()
        func number(_ name: String) -> Int {
            guard let text = iterator.next(), let value = Int(text.replacingOccurrences(of: "_", with: "")), value > 0 else {
                usageFailure("\(name) needs a positive number")
            }
            return value
        }
        func text(_ name: String) -> String {
            guard let value = iterator.next() else { usageFailure("\(name) needs a value") }
            return value
        }
        while let argument = iterator.next() {
            switch argument {
            case "--entries": entries = number(argument)
            case "--connections": connections = min(number(argument), 1024)
            case "--batch": batch = min(number(argument), 10_000)
            case "--no-single": singleValueRun = false
            case "--depth": depth = min(number(argument), 128)
            case "--seconds": seconds = Double(number(argument))
            case "--warmup": warmup = Double(number(argument))
            case "--idle-requests": idleRequests = number(argument)
            case "--loops": loops = number(argument)
            case "--ihub": ihub = text(argument)
            case "--redis-server": redisServer = text(argument)
            case "--keep": keep = true
            case "--tmp": parent = text(argument)
            case "--audit-sync": auditSync = text(argument)
            case "--log-queries": logQueries = true
            case "--help", "-h":
                print(Self.usage)
                exit(0)
            default: usageFailure("unknown option \(argument)")
            }
        }
        if entries < 2 { usageFailure("--entries must be at least 2") }
        pool = max(pool, batch * connections * 4)
    }
}

func usageFailure(_ message: String) -> Never {
    FileHandle.standardError.write(Data("E2EBench: \(message)\n\(Options.usage)\n".utf8))
    exit(2)
}

let interactive = isatty(2) == 1
func progress(_ message: String) {
    if interactive { FileHandle.standardError.write(Data("\(message)\n".utf8)) }
}

#if DEBUG
let buildKind = "debug"
FileHandle.standardError.write(Data("""
    ************************************************************
    *  E2EBench was built in DEBUG mode: figures are            *
    *  meaningless. Run `make bench-e2e` (swift build -c release)*
    ************************************************************

    """.utf8))
#else
let buildKind = "release"
#endif

/// The file on PATH named `name` (or `name` itself when it holds a slash).
func executable(_ name: String) -> String? {
    if name.contains("/") { return access(name, X_OK) == 0 ? name : nil }
    for directory in (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":") {
        let path = "\(directory)/\(name)"
        if access(path, X_OK) == 0 { return path }
    }
    return nil
}

let options = Options(Array(CommandLine.arguments.dropFirst()))
Children.installSignalHandlers()
let loadAverage = ((try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8)) ?? "")
    .split(separator: " ").prefix(3).joined(separator: " ")

var template = Array("\(options.parent)/e2ebench-XXXXXX".utf8CString)
guard let made = template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) else {
    usageFailure("mkdtemp: \(String(cString: strerror(errno)))")
}
let root = String(cString: made)

let status: Int32
do {
    let report = try Bench.run(options, root: root)
    print(report)
    status = 0
} catch {
    FileHandle.standardError.write(Data("E2EBench: \(error.description)\n".utf8))
    status = 1
}
Bench.stopServers()
if options.keep || status != 0 {
    FileHandle.standardError.write(Data("E2EBench: kept \(root) (data, policies, server logs)\n".utf8))
} else {
    try? FileManager.default.removeItem(atPath: root)
}
exit(status)
