import CHubSys
import Foundation
import Glibc
public import HubAudit
import HubPolicy
import HubTLS
import IndicatorKit
public import IndicatorStore

/// Why the server could not start: the file or setting at fault and what is wrong with it.
public struct ServerConfigurationError: Error, Equatable, Sendable, CustomStringConvertible {
    public var path: String
    public var reason: String

    public init(path: String, reason: String) {
        self.path = path
        self.reason = reason
    }

    public var description: String { "\(path): \(reason)" }
}

/// The hub's server (`ihub serve`): N event loops, each with its own SO_REUSEPORT listener and
/// `Matcher`, sharing one snapshot, the policies, the TLS context and the audit log.
///
/// `start()` opens everything and starts the loops; `reload()` swaps the policies and the TLS
/// context (revocations) for new connections and batches, all or nothing; `stop(grace:)` stops
/// accepting, lets requests in flight finish, closes every connection and the audit log.
public final class HubServer: @unchecked Sendable {
    public struct Configuration: Sendable {
        public var dataDirectory: String
        public var policiesDirectory: String
        public var host: String
        public var port: UInt16
        public var loops: Int
        public var limits: SessionLimits
        /// When an audit record counts as written (docs/AUDIT-LOG.md, "Writing"); `--audit-sync`.
        public var auditSync: AuditLog.SyncMode
        /// Whether every request gets an `event=query` log line (`--log-queries`; off by
        /// default: the audit trail already records every request).
        public var logQueries: Bool
        /// The background compaction starts when the delta written since the last one holds
        /// more entries than this (`--compact-after`; docs/LIVE-UPDATES.md, "Compaction").
        public var compactAfter: Int
        /// The Prometheus text file written every `metricsInterval` seconds and at a clean stop
        /// (`--metrics-file`; docs/OPERATIONS.md, "Metrics"); nil: no metrics file.
        public var metricsFile: String?
        /// Seconds between metrics writes (`--metrics-interval`, 1–3600 on the command line).
        public var metricsInterval: Double
        /// How the snapshot is held in memory (`--memory map|huge-pages`; default `map`).
        public var memory: StoreMemory

        public init(dataDirectory: String, policiesDirectory: String, host: String, port: UInt16,
                    loops: Int? = nil, limits: SessionLimits = SessionLimits(),
                    auditSync: AuditLog.SyncMode = .standard, logQueries: Bool = false,
                    compactAfter: Int = 1_000_000, metricsFile: String? = nil, metricsInterval: Double = 5,
                    memory: StoreMemory = .map) {
            self.compactAfter = max(1, compactAfter)
            self.metricsFile = metricsFile
            self.metricsInterval = max(0.001, metricsInterval)
            self.memory = memory
            self.dataDirectory = dataDirectory
            self.policiesDirectory = policiesDirectory
            self.host = host
            self.port = port
            self.loops = max(1, loops ?? ProcessInfo.processInfo.activeProcessorCount)
            self.limits = limits
            self.auditSync = auditSync
            self.logQueries = logQueries
        }
    }

    public let configuration: Configuration
    public let log: ServerLog
    public let shared: ServerShared
    /// The snapshot the live store answers from now (nil until the first compaction of an
    /// empty store).
    public var snapshot: Snapshot? { live.view().snapshot }
    /// The live store over the data directory's `store/` (uploads, withdrawals; docs/LIVE-UPDATES.md).
    public let live: LiveStore
    private let key: DigestKey
    private let pki: HubPKI

    private var loops: [EventLoop] = []
    private var acceptors: [Acceptor?] = []
    private var sessions: [[ObjectIdentifier: PartnerSession]] = []
    private let stopped = DispatchGroup()
    private let reloadLock = NSLockless()
    /// `EventLoop.wakeups` summed over the loops (for tests and metrics).
    public var loopWakeups: Int { loopsForMetrics.reduce(0) { $0 + $1.wakeups } }
    private var loopsForMetrics: [EventLoop] = []
    /// Whether `stop()` has run.
    private var closed = false
    /// The `--metrics-file` writer, from `start()` to `stop()`.
    var metricsWriter: MetricsWriter?
    /// The port actually bound (differs from the configuration's when it asked for 0).
    public private(set) var port: UInt16 = 0

    /// Opens the data directory (refusing unsafe permissions: `checkPermissions`), the snapshot
    /// (header check; held as `configuration.memory` says), the policies, the PKI and the audit
    /// log. Throws a `ServerConfigurationError` naming the file at fault.
    public init(_ configuration: Configuration, log: ServerLog = ServerLog()) throws(ServerConfigurationError) {
        self.configuration = configuration
        self.log = log
        // First: a metrics file that cannot be written is a configuration error now, not a
        // silent gap in the graphs later.
        if let path = configuration.metricsFile { try MetricsWriter.check(path) }
        let data: DataDirectory
        do {
            data = try DataDirectory.open(at: configuration.dataDirectory)
        } catch {
            throw ServerConfigurationError(path: configuration.dataDirectory, reason: error.description)
        }
        try Self.checkPermissions(data, log: log)
        do {
            key = try data.loadKey()
        } catch {
            throw ServerConfigurationError(path: configuration.dataDirectory, reason: error.description)
        }
        let opening = Monotonic.now()
        do {
            live = try LiveStore.open(data: data, keyID: key.id, verification: .header,
                                      memory: configuration.memory.snapshotMemory)
        } catch {
            throw ServerConfigurationError(path: data.storeDirectory, reason: error.description)
        }
        let opened = live.view().snapshot
        var memoryFields = [("memory", configuration.memory.rawValue), ("entries", String(opened?.entryCount ?? 0)),
                            ("bytes", String(opened?.byteCount ?? 0)),
                            ("open_ms", String(Int(((Monotonic.now() - opening) * 1000).rounded())))]
        if configuration.memory == .hugePages {
            memoryFields.append(("anon_huge_pages_kib", Self.anonHugePagesKiB().map(String.init) ?? "unknown"))
        }
        log.info("store_opened", memoryFields)
        if let torn = live.recoveredTornTail {
            log.warn("journal_torn_tail", [("path", torn.path), ("offset", String(torn.offset)), ("bytes", String(torn.bytes))])
        }
        let policies: PolicySet
        do {
            policies = try PolicySet.load(directory: configuration.policiesDirectory)
        } catch {
            live.close()
            throw ServerConfigurationError(path: configuration.policiesDirectory, reason: error.description)
        }
        let tls: TLSServerContext
        do {
            pki = try HubPKI.open(dataDirectory: configuration.dataDirectory)
            tls = try pki.serverContext()
        } catch {
            live.close()
            throw ServerConfigurationError(path: configuration.dataDirectory + "/tls", reason: error.description)
        }
        let audit: AuditLog
        do {
            audit = try AuditLog(directory: configuration.dataDirectory + "/audit", sync: configuration.auditSync)
        } catch {
            live.close()
            throw ServerConfigurationError(path: configuration.dataDirectory + "/audit", reason: error.description)
        }
        let feeds = FeedService(live: live, key: key, data: data)
        shared = ServerShared(policies: policies, tls: tls, audit: audit, log: log, limits: configuration.limits,
                              logQueries: configuration.logQueries, feeds: feeds,
                              metrics: ServerMetrics(shards: configuration.loops))
        registerSources(policies)
        logExpiringCertificates()
        log.info("audit_opened", [("directory", audit.directory), ("sync", audit.syncMode.description),
                                  ("next_seq", String(audit.lastSeq + 1)),
                                  ("log_queries", configuration.logQueries ? "yes" : "no")])
    }

    /// Starts the loops and their listeners; returns the bound port. Block the signals the
    /// process handles (`SignalWatcher`) before calling this, so the loop threads inherit the mask.
    @discardableResult
    public func start() throws(ServerConfigurationError) -> UInt16 {
        let count = configuration.loops
        do {
            loops = try (0..<count).map { _ throws(NetError) in try EventLoop() }
        } catch {
            throw ServerConfigurationError(path: "--loops", reason: error.description)
        }
        loopsForMetrics = loops
        acceptors = Array(repeating: nil, count: count)
        sessions = Array(repeating: [:], count: count)
        for loop in loops {
            stopped.enter()
            let thread = Thread { [stopped] in
                loop.run()
                stopped.leave()
            }
            thread.name = "hub-loop"
            thread.start()
        }
        var wanted = configuration.port
        for index in 0..<count {
            let outcome = onLoop(index) { () -> Result<UInt16, ServerConfigurationError> in
                do {
                    let matcher = try Matcher(state: self.live.view(), key: self.key)
                    let service = QueryService(matcher: matcher, limits: self.shared.partnerLimits, live: self.live)
                    let loop = self.loops[index]
                    let log = self.log
                    let acceptor = try Acceptor(host: self.configuration.host, port: wanted, loop: loop, report: { event in
                        switch event {
                        case .paused(let error, let seconds):
                            log.warn("accept_paused", [("reason", error.description),
                                                       ("retry_ms", String(Int((seconds * 1000).rounded())))])
                        case .resumed(let failures):
                            log.info("accept_resumed", [("failures", String(failures))])
                        }
                    }) { [unowned self] fd in
                        self.accept(fd, loop: index, service: service)
                    }
                    self.acceptors[index] = acceptor
                    return .success(acceptor.port)
                } catch let error as NetError {
                    return .failure(ServerConfigurationError(path: "--listen", reason: error.description))
                } catch {
                    return .failure(ServerConfigurationError(path: self.configuration.dataDirectory, reason: "\(error)"))
                }
            }
            switch outcome {
            case .success(let bound): wanted = bound
            case .failure(let error):
                stopLoops()
                throw error
            }
        }
        port = wanted
        log.info("listening", [("host", configuration.host), ("port", String(port)), ("loops", String(count)),
                               ("entries", String(snapshot?.entryCount ?? 0)), ("delta", String(live.view().deltaCount)),
                               ("partners", String(shared.policies.policies.count))])
        verifySnapshotInBackground()
        startCompactor()
        startMetricsWriter()
        return port
    }

    private func accept(_ fd: Int32, loop index: Int, service: QueryService) {
        do {
            let session = try PartnerSession(fd: fd, loop: loops[index], shared: shared, service: service,
                                             metrics: shared.metrics.shard(index)) { [unowned self] closed in
                self.sessions[index][ObjectIdentifier(closed)] = nil
            }
            sessions[index][ObjectIdentifier(session)] = session
        } catch {
            log.warn("accept_failed", [("reason", "\(error)")])
            Sockets.close(fd)
        }
    }

    /// Runs `body` on loop `index` and waits for its result.
    private func onLoop<R>(_ index: Int, _ body: @escaping () -> R) -> R {
        let done = DispatchSemaphore(value: 0)
        nonisolated(unsafe) var result: R?
        nonisolated(unsafe) let task = body
        loops[index].execute {
            result = task()
            done.signal()
        }
        done.wait()
        return result!
    }

    /// Re-reads the policies and the TLS context (revocations). All or nothing: on any error the
    /// set in force stays and the error is logged and thrown. Existing connections keep their
    /// TLS session and their next batch is decided by the new policies — except sessions whose
    /// certificate is now revoked, which get ERROR `revoked` and are closed.
    public func reload() throws(ServerConfigurationError) {
        let outcome = reloadLock.withLock { () -> Result<Void, ServerConfigurationError> in
            Result { () throws(ServerConfigurationError) in try reloadLocked() }
        }
        try outcome.get()
    }

    private func reloadLocked() throws(ServerConfigurationError) {
        let current = shared.policies
        let next: PolicySet
        let tls: TLSServerContext
        do throws(PolicyLoadError) {
            next = try PolicySet.load(directory: configuration.policiesDirectory)
            try current.checkSuccessor(next, directory: configuration.policiesDirectory)
        } catch {
            log.error("reload_failed", [("path", configuration.policiesDirectory), ("reason", error.description)])
            throw ServerConfigurationError(path: configuration.policiesDirectory, reason: error.description)
        }
        do throws(PKIError) {
            tls = try pki.serverContext()
        } catch {
            log.error("reload_failed", [("path", pki.directory), ("reason", error.description)])
            throw ServerConfigurationError(path: pki.directory, reason: error.description)
        }
        shared.replace(policies: next, tls: tls)
        registerSources(next)
        logExpiringCertificates()
        log.info("reloaded", [("partners", String(next.policies.count)), ("revoked", String(tls.revokedCount))])
        closeRevokedSessions(tls)
    }

    /// Warns about the server certificate and the unrevoked partner certificates that expire
    /// within 30 days (docs/PKI.md, "Renewal"), at start and on each reload.
    private func logExpiringCertificates() {
        do throws(PKIError) {
            for certificate in try pki.expiringCertificates() {
                let holder = certificate.partner.map { [("partner", $0), ("certificate", certificate.kind?.rawValue ?? "current")] }
                    ?? [("certificate", "server")]
                log.warn("certificate_expiring", holder + [("serial", String(certificate.serial)), ("not_after", certificate.notAfter),
                                                           ("days_left", String(certificate.daysLeft))])
            }
        } catch {
            log.warn("certificate_expiry_unknown", [("path", pki.directory), ("reason", error.description)])
        }
    }

    /// Gives every partner whose policy lets it upload a source id now, so that a bad
    /// `sources` file is logged at start (or reload), not found at the first upload.
    private func registerSources(_ policies: PolicySet) {
        let sources = policies.policies.filter { $0.upload != nil }.map(\.partner)
        guard let feeds = shared.feeds, !sources.isEmpty else { return }
        for (partner, failure) in feeds.register(sources) {
            log.error("source_registration_failed", [("partner", partner), ("reason", "\(failure)")])
        }
    }

    /// Ends every established session whose certificate `tls` lists as revoked (ERROR
    /// `revoked`): a revocation is for a leaked key too, so it cannot wait for a reconnect.
    private func closeRevokedSessions(_ tls: TLSServerContext) {
        guard tls.revokedCount > 0 else { return }
        for index in loops.indices {
            onLoop(index) {
                for session in self.sessions[index].values {
                    if let peer = session.verifiedPeer, let revocation = tls.revocation(of: peer) {
                        session.revoke(revocation)
                    }
                }
            }
        }
    }

    /// Stops accepting, lets requests in flight finish (at most `grace` seconds), closes every
    /// connection (ERROR `shutting_down`), stops the loops and closes the audit log and the
    /// store. A server that was never started (or whose `start()` failed) closes what `init`
    /// opened. Later calls do nothing.
    public func stop(grace: Double = 10) {
        guard !closed else { return }
        closed = true
        guard !loops.isEmpty else {
            shared.feeds?.close()
            shared.audit.close()
            return
        }
        log.info("stopping", [("sessions", String(shared.activity.sessions)), ("in_flight", String(shared.activity.inFlight))])
        for index in loops.indices {
            onLoop(index) {
                self.acceptors[index]?.close(self.loops[index])
                self.acceptors[index] = nil
                for session in self.sessions[index].values { session.beginShutdown() }
            }
        }
        let deadline = Monotonic.now() + grace
        while shared.activity.sessions > 0 && Monotonic.now() < deadline { usleep(10_000) }
        for index in loops.indices {
            onLoop(index) {
                for session in self.sessions[index].values { session.close(event: "shutdown_forced") }
            }
        }
        stopLoops()
        stopMetricsWriter()
        shared.feeds?.close()
        shared.audit.close()
        log.info("stopped", [])
    }

    /// Compacts now in the background (`SIGUSR1`); the outcome is logged.
    public func compactNow() {
        log.info("compaction_requested", [])
        live.requestCompaction()
    }

    /// The background compactor: over `compactAfter` delta entries or on `compactNow()`.
    private func startCompactor() {
        let log = self.log
        let metrics = shared.metrics
        live.startCompactor(deltaEntries: configuration.compactAfter,
                            now: { UInt32(clamping: RequestClock.now().wallMicros / 1_000_000) }) { outcome in
            if case .success = outcome { metrics.noteCompaction(succeeded: true) } else { metrics.noteCompaction(succeeded: false) }
            switch outcome {
            case .success(let summary):
                log.info("compacted", [("sequence", String(summary.sequence)), ("entries", String(summary.entries)),
                                       ("reports", String(summary.reports)), ("dropped", String(summary.dropped))])
            case .failure(let error):
                log.error("compaction_failed", [("reason", error.description)])
            }
        }
    }

    private func stopLoops() {
        for loop in loops { loop.stop() }
        stopped.wait()
        loops = []
    }

    /// Checks the whole snapshot (body checksum and invariants) off the serving path; a failure
    /// is logged loudly (the server keeps serving what the header check accepted).
    private func verifySnapshotInBackground() {
        guard let path = snapshot?.path else { return }
        let keyID = key.id
        let log = self.log
        let thread = Thread {
            do throws(StoreError) {
                _ = try Snapshot.open(path, keyID: keyID, verification: .full)
                log.info("snapshot_verified", [("path", path)])
            } catch {
                log.error("snapshot_corrupt", [("path", path), ("reason", error.description)])
            }
        }
        thread.name = "snapshot-verify"
        thread.start()
    }
}

/// SIGHUP, SIGTERM and SIGINT as a descriptor (`signalfd`): block them first, in the main thread
/// before any other starts, then wait.
public final class SignalWatcher {
    public enum Signal: Sendable { case reload, stop, compact }
    private let fd: Int32

    /// Blocks SIGHUP, SIGTERM, SIGINT and SIGUSR1 for this thread and the threads it starts later.
    public init() throws(NetError) {
        let signals: [Int32] = [SIGHUP, SIGTERM, SIGINT, SIGUSR1]
        fd = signals.withUnsafeBufferPointer { chub_signalfd($0.baseAddress, Int32($0.count)) }
        guard fd >= 0 else { throw NetError(operation: "signalfd", target: "SIGHUP SIGTERM SIGINT", errno: errno) }
    }

    deinit { Sockets.close(fd) }

    /// Waits for the next signal.
    public func next() -> Signal {
        while true {
            var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            _ = poll(&poller, 1, -1)
            let signal = chub_signalfd_read(fd)
            if signal == SIGHUP { return .reload }
            if signal == SIGUSR1 { return .compact }
            if signal == SIGTERM || signal == SIGINT { return .stop }
        }
    }
}
