import BenchSupport
import Foundation
import Glibc
import HubTLS
import IndicatorKit
import IndicatorStore

/// The benchmark's steps: set up the hub's data directory and Redis, start both servers, run
/// the same loads against each, measure idle latency, report.
enum Bench {
    static let partner = "bench"
    static let redisKey = "indicators"
    nonisolated(unsafe) static var servers: [Child] = []

    /// Stops every server this run started (always called, also after a failure).
    static func stopServers() {
        for server in servers.reversed() { server.stop() }
        servers = []
    }

    static func run(_ options: Options, root: String) throws(BenchFailure) -> String {
        guard let redisPath = executable(options.redisServer) else {
            throw BenchFailure("\(options.redisServer) not found (Debian: apt-get install redis-server; `make bench-e2e` does it)")
        }
        guard access(options.ihub, X_OK) == 0 else {
            throw BenchFailure("\(options.ihub) not found (build it: swift build -c release --product ihub, or pass --ihub)")
        }
        let data = root + "/data"
        let identity = root + "/bench-identity"
        let policies = root + "/policies"

        // 1. The hub's data directory: keys and CA (`ihub init`), the partner's certificate
        //    (`ihub partner add`), a permissive policy, and the store.
        progress("setting up \(root)")
        try runTool(options.ihub, ["init", data, "--hostname", "localhost"])
        try runTool(options.ihub, ["partner", "add", partner, "--role", "isp", "--data", data, "--out", identity])
        try writePolicy(directory: policies, maxBatch: max(options.batch, 1))
        let key: DigestKey
        let snapshotPath: String
        do {
            let directory = try DataDirectory.open(at: data)
            key = try directory.loadKey()
            snapshotPath = directory.snapshotPath
        } catch {
            throw BenchFailure("\(data): \(error)")
        }
        let buildStart = monotonicNow()
        let summary: SnapshotWriter.Summary
        do { summary = try StoreBuilder.write(entries: options.entries, key: key, to: snapshotPath, progress: progress) } catch {
            throw BenchFailure(error.description)
        }
        progress("store: \(summary.entries) entries in \(String(format: "%.1f", monotonicNow() - buildStart)) s")

        // 2. The hub, as `ihub serve` would run in production: its own process.
        var serveArguments = ["serve", "--data", data, "--policies", policies, "--listen", "127.0.0.1:0"]
        if let loops = options.loops { serveArguments += ["--loops", String(loops)] }
        if let auditSync = options.auditSync { serveArguments += ["--audit-sync", auditSync] }
        if options.logQueries { serveArguments.append("--log-queries") }
        let hubServer = try Child(name: "ihub serve", executable: options.ihub, arguments: serveArguments,
                                  logPath: root + "/ihub-serve.log")
        servers.append(hubServer)
        let hubPortText = try hubServer.waitForLine(startingWith: "listening on 127.0.0.1:", seconds: 30)
        guard let hubPort = UInt16(hubPortText) else { throw BenchFailure("ihub serve printed port '\(hubPortText)'") }
        let hubLoops = options.loops ?? ProcessInfo.processInfo.activeProcessorCount

        // 3. Redis on a free loopback port, no persistence, loaded with the same values.
        let redisPort = try freeLoopbackPort()
        let redisServer = try Child(name: "redis-server", executable: redisPath, arguments: [
            "--port", String(redisPort), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
            "--daemonize", "no", "--dir", root, "--logfile", "",
        ], logPath: root + "/redis.log")
        servers.append(redisServer)
        let control = try connectRedis(port: redisPort, within: 10)
        defer { control.close() }
        let redisVersion = try redisInfo(control, field: "redis_version")
        let loadStart = monotonicNow()
        try loadRedis(control, entries: options.entries)
        progress("redis: \(options.entries) members in \(String(format: "%.1f", monotonicNow() - loadStart)) s")
        let redisMemory = Int(try redisInfo(control, field: "used_memory")) ?? 0

        // 4. The queries: a pool of values, half listed, in random order, typed (ipv4/domain).
        let queries = QuerySet(count: options.pool, entries: options.entries, seed: 42)
        let fields = RequestFields(purpose: "network-protection", legalBasis: "nis2-art-21", reference: "bench run",
                                   priority: .routine, timeZone: "UTC")
        let context: TLSClientContext
        do { context = try TLSClientContext(identityDirectory: identity) } catch {
            throw BenchFailure("\(identity): \(error)")
        }

        func hubLoad(batch: Int) throws(BenchFailure) -> LoadFigures {
            let pool = try HubRequestPool(queries, batch: batch, fields: fields)
            var connections: [any PipelinedConnection] = []
            defer { for connection in connections { connection.close() } }
            for index in 0..<options.connections {
                connections.append(try HubConnection(port: hubPort, context: context, pool: pool,
                                                     start: index * pool.count / options.connections))
            }
            progress("hub: \(options.connections) connections, B = \(batch), depth \(options.depth)")
            return try runLoad(connections, depth: options.depth, warmup: options.warmup, duration: options.seconds,
                               server: hubServer)
        }
        func redisLoad(batch: Int) throws(BenchFailure) -> LoadFigures {
            let pool = RedisRequestPool(queries, batch: batch, key: redisKey)
            var connections: [any PipelinedConnection] = []
            defer { for connection in connections { connection.close() } }
            for index in 0..<options.connections {
                connections.append(try RedisConnection(port: redisPort, pool: pool,
                                                       start: index * pool.count / options.connections))
            }
            progress("redis: \(options.connections) connections, B = \(batch), depth \(options.depth)")
            return try runLoad(connections, depth: options.depth, warmup: options.warmup, duration: options.seconds,
                               server: redisServer)
        }

        // 5. The loads, hub then Redis for each batch size (both servers up, one loaded at a time).
        let ours = try hubLoad(batch: options.batch)
        let theirs = try redisLoad(batch: options.batch)
        var single: (LoadFigures, LoadFigures)?
        if options.singleValueRun && options.batch != 1 {
            single = (try hubLoad(batch: 1), try redisLoad(batch: 1))
        }

        // 6. Idle latency: one connection, one single-value request at a time.
        progress("idle latency: \(options.idleRequests) single-value requests, one at a time")
        let idlePool = try HubRequestPool(queries, batch: 1, fields: fields)
        let idleHub = try HubConnection(port: hubPort, context: context, pool: idlePool, start: 0)
        let idle = try runIdle(idleHub, count: options.idleRequests, warmup: min(1000, options.idleRequests))
        idleHub.close()
        let idleRedisConnection = try RedisConnection(port: redisPort, pool: RedisRequestPool(queries, batch: 1, key: redisKey))
        let redisIdle = try runIdle(idleRedisConnection, count: options.idleRequests, warmup: min(1000, options.idleRequests))
        idleRedisConnection.close()

        // 7. Clean shutdown of the hub (SIGTERM drains and exits 0) and its audit trail's size.
        let hubStatus = hubServer.stop()
        guard hubStatus == 0 else { throw BenchFailure("ihub serve exited \(hubStatus) on SIGTERM:\n\(hubServer.log)") }
        let auditBytes = directoryBytes(data + "/audit")

        func number(_ value: Double, _ places: Int = 1) -> String { String(format: "%.\(places)f", value) }
        var fieldsOut: [(String, String)] = [
            ("name", "\"e2e\""),
            ("entries", "\(summary.entries)"),
            ("connections", "\(options.connections)"),
            ("batch", "\(options.batch)"),
            ("depth", "\(options.depth)"),
            ("seconds", number(options.seconds)),
            ("hub_loops", "\(hubLoops)"),
            ("checks_per_second", number(ours.checksPerSecond, 0)),
            ("redis_checks_per_second", number(theirs.checksPerSecond, 0)),
            ("ratio", number(ours.checksPerSecond / theirs.checksPerSecond, 3)),
            ("p50_us", number(ours.p50Micros)),
            ("p99_us", number(ours.p99Micros)),
            ("redis_p50_us", number(theirs.p50Micros)),
            ("redis_p99_us", number(theirs.p99Micros)),
            ("hit_rate", number(ours.hitRate, 3)),
            ("redis_hit_rate", number(theirs.hitRate, 3)),
            ("server_cores", number(ours.serverCores, 2)),
            ("redis_server_cores", number(theirs.serverCores, 2)),
            ("cpu_ratio", number((ours.checksPerSecond / max(ours.serverCores, 0.01))
                                 / (theirs.checksPerSecond / max(theirs.serverCores, 0.01)), 3)),
            ("server_us_per_request", number(ours.serverMicrosPerRequest)),
            ("redis_server_us_per_request", number(theirs.serverMicrosPerRequest)),
        ]
        if let (ours1, theirs1) = single {
            fieldsOut += [
                ("b1_checks_per_second", number(ours1.checksPerSecond, 0)),
                ("b1_redis_checks_per_second", number(theirs1.checksPerSecond, 0)),
                ("b1_ratio", number(ours1.checksPerSecond / theirs1.checksPerSecond, 3)),
                ("b1_p50_us", number(ours1.p50Micros)),
                ("b1_p99_us", number(ours1.p99Micros)),
                ("b1_redis_p50_us", number(theirs1.p50Micros)),
                ("b1_redis_p99_us", number(theirs1.p99Micros)),
                ("b1_server_cores", number(ours1.serverCores, 2)),
                ("b1_redis_server_cores", number(theirs1.serverCores, 2)),
                ("b1_server_us_per_request", number(ours1.serverMicrosPerRequest)),
                ("b1_redis_server_us_per_request", number(theirs1.serverMicrosPerRequest)),
            ]
        }
        fieldsOut += [
            ("idle_single_p50_us", number(idle.0)),
            ("idle_single_p99_us", number(idle.1)),
            ("idle_single_p999_us", number(idle.2)),
            ("redis_idle_single_p50_us", number(redisIdle.0)),
            ("redis_idle_single_p99_us", number(redisIdle.1)),
            ("target_ratio_met", "\(ours.checksPerSecond >= 2 * theirs.checksPerSecond)"),
            ("target_idle_p99_met", "\(idle.1 < 1000)"),
            ("store_bytes_per_entry", number(Double(fileSize(snapshotPath)) / Double(max(summary.entries, 1)), 2)),
            ("redis_bytes_per_member", number(Double(redisMemory) / Double(options.entries), 2)),
            ("audit_bytes", "\(auditBytes)"),
            ("audit_sync", "\"\(options.auditSync ?? "default")\""),
            ("redis_version", "\"\(redisVersion)\""),
            ("data_directory_filesystem", "\"\(filesystemType(root))\""),
            ("load_average", "\"\(loadAverage)\""),
            ("build", "\"\(buildKind)\""),
        ]
        return "{" + fieldsOut.map { "\"\($0.0)\":\($0.1)" }.joined(separator: ",") + "}"
    }

    /// The bench partner's policy: every type and category, no reveal, limits far above what
    /// the run can reach (the limiter is measured, it never throttles).
    static func writePolicy(directory: String, maxBatch: Int) throws(BenchFailure) {
        let policy = """
            {
              "partner": "\(partner)",
              "role": "isp",
              "version": 1,
              "comment": "E2EBench: the limiter and audit run, but never throttle.",
              "types": ["ipv4", "ipv6", "domain", "url"],
              "categories": ["unspecified", "phishing", "malware", "c2", "botnet", "fraud", "mule-account",
                             "scam", "spam", "ransomware", "exploit", "scanning", "hijacked"],
              "purposes": ["network-protection"],
              "legal_bases": ["nis2-art-21"],
              "required_fields": ["purpose", "legal_basis", "reference", "time_zone"],
              "reveal": [],
              "max_batch": \(max(maxBatch, 10_000)),
              "rate": { "per_second": 1000000000, "burst": 1000000000 },
              "daily_quota": 1000000000000,
              "tlp_ceiling": "red",
              "priorities": ["routine"]
            }

            """
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            try policy.write(toFile: directory + "/\(partner).json", atomically: true, encoding: .utf8)
        } catch {
            throw BenchFailure("writing the policy: \(error)")
        }
    }

    /// Connects to Redis, retrying until it answers PING.
    static func connectRedis(port: UInt16, within seconds: Double) throws(BenchFailure) -> RedisConnection {
        let deadline = monotonicNow() + seconds
        while true {
            do {
                let connection = try RedisConnection(port: port, pool: nil)
                var ping: [UInt8] = []
                RESP.command(["PING"], into: &ping)
                try connection.send(raw: ping)
                _ = try connection.receive()
                return connection
            } catch {
                if monotonicNow() > deadline { throw error }
                usleep(20_000)
            }
        }
    }

    /// One field of `INFO`.
    static func redisInfo(_ connection: RedisConnection, field: String) throws(BenchFailure) -> String {
        var command: [UInt8] = []
        RESP.command(["INFO"], into: &command)
        try connection.send(raw: command)
        _ = try connection.receive()
        for line in connection.lastBulk.split(whereSeparator: { $0 == "\r\n" || $0 == "\n" })
        where line.hasPrefix(field + ":") {
            return String(line.dropFirst(field.count + 1)).trimmingCharacters(in: .whitespaces)
        }
        throw BenchFailure("Redis INFO has no \(field)")
    }

    /// SADD the store's values in commands of 1,000 members, 64 commands per pipeline; checks
    /// SCARD.
    static func loadRedis(_ connection: RedisConnection, entries: Int) throws(BenchFailure) {
        var command: [UInt8] = []
        var members: [ArraySlice<UInt8>] = []
        var value: [UInt8] = []
        var pending = 0
        let head: [ArraySlice<UInt8>] = [Array("SADD".utf8)[...], Array(redisKey.utf8)[...]]
        for index in 0..<entries {
            value.removeAll(keepingCapacity: true)
            StoreBuilder.value(at: index, entries: entries, into: &value)
            members.append(value[...])
            if members.count == 1000 || index == entries - 1 {
                RESP.command(head + members, into: &command)
                members.removeAll(keepingCapacity: true)
                pending += 1
                if pending == 64 || index == entries - 1 {
                    try connection.send(raw: command)
                    command.removeAll(keepingCapacity: true)
                    while pending > 0 { pending -= try connection.receive().answers }
                }
            }
        }
        var scard: [UInt8] = []
        RESP.command(["SCARD", redisKey], into: &scard)
        try connection.send(raw: scard)
        _ = try connection.receive()
        guard connection.lastInteger == entries else {
            throw BenchFailure("Redis holds \(connection.lastInteger) members after loading \(entries)")
        }
    }

    /// The type of the file system holding `path` (`ext4`, `tmpfs`, …) from /proc/mounts.
    static func filesystemType(_ path: String) -> String {
        guard let mounts = try? String(contentsOfFile: "/proc/mounts", encoding: .utf8) else { return "unknown" }
        var best = ("", "unknown")
        for line in mounts.split(separator: "\n") {
            let parts = line.split(separator: " ")
            guard parts.count > 2 else { continue }
            let point = String(parts[1])
            let inside = path == point || path.hasPrefix(point == "/" ? "/" : point + "/")
            if inside && point.count >= best.0.count { best = (point, String(parts[2])) }
        }
        return best.1
    }

    static func fileSize(_ path: String) -> Int {
        var info = stat()
        return stat(path, &info) == 0 ? Int(info.st_size) : 0
    }

    static func directoryBytes(_ path: String) -> Int {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: path) else { return 0 }
        return names.reduce(0) { $0 + fileSize(path + "/" + $1) }
    }
}
