import Foundation
import HubClient
import HubServer
import HubWire
import IndicatorKit
import Testing

/// The metrics of uploads, withdrawals, the delta and the journal (docs/OPERATIONS.md,
/// "Metrics"), the file without a snapshot, and the test parser itself: it must refuse what
/// node_exporter would refuse, or the other metrics tests could not fail.
@Suite struct MetricsFeedAndParserTests {
    @Test func uploadsWithdrawalsAndJournalLagAreCounted() throws {
        let hub = try EndToEndHub.withSources(metricsInterval: 3600)
        defer { hub.stop() }
        let records = [PushRecord(type: .domain, "metrics-upload.example"), PushRecord(type: .ipv4, "198.51.100.90")]
        let upload = try #require(try hub.push(Source.a, records).result)
        #expect(upload.accepted == 2)
        let withdrawal = try #require(try hub.withdraw(Source.a, values: ["198.51.100.90", "unlisted-90.example", "010.0.0.1"]).result)
        #expect(withdrawal.withdrawn == 1 && withdrawal.notFound == 1)
        #expect(try hub.withdraw(Source.noWithdraw, values: ["metrics-upload.example"]).refusalCode == .operationNotAllowed)

        #expect(hub.server.writeMetricsNow())
        let before = try MetricsFileTests.read(hub.metricsFile)
        #expect(before.value("ihub_requests_total", ["kind": "upload", "result": "accepted"]) == 1)
        #expect(before.value("ihub_requests_total", ["kind": "withdraw", "result": "accepted"]) == 1)
        #expect(before.value("ihub_requests_total", ["kind": "withdraw", "result": "refused"]) == 1)
        #expect(before.value("ihub_request_refusals_total", ["kind": "withdraw", "code": "operation_not_allowed"]) == 1)
        #expect(before.value("ihub_upload_records_total", ["result": "accepted"]) == 2)
        #expect(before.value("ihub_upload_records_total", ["result": "duplicate"]) == 0)
        #expect(before.value("ihub_upload_records_total", ["result": "rejected"]) == 0)
        #expect(before.value("ihub_withdrawal_entries_total", ["result": "withdrawn"]) == 1)
        #expect(before.value("ihub_withdrawal_entries_total", ["result": "not_found"]) == 1)
        #expect(before.value("ihub_withdrawal_entries_total", ["result": "rejected"]) == 1)
        #expect(before.value("ihub_request_duration_seconds_count", ["kind": "upload"]) == 1)
        #expect(before.value("ihub_request_duration_seconds_count", ["kind": "withdraw"]) == 2)
        // One upload and one withdrawal journaled since the snapshot: two records, in the delta.
        #expect(before.value("ihub_journal_pending_records") == 2)
        #expect((before.value("ihub_store_delta_entries") ?? 0) >= 2)

        // A compaction folds them into the snapshot.
        hub.server.compactNow()
        #expect(waitUntil { hub.server.metricsSample().compactionsSucceeded == 1 })
        #expect(hub.server.writeMetricsNow())
        let after = try MetricsFileTests.read(hub.metricsFile)
        #expect(after.value("ihub_compactions_total", ["result": "succeeded"]) == 1)
        #expect(after.value("ihub_compactions_total", ["result": "failed"]) == 0)
        #expect(after.value("ihub_journal_pending_records") == 0)
        #expect(after.value("ihub_store_delta_entries") == 0)
        #expect(after.value("ihub_store_snapshot_entries") == Double(Listed.entries.count + 1))
    }

    @Test func aHubWithoutSnapshotWritesAValidFile() throws {
        let text = MetricsExposition.render(MetricsSample())
        let parsed = try PrometheusText(text)
        #expect(parsed.types["ihub_snapshot_age_seconds"] == "gauge")
        #expect(parsed.value("ihub_snapshot_age_seconds") == nil)
        #expect(parsed.value("ihub_store_snapshot_entries") == 0)
        #expect(parsed.value("ihub_request_duration_seconds_bucket", ["kind": "query", "le": "0.00005"]) == 0)
    }

    @Test func latencyBucketsAreCumulativeWithTheirBoundsAndSum() throws {
        var sample = MetricsSample()
        sample.counters.latencyBuckets[0] = 2      // ≤ 50 µs
        sample.counters.latencyBuckets[4] = 1      // ≤ 1 ms
        sample.counters.latencyBuckets[14] = 1     // > 1 s
        sample.counters.latencySumMicros[0] = 1_500_040
        let parsed = try PrometheusText(MetricsExposition.render(sample))
        func bucket(_ le: String) -> Double? {
            parsed.value("ihub_request_duration_seconds_bucket", ["kind": "query", "le": le])
        }
        #expect(bucket("0.00005") == 2 && bucket("0.0005") == 2 && bucket("0.001") == 3 && bucket("1") == 3)
        #expect(bucket("+Inf") == 4)
        #expect(parsed.value("ihub_request_duration_seconds_count", ["kind": "query"]) == 4)
        #expect(parsed.value("ihub_request_duration_seconds_sum", ["kind": "query"]) == 1.50004)
    }

    /// Each text breaks one rule; the parser must refuse every one.
    @Test(arguments: [
        "ihub_x 1\n",                                                                   // no HELP/TYPE
        "# TYPE ihub_x gauge\nihub_x 1\n",                                              // TYPE without HELP
        "# HELP ihub_x h\n# TYPE ihub_x gauge\nihub_x 1",                               // no final newline
        "# HELP ihub_x h\n# TYPE ihub_x gauge\nihub_x 1\nihub_x 2\n",                   // duplicate series
        "# HELP ihub_x_total h\n# TYPE ihub_x_total counter\nihub_x_total -1\n",        // negative counter
        "# HELP ihub_x h\n# TYPE ihub_x counter\nihub_x 1\n",                           // counter without _total
        "# HELP other_x h\n# TYPE other_x gauge\nother_x 1\n",                          // no ihub_ prefix
        "# HELP ihub_x h\n# TYPE ihub_x gauge\nihub_x{a=\"1} 1\n",                      // unterminated label
        "# HELP ihub_x h\n# TYPE ihub_x gauge\nihub_x 1 1700000000\n",                  // timestamp
        "# HELP ihub_x h\n# TYPE ihub_x gauge\n\nihub_x 1\n",                           // blank line
        "# HELP ihub_h h\n# TYPE ihub_h histogram\nihub_h_bucket{le=\"1\"} 2\nihub_h_bucket{le=\"+Inf\"} 1\n"
            + "ihub_h_sum 1\nihub_h_count 1\n",                                         // not cumulative
        "# HELP ihub_h h\n# TYPE ihub_h histogram\nihub_h_bucket{le=\"1\"} 1\nihub_h_sum 1\nihub_h_count 1\n",  // no +Inf
        "# HELP ihub_h h\n# TYPE ihub_h histogram\nihub_h_bucket{le=\"+Inf\"} 2\nihub_h_sum 1\nihub_h_count 1\n",  // count
        "# HELP ihub_a h\n# TYPE ihub_a gauge\n# HELP ihub_b h\n# TYPE ihub_b gauge\nihub_a 1\nihub_b 1\n",  // not before
    ])
    func theParserRefusesBrokenText(_ text: String) {
        #expect(throws: PrometheusText.Invalid.self) { try PrometheusText(text) }
    }
}
