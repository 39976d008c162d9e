import Foundation
import Glibc
import HubAudit
import HubClient
import HubServer
import HubTLS
import HubWire
import IndicatorKit
import IndicatorStore
import Testing

// The end-to-end tests start the real `HubServer` in process on 127.0.0.1 (ephemeral port, one
// event loop so that every connection shares it), with a data directory made as `ihub init`
// makes one (digest key, the store of `Listed.entries`, hub CA and server certificate), the
// policies below, a real audit log, and partner identities issued by the hub's PKI. Each test
// connects a well-behaved partner (`bank-good`) next to a misbehaving client and checks that
// the good partner's answers stay correct during and after the misbehaviour.

/// A test failure that is not an expectation (a socket call failed, a bounded wait expired).
struct EndToEndFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// Polls `condition` every 5 ms until it holds or `timeout` seconds pass; returns whether it
/// held. A bounded wait on a condition, never a fixed sleep.
func waitUntil(timeout: Double = 10, _ condition: () -> Bool) -> Bool {
    let deadline = monotonicSeconds() + timeout
    while true {
        if condition() { return true }
        if monotonicSeconds() >= deadline { return false }
        usleep(5_000)
    }
}

func monotonicSeconds() -> Double {
    var time = timespec()
    clock_gettime(CLOCK_MONOTONIC, &time)
    return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
}

/// The server's logfmt lines, kept for the tests to search.
final class LogCapture: @unchecked Sendable {
    private let lock = NSLock()
    private var lines: [String] = []

    var sink: ServerLog.Sink { { [self] line in lock.withLock { lines.append(line) } } }

    var all: [String] { lock.withLock { lines } }

    /// Lines of `event` (`event=NAME`) that contain every one of `containing`.
    func lines(_ event: String, containing: [String] = []) -> [String] {
        all.filter { line in
            line.contains(" event=\(event) ") || line.hasSuffix(" event=\(event)")
        }.filter { line in containing.allSatisfy { line.contains($0) } }
    }

    /// Waits (bounded) for a line of `event` containing `containing`; returns it.
    func await(_ event: String, containing: [String] = [], timeout: Double = 10) -> String? {
        var found: String?
        _ = waitUntil(timeout: timeout) {
            found = lines(event, containing: containing).first
            return found != nil
        }
        return found
    }
}

/// Session limits for the tests: the protocol's timeouts shortened so that each timeout test
/// takes about a second, timers checked every 20 ms.
func testLimits(handshake: Double = 10, hello: Double = 10, frame: Double = 10, idle: Double = 60,
                writeStall: Double = 60) -> SessionLimits {
    var limits = SessionLimits()
    limits.handshakeTimeout = handshake
    limits.helloTimeout = hello
    limits.frameTimeout = frame
    limits.idleTimeout = idle
    limits.writeStallTimeout = writeStall
    limits.tick = 0.02
    return limits
}

/// The partners of the end-to-end hub. Each has its own policy, certificate and limits, so a
/// misbehaving partner's rate and quota never touch the well-behaved one's.
enum Partner {
    /// Well-behaved: generous limits, the answers `GoodPartner.check` expects.
    static let good = "bank-good"
    /// Small max batch (3), only `iban` and `email`.
    static let small = "bank-small"
    /// Rate 1 value/s with a burst of 4.
    static let rate = "bank-rate"
    /// Daily quota of 5 values.
    static let quota = "bank-quota"
    /// Pipelines without reading: batches up to 1000, every answer field revealed.
    static let flood = "bank-flood"
    /// Revoked during a test.
    static let revoked = "bank-revoked"
    /// Holds a certificate from the hub's CA but has no policy.
    static let unlisted = "bank-unlisted"

    static let all = [good, small, rate, quota, flood, revoked, unlisted]
}

/// Writes one policy file per partner (all but `Partner.unlisted`).
func writeEndToEndPolicies(_ directory: String) throws {
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    func quoted(_ items: [String]) -> String { "[" + items.map { "\"\($0)\"" }.joined(separator: ", ") + "]" }
    func policy(_ name: String, types: [String] = ["iban", "email", "domain", "ipv4", "url"],
                reveal: [String] = ["category", "confidence"], maxBatch: Int = 100,
                perSecond: Int = 1_000_000_000, burst: Int = 1_000_000_000, quota: Int = 1_000_000_000_000) throws {
        let text = """
            {
              "partner": "\(name)", "role": "bank", "version": 1,
              "types": \(quoted(types)),
              "categories": ["fraud", "phishing", "mule-account", "scam"],
              "purposes": ["payment-screening"],
              "legal_bases": ["psd2-art-94"],
              "reveal": \(quoted(reveal)),
              "max_batch": \(maxBatch),
              "rate": { "per_second": \(perSecond), "burst": \(burst) },
              "daily_quota": \(quota),
              "tlp_ceiling": "amber",
              "priorities": ["routine", "urgent"]
            }
            """
        try text.write(toFile: directory + "/\(name).json", atomically: true, encoding: .utf8)
    }
    try policy(Partner.good)
    try policy(Partner.small, types: ["iban", "email"], maxBatch: 3)
    try policy(Partner.rate, maxBatch: 4, perSecond: 1, burst: 4)
    try policy(Partner.quota, maxBatch: 3, quota: 5)
    try policy(Partner.flood, reveal: ["category", "confidence", "expires", "action"], maxBatch: 1000)
    try policy(Partner.revoked)
}

/// A running hub with its data directory, policies, partner identities and captured log.
final class EndToEndHub {
    let temp: TempDir
    let data: String
    let policies: String
    let key: DigestKey
    let pki: HubPKI
    let log = LogCapture()
    let server: HubServer
    let port: UInt16
    let limits: SessionLimits
    /// The metrics file, in a directory of its own (`metrics/ihub.prom`), when the hub writes one.
    let metricsFile: String?
    private var stopped = false

    /// `sources` adds partners of role cert (name → policy file text; `nil`: no policy file).
    /// `metricsInterval`: write `metricsFile` every so many seconds (nil: no metrics file); `memory`:
    /// how the server holds the snapshot.
    init(limits: SessionLimits = testLimits(), sources: [(name: String, policy: String?)] = [],
         auditSync: AuditLog.SyncMode = .standard, metricsInterval: Double? = nil, memory: StoreMemory = .map) throws {
        temp = try TempDir()
        data = temp.path + "/data"
        policies = temp.path + "/policies"
        self.limits = limits
        if metricsInterval != nil {
            try FileManager.default.createDirectory(atPath: temp.path + "/metrics", withIntermediateDirectories: true)
            metricsFile = temp.path + "/metrics/ihub.prom"
        } else {
            metricsFile = nil
        }
        // What `ihub init` does, then a store with known entries.
        let (directory, key) = try DataDirectory.create(at: data)
        self.key = key
        _ = try writeTestStore(key: key, path: directory.snapshotPath)
        pki = try HubPKI.create(dataDirectory: data, hostnames: [])
        try writeEndToEndPolicies(policies)
        for name in Partner.all {
            _ = try pki.issuePartner(name: name, role: .bank, identityDirectory: temp.path + "/id-" + name)
        }
        for source in sources {
            if let policy = source.policy {
                try policy.write(toFile: policies + "/\(source.name).json", atomically: true, encoding: .utf8)
            }
            _ = try pki.issuePartner(name: source.name, role: .cert, identityDirectory: temp.path + "/id-" + source.name)
        }
        server = try HubServer(HubServer.Configuration(dataDirectory: data, policiesDirectory: policies,
                                                       host: "127.0.0.1", port: 0, loops: 1, limits: limits,
                                                       auditSync: auditSync, logQueries: true,
                                                       metricsFile: metricsFile, metricsInterval: metricsInterval ?? 5,
                                                       memory: memory),
                               log: ServerLog(sink: log.sink))
        port = try server.start()
    }

    deinit { stop() }

    func identity(_ partner: String) -> String { temp.path + "/id-" + partner }

    /// A partner connection through the real client library.
    func client(_ partner: String = Partner.good) throws -> HubClient {
        try HubClient.connect(host: "127.0.0.1", port: port, identityDirectory: identity(partner),
                              options: HubClient.Options(connectTimeout: 10, ioTimeout: 10, software: "e2e-tests/1"))
    }

    /// A client context with the identity of `partner` (for `RawClient`).
    func context(_ partner: String) throws -> TLSClientContext {
        try TLSClientContext(identityDirectory: identity(partner))
    }

    /// Stops the server (closes every connection and the audit log). Idempotent.
    func stop() {
        guard !stopped else { return }
        stopped = true
        server.stop(grace: 2)
    }

    /// Open sessions as the server counts them.
    var sessions: Int { server.shared.activity.sessions }

    /// The audit log as it is on disk now, verified link by link (docs/AUDIT-LOG.md).
    func audit() throws -> AuditTrail {
        let head = try AuditVerifier.verify(directory: data + "/audit")
        let trail = try AuditTrail(directory: data + "/audit")
        #expect(UInt64(trail.records.count) == head.seq, "the verifier and the reader disagree on the record count")
        return trail
    }
}

/// The records of an audit directory, read as JSON (docs/AUDIT-LOG.md, "Records").
struct AuditTrail {
    struct Record {
        var partner: String
        var requestID: UInt64
        var decision: String
        var code: String
        var values: Int
        var hits: Int
        var refusedValues: [String: Int]
        var counts: [String: Int]
        var line: String
    }

    var records: [Record] = []
    var bytes: [UInt8] = []

    init(directory: String) throws {
        let names = try FileManager.default.contentsOfDirectory(atPath: directory).filter { $0.hasSuffix(".log") }.sorted()
        for name in names {
            let data = try Data(contentsOf: URL(fileURLWithPath: directory + "/" + name))
            bytes += Array(data)
            for line in String(decoding: data, as: UTF8.self).split(separator: "\n") {
                let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] ?? [:]
                records.append(Record(partner: object["partner"] as? String ?? "",
                                      requestID: (object["request_id"] as? NSNumber)?.uint64Value ?? 0,
                                      decision: object["decision"] as? String ?? "", code: object["code"] as? String ?? "",
                                      values: (object["values"] as? NSNumber)?.intValue ?? -1,
                                      hits: (object["hits"] as? NSNumber)?.intValue ?? -1,
                                      refusedValues: (object["refused_values"] as? [String: Int]) ?? [:],
                                      counts: (object["counts"] as? [String: Int]) ?? [:],
                                      line: String(line)))
            }
        }
    }

    func of(_ partner: String) -> [Record] { records.filter { $0.partner == partner } }
}

/// The well-behaved partner: one batch with hits, misses and a minimised hit, whose answers
/// are known from `Listed.entries` and the `bank-good` policy.
struct GoodPartner {
    static let values = [Listed.iban, Listed.unlistedIBAN, "sub.evil.example", Listed.hiddenCategory,
                         Listed.hiddenTLP, Listed.inNetwork]
    static let expected: [Answer] = [
        .hit(RevealedFields(category: .fraud, confidence: 90)),
        .miss,
        .hit(RevealedFields(category: .phishing, confidence: 70)),
        .miss,  // malware: outside the policy's categories
        .miss,  // TLP red: above the ceiling
        .hit(RevealedFields(category: .scam, confidence: 60)),
    ]
    static let fields = RequestFields(purpose: "payment-screening", legalBasis: "psd2-art-94", reference: "CASE-77",
                                      priority: .routine, timeZone: "Europe/Berlin")

    let client: HubClient
    /// Batches answered correctly so far (each is one accepted audit record of `bank-good`).
    private(set) var answered = 0

    init(_ hub: EndToEndHub) throws {
        client = try hub.client(Partner.good)
    }

    /// Asks the known batch and checks every answer; `when` names the moment for the message.
    mutating func check(_ when: String, sourceLocation: SourceLocation = #_sourceLocation) {
        do {
            let answers = try client.query(values: Self.values, fields: Self.fields)
            #expect(answers == Self.expected, "good partner \(when)", sourceLocation: sourceLocation)
            if answers == Self.expected { answered += 1 }
        } catch {
            Issue.record("good partner \(when): \(error)", sourceLocation: sourceLocation)
        }
    }
}

/// Checks what every end-to-end test checks at the end: the hub is stopped cleanly, its audit
/// log verifies, the good partner's batches are all there and accepted, no raw value is in it,
/// and `forbidden` partners (refused before any request) have no record. Returns the trail.
@discardableResult
func finish(_ hub: EndToEndHub, good: GoodPartner, noRecordsFor forbidden: [String] = [],
            sourceLocation: SourceLocation = #_sourceLocation) throws -> AuditTrail {
    hub.stop()
    let trail = try hub.audit()
    let goodRecords = trail.of(Partner.good)
    #expect(goodRecords.count == good.answered, "one audit record per good batch", sourceLocation: sourceLocation)
    #expect(goodRecords.allSatisfy { $0.decision == "accepted" && $0.hits == 3 && $0.values == 6 },
            sourceLocation: sourceLocation)
    for partner in forbidden {
        #expect(trail.of(partner).isEmpty, "\(partner) was refused before any request, yet has audit records",
                sourceLocation: sourceLocation)
    }
    for raw in Listed.allRaw where raw != "CASE-77" {
        #expect(!contains(trail.bytes, raw), "the audit log holds the raw value \(raw)", sourceLocation: sourceLocation)
    }
    #expect(hub.log.lines("snapshot_corrupt").isEmpty, sourceLocation: sourceLocation)
    return trail
}
