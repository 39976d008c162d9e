import Glibc
public import HubAudit
public import HubPolicy
public import HubTLS
import HubWire
import IndicatorKit

/// The limits and timeouts of every partner connection (docs/PROTOCOL.md, "Limits" and
/// "Timeouts"). Tests shorten the timeouts.
public struct SessionLimits: Sendable {
    public var handshakeTimeout = Double(WireFormat.tlsHandshakeTimeout)
    public var helloTimeout = Double(WireFormat.helloTimeout)
    public var frameTimeout = Double(WireFormat.frameTimeout)
    public var idleTimeout = Double(WireFormat.defaultIdleTimeout)
    public var writeStallTimeout = Double(WireFormat.writeStallTimeout)
    /// An open upload without UPLOAD_RECORDS or UPLOAD_COMMIT for this long is refused
    /// (`upload_state`) and discarded.
    public var uploadTimeout = Double(WireFormat.uploadIdleTimeout)
    /// How often a session checks its timeouts.
    public var tick = 1.0
    /// Largest payload accepted after WELCOME (advertised).
    public var maxPayloadBytes = WireFormat.maxPayloadBytes
    /// Requests in flight per connection (advertised); at the limit the hub stops reading.
    public var maxInFlight = WireFormat.defaultMaxInFlight
    /// Output above this stops reading until it drains below `lowWater`.
    public var highWater = 1 << 20
    public var lowWater = 256 << 10
    /// SO_SNDBUF for partner sockets; nil leaves the kernel's autotuning, which may hold up to
    /// `net.ipv4.tcp_wmem`'s maximum (4 MiB by default) per connection for a client that does
    /// not read, on top of `highWater`. Setting it bounds that kernel memory too.
    public var socketSendBuffer: Int?

    public init() {}
}

/// One logfmt line per event on stderr (`ts=… level=info event=… partner=…`). Values are
/// names, codes and numbers chosen by the hub, never an indicator value.
public final class ServerLog: @unchecked Sendable {
    public typealias Sink = @Sendable (String) -> Void
    private let sink: Sink
    private let lock = NSLockless()

    /// Lines go to `sink` (default: stderr).
    public init(sink: Sink? = nil) {
        self.sink = sink ?? { line in
            var text = line + "\n"
            text.withUTF8 { _ = Glibc.write(2, $0.baseAddress, $0.count) }
        }
    }

    public func info(_ event: String, _ fields: [(String, String)] = []) { write("info", event, fields) }
    public func warn(_ event: String, _ fields: [(String, String)] = []) { write("warn", event, fields) }
    public func error(_ event: String, _ fields: [(String, String)] = []) { write("error", event, fields) }

    private func write(_ level: String, _ event: String, _ fields: [(String, String)]) {
        var line = "ts=\(Self.timestamp()) level=\(level) event=\(event)"
        for (key, value) in fields { line += " \(key)=\(Self.quote(value))" }
        lock.withLock { sink(line) }
    }

    /// Bare when the value is simple, else double-quoted with `"`, `\` and controls escaped.
    static func quote(_ value: String) -> String {
        let simple = !value.isEmpty && value.utf8.allSatisfy { $0 > 0x20 && $0 < 0x7F && $0 != 0x22 && $0 != 0x3D && $0 != 0x5C }
        if simple { return value }
        var out = "\""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            default: out.unicodeScalars.append(scalar.value < 0x20 || scalar.value == 0x7F ? " " : scalar)
            }
        }
        return out + "\""
    }

    /// UTC now with milliseconds, `YYYY-MM-DDTHH:MM:SS.mmmZ`.
    static func timestamp() -> String {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return CivilDate.timestamp(seconds: now.tv_sec, fraction: (Int(now.tv_nsec / 1_000_000), 3))
    }
}

/// What every session of a server shares: the policies and TLS context in force (swapped
/// whole on reload), the partners' rate and quota state, the audit log and the log.
public final class ServerShared: @unchecked Sendable {
    public let audit: AuditLog
    public let log: ServerLog
    public let limits: SessionLimits
    public let partnerLimits = PartnerLimitsTable()
    /// Whether each request is logged (`event=query`); the audit trail records them anyway.
    public let logQueries: Bool
    /// Uploads and withdrawals (protocol version 2); nil: the hub speaks version 1 only.
    public let feeds: FeedService?
    /// The request counters of `--metrics-file` (one shard per event loop).
    public let metrics: ServerMetrics

    private let lock = NSLockless()
    private var currentPolicies: PolicySet
    private var currentTLS: TLSServerContext
    private var openSessions = 0
    private var requestsInFlight = 0
    private var peakOutput = 0
    private var sessionsOpened = 0
    private var sessionsClosed = 0

    public init(policies: PolicySet, tls: TLSServerContext, audit: AuditLog, log: ServerLog, limits: SessionLimits,
                logQueries: Bool = false, feeds: FeedService? = nil, metrics: ServerMetrics = ServerMetrics(shards: 1)) {
        self.metrics = metrics
        self.logQueries = logQueries
        self.feeds = feeds
        self.currentPolicies = policies
        self.currentTLS = tls
        self.audit = audit
        self.log = log
        self.limits = limits
    }

    /// The policy set in force (a value: a batch is decided by one set even across a reload).
    public var policies: PolicySet { lock.withLock { currentPolicies } }
    /// The TLS context new connections use.
    public var tls: TLSServerContext { lock.withLock { currentTLS } }

    /// Swaps the policies and the TLS context for new connections and batches.
    public func replace(policies: PolicySet, tls: TLSServerContext) {
        lock.withLock {
            currentPolicies = policies
            currentTLS = tls
        }
    }

    /// Open sessions and requests in flight, for shutdown and tests.
    public var activity: (sessions: Int, inFlight: Int) { lock.withLock { (openSessions, requestsInFlight) } }

    /// The most bytes any one session has had waiting to be written since the server started.
    /// Back-pressure keeps it near `limits.highWater` (plus the answers to requests already
    /// taken) however much a client sends without reading; tests and metrics read it.
    public var peakPendingOutput: Int { lock.withLock { peakOutput } }

    /// A session's output backlog reached a new high for that session.
    func notePendingOutput(_ bytes: Int) { lock.withLock { peakOutput = max(peakOutput, bytes) } }

    /// Sessions open now, opened and closed since the server started (metrics).
    var sessionCounts: (open: Int, opened: Int, closed: Int) {
        lock.withLock { (openSessions, sessionsOpened, sessionsClosed) }
    }

    func sessionOpened() {
        lock.withLock {
            openSessions += 1
            sessionsOpened += 1
        }
    }

    func sessionClosed() {
        lock.withLock {
            openSessions -= 1
            sessionsClosed += 1
        }
    }
    func requestBegan() { lock.withLock { requestsInFlight += 1 } }
    func requestsEnded(_ count: Int) { lock.withLock { requestsInFlight -= count } }
}
