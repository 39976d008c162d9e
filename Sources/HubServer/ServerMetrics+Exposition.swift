import Foundation
import HubAudit
import HubWire
import IndicatorKit
import IndicatorStore

/// Everything one metrics file shows, gathered at one moment (`HubServer.metricsSample()`).
package struct MetricsSample: Sendable {
    package var counters = RequestCounters()
    package var startTime = 0.0
    /// Unix time (seconds) of the sample, for the snapshot's age.
    package var now = 0.0
    package var connectionsOpen = 0
    package var connectionsAccepted = 0
    package var connectionsClosed = 0
    package var snapshotEntries = 0
    package var snapshotBytes = 0
    /// Unix seconds the snapshot was written (nil: no snapshot yet).
    package var snapshotCreated: UInt64?
    package var deltaEntries = 0
    /// Journal records after the snapshot's sequence (replayed into the delta, not compacted).
    package var journalPending = 0
    package var compactionsSucceeded = 0
    package var compactionsFailed = 0

    package init() {}
}

/// The Prometheus text exposition format, version 0.0.4 (docs/OPERATIONS.md, "Metrics"):
/// `# HELP` and `# TYPE` before each family's samples, base units (seconds, bytes), `_total`
/// on counters, and label values only from closed sets the hub defines.
package enum MetricsExposition {
    /// The file's text for `sample` (ends with a newline).
    package static func render(_ sample: MetricsSample) -> String {
        var out = Output()
        let counters = sample.counters

        out.single("ihub_start_time_seconds", .gauge, "Unix time the server started, in seconds.", seconds(sample.startTime))
        out.family("ihub_build_info", .gauge,
                   "Formats this build speaks (the hub has no release version yet): always 1.")
        out.sample("ihub_build_info", [("canonicalizer_version", String(Canonicalizer.version)),
                                       ("protocol_version", String(WireFormat.feedVersion)),
                                       ("store_format_version", String(StoreFormat.version))], "1")

        out.family("ihub_requests_total", .counter,
                   "Requests answered (QUERY, upload commit or refusal, WITHDRAW), by kind and result.")
        for (slot, kind) in RequestCounters.kinds.enumerated() {
            for (offset, result) in ["accepted", "refused"].enumerated() {
                out.sample("ihub_requests_total", [("kind", kind.rawValue), ("result", result)],
                           String(counters.requests[slot * 2 + offset]))
            }
        }
        out.family("ihub_request_refusals_total", .counter,
                   "Requests refused with a request-level ERROR, by kind and protocol error code (docs/PROTOCOL.md).")
        for key in counters.refusals.keys.sorted() {
            let kind = RequestCounters.kinds[Int(key >> 16)]
            let code = ErrorCode(rawValue: UInt16(truncatingIfNeeded: key))
            out.sample("ihub_request_refusals_total", [("kind", kind.rawValue), ("code", code.name)],
                       String(counters.refusals[key] ?? 0))
        }
        histogram(&out, counters)

        out.family("ihub_query_values_total", .counter,
                   "Values asked in QUERY batches, by indicator type (unknown: refused before its type was known).")
        out.sample("ihub_query_values_total", [("type", "unknown")], String(counters.queryValues[0]))
        for type in IndicatorType.allCases {
            out.sample("ihub_query_values_total", [("type", type.name)], String(counters.queryValues[Int(type.rawValue) & 15]))
        }
        out.single("ihub_query_hits_total", .counter, "QUERY values answered as a hit (the partner's policy allowed it).", String(counters.queryHits))
        out.family("ihub_query_value_refusals_total", .counter,
                   "QUERY values refused one at a time inside an answered batch, by refusal reason.")
        for refusal in ValueRefusal.allCases {
            out.sample("ihub_query_value_refusals_total", [("reason", refusal.name)],
                       String(counters.valueRefusals[Int(refusal.rawValue)]))
        }
        out.family("ihub_upload_records_total", .counter,
                   "Records of committed uploads: stored as new reports, merged as duplicates, or rejected.")
        for (result, count) in [("accepted", counters.uploadAccepted), ("duplicate", counters.uploadDuplicates),
                                ("rejected", counters.uploadRejected)] {
            out.sample("ihub_upload_records_total", [("result", result)], String(count))
        }
        out.family("ihub_withdrawal_entries_total", .counter,
                   "Withdrawals: reports withdrawn, values without a live report of the source, values refused.")
        for (result, count) in [("withdrawn", counters.withdrawn), ("not_found", counters.withdrawNotFound),
                                ("rejected", counters.withdrawRejected)] {
            out.sample("ihub_withdrawal_entries_total", [("result", result)], String(count))
        }

        out.single("ihub_connections_open", .gauge, "Partner connections open now (TLS handshake begun or done).", String(sample.connectionsOpen))
        out.single("ihub_connections_accepted_total", .counter, "Partner connections accepted.", String(sample.connectionsAccepted))
        out.single("ihub_connections_closed_total", .counter, "Partner connections closed, for any reason.", String(sample.connectionsClosed))
        out.family("ihub_connection_errors_total", .counter,
                   "Connection-level ERRORs the hub sent before closing, by protocol error code (docs/PROTOCOL.md).")
        for code in counters.connectionErrors.keys.sorted() {
            out.sample("ihub_connection_errors_total", [("code", ErrorCode(rawValue: code).name)],
                       String(counters.connectionErrors[code] ?? 0))
        }
        out.single("ihub_tls_handshake_failures_total", .counter,
                   "TLS handshakes that failed (no, bad or unknown client certificate; protocol errors).", String(counters.handshakeFailures))

        store(&out, sample)
        return out.text
    }

    private static func histogram(_ out: inout Output, _ counters: RequestCounters) {
        let name = "ihub_request_duration_seconds"
        out.family(name, .histogram,
                   "Time from taking a request to queueing its answer (audit write included), by kind.")
        let slots = RequestCounters.bucketSlots
        for (slot, kind) in RequestCounters.kinds.enumerated() {
            var cumulative = 0
            for bucket in 0..<slots {
                cumulative += counters.latencyBuckets[slot * slots + bucket]
                let bound = bucket < RequestCounters.bucketMicros.count
                    ? micros(RequestCounters.bucketMicros[bucket]) : "+Inf"
                out.sample(name + "_bucket", [("kind", kind.rawValue), ("le", bound)], String(cumulative))
            }
            out.sample(name + "_sum", [("kind", kind.rawValue)], micros(counters.latencySumMicros[slot]))
            out.sample(name + "_count", [("kind", kind.rawValue)], String(cumulative))
        }
    }

    private static func store(_ out: inout Output, _ sample: MetricsSample) {
        out.single("ihub_store_snapshot_entries", .gauge, "Entries in the snapshot the hub answers from.", String(sample.snapshotEntries))
        out.single("ihub_store_snapshot_bytes", .gauge, "Size of the snapshot file, in bytes.", String(sample.snapshotBytes))
        out.single("ihub_store_delta_entries", .gauge,
                   "Entries in the in-memory delta (uploads and withdrawals since the snapshot).", String(sample.deltaEntries))
        out.single("ihub_journal_pending_records", .gauge,
                   "Journal records not yet in a snapshot (the next compaction folds them in).", String(sample.journalPending))
        // Each family's HELP and TYPE right before its sample (none without a snapshot).
        out.family("ihub_snapshot_created_timestamp_seconds", .gauge,
                   "Unix time the snapshot was written (by the last compaction or ingest); absent without one.")
        if let created = sample.snapshotCreated {
            out.sample("ihub_snapshot_created_timestamp_seconds", [], String(created))
        }
        out.family("ihub_snapshot_age_seconds", .gauge,
                   "Seconds since the snapshot was written, at the time of this file; absent without one.")
        if let created = sample.snapshotCreated {
            out.sample("ihub_snapshot_age_seconds", [], seconds(max(0, sample.now - Double(created))))
        }
        out.family("ihub_compactions_total", .counter, "Background compactions finished since start, by result.")
        out.sample("ihub_compactions_total", [("result", "succeeded")], String(sample.compactionsSucceeded))
        out.sample("ihub_compactions_total", [("result", "failed")], String(sample.compactionsFailed))
    }

    /// Microseconds as decimal seconds without exponent (`0.00005`, `1`, `12.345678`).
    static func micros(_ value: UInt64) -> String {
        let whole = value / 1_000_000
        let fraction = value % 1_000_000
        guard fraction != 0 else { return String(whole) }
        var digits = String(fraction)
        digits = String(repeating: "0", count: 6 - digits.count) + digits
        while digits.hasSuffix("0") { digits.removeLast() }
        return "\(whole).\(digits)"
    }

    /// Seconds with millisecond precision, as `micros` writes them.
    static func seconds(_ value: Double) -> String {
        micros(UInt64(max(0, value) * 1000) * 1000)
    }

    enum MetricType: String { case counter, gauge, histogram }

    /// The text being built: HELP and TYPE lines, then samples.
    struct Output {
        var text = ""

        mutating func family(_ name: String, _ type: MetricType, _ help: String) {
            text += "# HELP \(name) \(escapeHelp(help))\n# TYPE \(name) \(type.rawValue)\n"
        }

        /// A family of one series without labels: its HELP and TYPE, then its sample.
        mutating func single(_ name: String, _ type: MetricType, _ help: String, _ value: String) {
            family(name, type, help)
            sample(name, [], value)
        }

        mutating func sample(_ name: String, _ labels: [(String, String)], _ value: String) {
            text += name
            if !labels.isEmpty {
                text += "{" + labels.map { "\($0.0)=\"\(escapeLabel($0.1))\"" }.joined(separator: ",") + "}"
            }
            text += " \(value)\n"
        }

        /// HELP text: `\` and newline escaped (0.0.4).
        func escapeHelp(_ text: String) -> String {
            text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\n", with: "\\n")
        }

        /// Label values: `\`, `"` and newline escaped (0.0.4).
        func escapeLabel(_ text: String) -> String {
            escapeHelp(text).replacingOccurrences(of: "\"", with: "\\\"")
        }
    }
}
