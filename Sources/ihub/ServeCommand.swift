import HubAudit
import HubServer

/// `ihub serve --data DIR --policies DIR --listen HOST:PORT [--loops N] [--audit-sync MODE]
/// [--log-queries] [--compact-after N] [--memory map|huge-pages] [--metrics-file PATH
/// [--metrics-interval SECONDS]]`: serves partners over mutual TLS until SIGTERM/SIGINT (the metrics
/// file is written every interval and once more at the stop); SIGHUP reloads policies and
/// revocations; SIGUSR1 compacts the live store now.
enum ServeCommand {
    static let usage = "ihub serve --data DIR --policies DIR --listen HOST:PORT [--loops N] "
        + "[--audit-sync interval[:MS]|group] [--log-queries] [--compact-after N] [--memory map|huge-pages] "
        + "[--metrics-file PATH [--metrics-interval SECONDS]]"

    static func run(_ arguments: [String]) throws(UsageError) -> ExitStatus {
        let configuration = try configuration(arguments)
        let signals: SignalWatcher
        do {
            signals = try SignalWatcher()  // before any thread starts
        } catch {
            throw UsageError(error.description)
        }
        let server: HubServer
        do {
            server = try HubServer(configuration)
            let bound = try server.start()
            Console.err("listening on \(configuration.host):\(bound)")
        } catch {
            throw UsageError("\(error)")
        }
        while true {
            switch signals.next() {
            case .reload: try? server.reload()
            case .compact: server.compactNow()
            case .stop:
                server.stop()
                return .success
            }
        }
    }

    /// The server configuration `arguments` ask for, or the usage error: parsing only, nothing
    /// opened or started (tests run the sample systemd unit's `ExecStart` through it).
    static func configuration(_ arguments: [String]) throws(UsageError) -> HubServer.Configuration {
        let args = try Arguments(arguments, valued: ["data", "policies", "listen", "loops", "audit-sync", "compact-after",
                                                     "memory", "metrics-file", "metrics-interval"],
                                 booleans: ["log-queries"])
        let listen = try args.required("listen")
        guard let colon = listen.lastIndex(of: ":"), let port = UInt16(listen[listen.index(after: colon)...]) else {
            throw UsageError("--listen: '\(listen)' is not HOST:PORT (usage: \(usage))")
        }
        let host = String(listen[..<colon])
        var loops: Int?
        if let text = args.value("loops") {
            guard let count = Int(text), (1...1024).contains(count) else { throw UsageError("--loops: '\(text)' is not 1–1024") }
            loops = count
        }
        var auditSync = AuditLog.SyncMode.standard
        if let text = args.value("audit-sync") {
            guard let mode = AuditLog.SyncMode(text) else {
                throw UsageError("--audit-sync: '\(text)' is not interval, interval:MS (1–60000) or group")
            }
            auditSync = mode
        }
        var compactAfter = 1_000_000
        if let text = args.value("compact-after") {
            guard let count = Int(text), (1...100_000_000).contains(count) else {
                throw UsageError("--compact-after: '\(text)' is not a number of delta entries 1–100000000")
            }
            compactAfter = count
        }
        var memory = StoreMemory.map
        if let text = args.value("memory") {
            guard let mode = StoreMemory(rawValue: text) else {
                throw UsageError("--memory: '\(text)' is not one of \(StoreMemory.names)")
            }
            memory = mode
        }
        let metricsFile = args.value("metrics-file")
        var metricsInterval = 5
        if let text = args.value("metrics-interval") {
            guard let seconds = Int(text), (1...3600).contains(seconds) else {
                throw UsageError("--metrics-interval: '\(text)' is not a number of seconds 1–3600")
            }
            guard metricsFile != nil else { throw UsageError("--metrics-interval: needs --metrics-file PATH") }
            metricsInterval = seconds
        }
        return HubServer.Configuration(dataDirectory: try args.required("data"),
                                       policiesDirectory: try args.required("policies"),
                                       host: host, port: port, loops: loops,
                                       auditSync: auditSync, logQueries: args.flag("log-queries"),
                                       compactAfter: compactAfter, metricsFile: metricsFile,
                                       metricsInterval: Double(metricsInterval), memory: memory)
    }
}
