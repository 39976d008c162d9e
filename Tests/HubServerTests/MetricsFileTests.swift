import Foundation
import Glibc
import HubServer
import HubWire
import IndicatorKit
import Testing

/// `--metrics-file` (docs/OPERATIONS.md, "Metrics"): the file is valid Prometheus text, says
/// exactly what the hub did, is replaced atomically, survives write failures without stopping
/// the hub, refuses a bad path at startup, and never holds a value, a digest or a partner name.
@Suite struct MetricsFileTests {
    /// Reads and parses the metrics file.
    static func read(_ path: String?, sourceLocation: SourceLocation = #_sourceLocation) throws -> PrometheusText {
        let path = try #require(path, sourceLocation: sourceLocation)
        return try PrometheusText(try String(contentsOfFile: path, encoding: .utf8))
    }

    /// Known requests: two good batches (6 values, 3 hits each), a batch over `bank-small`'s
    /// max batch (refused: `batch_too_large`), a batch with one invalid IBAN
    /// (accepted, the value refused: `invalid_value`) and a malformed QUERY (refused:
    /// `unknown_indicator_type`, no value read); then `bank-small` hangs up. Returns the good
    /// partner (still connected) for `finish`.
    static func askKnownRequests(_ hub: EndToEndHub) throws -> GoodPartner {
        var good = try GoodPartner(hub)
        good.check("first")
        good.check("second")
        do {  // the raw client's scope: its socket is closed at the end
            let client = try RawClient(port: hub.port, context: try hub.context(Partner.small))
            _ = try client.hello()
            try client.send(try RawFrames.query(id: 1, Array(repeating: (IndicatorType.iban, Listed.iban), count: 4)))
            try EndToEndRequestTests.expectRefusal(client, hub, partner: Partner.small, id: 1, .batchTooLarge)
            try client.send(try RawFrames.query(id: 2, [(.iban, "DE00 0000 0000 0000 0000 01")]))
            #expect(EndToEndRequestTests.expectResult(client, id: 2).count == 1)
            try client.send(try RawFrames.query(id: 3, typeByte: 14, value: Listed.iban))
            try EndToEndRequestTests.expectRefusal(client, hub, partner: Partner.small, id: 3, .unknownIndicatorType)
        }
        // Wait until the hub has seen the hang-up.
        #expect(waitUntil { hub.sessions == 1 }, "bank-small's hang-up was not noticed")
        return good
    }

    @Test func countsWhatTheHubDidExactly() throws {
        let hub = try EndToEndHub(metricsInterval: 3600)  // only the start and the stop write
        let atStart = try Self.read(hub.metricsFile)
        #expect(atStart.value("ihub_requests_total", ["kind": "query", "result": "accepted"]) == 0)
        #expect(atStart.value("ihub_connections_open") == 0)
        let good = try Self.askKnownRequests(hub)
        try finish(hub, good: good)  // stops the hub: the final write
        let metrics = try Self.read(hub.metricsFile)

        #expect(metrics.value("ihub_requests_total", ["kind": "query", "result": "accepted"]) == 3)
        #expect(metrics.value("ihub_requests_total", ["kind": "query", "result": "refused"]) == 2)
        #expect(metrics.value("ihub_requests_total", ["kind": "upload", "result": "accepted"]) == 0)
        #expect(metrics.value("ihub_request_refusals_total", ["kind": "query", "code": "batch_too_large"]) == 1)
        #expect(metrics.value("ihub_request_refusals_total", ["kind": "query", "code": "unknown_indicator_type"]) == 1)
        #expect(metrics.sum("ihub_request_refusals_total") == 2)
        #expect(metrics.value("ihub_query_hits_total") == 6)
        // The oversized batch is refused as it is decoded (over the WELCOME's max batch): its
        // values are never read, so never counted.
        #expect(metrics.sum("ihub_query_values_total") == 6 + 6 + 1)
        #expect(metrics.value("ihub_query_values_total", ["type": "iban"]) == Double(2 + 2 + 1))
        #expect(metrics.value("ihub_query_value_refusals_total", ["reason": "invalid_value"]) == 1)
        #expect(metrics.sum("ihub_query_value_refusals_total") == 1)
        #expect(metrics.value("ihub_request_duration_seconds_count", ["kind": "query"]) == 5)
        #expect(metrics.value("ihub_request_duration_seconds_bucket", ["kind": "query", "le": "+Inf"]) == 5)
        #expect(metrics.value("ihub_request_duration_seconds_count", ["kind": "withdraw"]) == 0)
        // Two partners connected; `bank-small` hung up, the stop closed the good partner's
        // connection with ERROR shutting_down.
        #expect(metrics.value("ihub_connections_accepted_total") == 2)
        #expect(metrics.value("ihub_connections_closed_total") == 2)
        #expect(metrics.value("ihub_connections_open") == 0)
        #expect(metrics.value("ihub_connection_errors_total", ["code": "shutting_down"]) == 1)
        #expect(metrics.sum("ihub_connection_errors_total") == 1)
        #expect(metrics.value("ihub_tls_handshake_failures_total") == 0)
        // The store: the test snapshot, nothing uploaded.
        let snapshotBytes = try FileManager.default.attributesOfItem(atPath: hub.data + "/store/indicators.snap")[.size] as? Int
        #expect(metrics.value("ihub_store_snapshot_entries") == Double(Listed.entries.count))
        #expect(metrics.value("ihub_store_snapshot_bytes") == snapshotBytes.map(Double.init))
        #expect(metrics.value("ihub_store_delta_entries") == 0)
        #expect(metrics.value("ihub_journal_pending_records") == 0)
        #expect(metrics.value("ihub_snapshot_age_seconds") != nil)
        #expect(metrics.sum("ihub_compactions_total") == 0)
        #expect((metrics.value("ihub_start_time_seconds") ?? 0) > 1_700_000_000)
        #expect(metrics.value("ihub_build_info", ["canonicalizer_version": "1", "protocol_version": "2",
                                                  "store_format_version": "3"]) == 1)
        #expect(hub.log.lines("metrics_write_failed").isEmpty)
    }

    @Test func fileIsReplacedWholeEveryInterval() throws {
        let hub = try EndToEndHub(metricsInterval: 0.01)
        let path = try #require(hub.metricsFile)
        var good = try GoodPartner(hub)
        // A file open before two more writes was replaced, not rewritten: renamed over, it has
        // no name left, and it still holds what it held.
        let fd = open(path, O_RDONLY)
        try #require(fd >= 0)
        defer { close(fd) }
        let before = hub.server.metricsWrites.succeeded
        #expect(waitUntil { hub.server.metricsWrites.succeeded >= before + 2 })
        var info = stat()
        #expect(fstat(fd, &info) == 0 && info.st_nlink == 0, "the file was written in place")
        // Read while the writer replaces the file and requests are answered: every read is a
        // whole, valid file, never a half-written one.
        var reads = 0
        let enough = waitUntil(timeout: 20) {
            good.check("while the metrics file is rewritten")
            do {
                _ = try Self.read(path)
                reads += 1
            } catch {
                Issue.record("a read of the metrics file did not parse: \(error)")
                return true
            }
            return hub.server.metricsWrites.succeeded >= before + 20
        }
        #expect(enough, "writes: \(hub.server.metricsWrites)")
        #expect(reads > 0)
        try finish(hub, good: good)
        // Nothing but the file remains beside it (no temporary file), and it is 0644.
        let names = try FileManager.default.contentsOfDirectory(atPath: hub.temp.path + "/metrics")
        #expect(names == ["ihub.prom"])
        let mode = try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int
        #expect(mode == 0o644)
        let final = try Self.read(path)
        #expect(final.value("ihub_requests_total", ["kind": "query", "result": "accepted"]) == Double(good.answered))
        #expect(hub.log.lines("metrics_write_failed").isEmpty)
    }

    @Test func writeFailuresAreLoggedOncePerStreakAndTheHubGoesOn() throws {
        let hub = try EndToEndHub(metricsInterval: 0.01)
        let directory = hub.temp.path + "/metrics"
        var good = try GoodPartner(hub)
        for streak in 1...2 {
            try FileManager.default.removeItem(atPath: directory)
            let failedBefore = hub.server.metricsWrites.failed
            #expect(waitUntil { hub.server.metricsWrites.failed >= failedBefore + 5 }, "the writer goes on trying")
            good.check("while metrics writes fail (streak \(streak))")
            let failures = hub.log.lines("metrics_write_failed")
            #expect(failures.count == streak, "one line per streak: \(failures)")
            #expect(failures.last?.contains("path=\(directory)/ihub.prom") == true)
            #expect(failures.last?.contains("no such file or directory") == true, "\(failures)")
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: false)
            #expect(waitUntil { hub.log.lines("metrics_write_recovered").count == streak })
            #expect(FileManager.default.fileExists(atPath: directory + "/ihub.prom"))
        }
        try finish(hub, good: good)
        #expect(hub.log.lines("metrics_write_failed").count == 2)
    }

    @Test func unwritablePathsAreRefusedAtStartup() throws {
        let temp = try TempDir()
        let file = temp.path + "/plain-file"
        try "x".write(toFile: file, atomically: true, encoding: .utf8)
        try FileManager.default.createDirectory(atPath: temp.path + "/dir.prom", withIntermediateDirectories: false)
        // Root may write anywhere but in sysfs; anyone else not in a 0555 directory.
        let readOnly: String
        if geteuid() == 0 {
            readOnly = "/sys"
        } else {
            readOnly = temp.path + "/read-only"
            try FileManager.default.createDirectory(atPath: readOnly, withIntermediateDirectories: false,
                                                    attributes: [.posixPermissions: 0o555])
        }
        let cases: [(path: String, reason: String)] = [
            (temp.path + "/missing/ihub.prom", "directory \(temp.path)/missing does not exist"),
            (file + "/ihub.prom", "\(file) is not a directory"),
            (temp.path + "/dir.prom", "\(temp.path)/dir.prom is a directory"),
            (readOnly + "/ihub.prom", "directory \(readOnly) is not writable"),
        ]
        for (path, reason) in cases {
            let configuration = HubServer.Configuration(dataDirectory: temp.path + "/no-data", policiesDirectory: temp.path,
                                                        host: "127.0.0.1", port: 0, loops: 1, metricsFile: path)
            do {
                _ = try HubServer(configuration, log: ServerLog(sink: { _ in }))
                Issue.record("\(path) was accepted")
            } catch {
                #expect(error.path == path)
                #expect(error.reason.hasPrefix("--metrics-file: " + reason), "\(error)")
            }
        }
    }

    @Test func noValueDigestOrPartnerNameReachesTheFile() throws {
        let hub = try EndToEndHub(metricsInterval: 3600)
        let good = try Self.askKnownRequests(hub)
        let trail = try finish(hub, good: good)
        let text = try String(contentsOfFile: try #require(hub.metricsFile), encoding: .utf8)
        let bytes = Array(text.utf8)
        _ = try PrometheusText(text)
        var needles = Listed.allRaw
        var digests: [String] = []
        for (value, type, _) in Listed.entries {
            let (_, canonical) = try Canonicalizer.canonical(value, as: type)
            if let readable = String(validating: canonical, as: UTF8.self), readable.count >= 4 { needles.append(readable) }
            #expect(!containsBytes(bytes, canonical), "the metrics file holds the canonical form of \(value)")
            digests.append(try listedDigest(value, type, key: hub.key).hex)
        }
        for needle in needles + Partner.all + ["payment-screening", "psd2-art-94", "e2e-tests"] {
            #expect(!text.contains(needle), "the metrics file holds '\(needle)'")
            #expect(!text.lowercased().contains(needle.lowercased()), "the metrics file holds '\(needle)'")
        }
        for hex in digests {
            #expect(!text.contains(hex) && !text.contains(String(hex.prefix(16))) && !text.contains(String(hex.suffix(16))),
                    "the metrics file holds a digest")
        }
        // The needles are real: the audit trail holds the hits' digests and the partner names.
        #expect(digests.contains { contains(trail.bytes, $0) })
        #expect(contains(trail.bytes, Partner.good))
    }

    /// Whether `needle`'s bytes occur in `haystack`.
    func containsBytes(_ haystack: [UInt8], _ needle: [UInt8]) -> Bool {
        guard !needle.isEmpty, haystack.count >= needle.count else { return false }
        for start in 0...(haystack.count - needle.count) where haystack[start] == needle[0] {
            if Array(haystack[start..<(start + needle.count)]) == needle { return true }
        }
        return false
    }
}
