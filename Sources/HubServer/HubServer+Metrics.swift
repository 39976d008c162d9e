import Glibc
import IndicatorStore

/// The server's side of `--metrics-file` (docs/OPERATIONS.md, "Metrics"): what a sample reads
/// and when the writer runs. A sample reads only what the server keeps anyway — the loops'
/// metrics shards, the session counts, the live store's published state — so the event
/// loops never wait for it longer than one shard's uncontended lock.
extension HubServer {
    /// The metrics as they are now.
    package func metricsSample() -> MetricsSample {
        Self.sample(shared: shared, live: live)
    }

    /// Writes the metrics file now (tests; the writer thread does this every interval).
    /// Returns false when there is no metrics file or the write failed.
    @discardableResult
    package func writeMetricsNow() -> Bool { metricsWriter?.writeNow() ?? false }

    /// Metrics writes completed and failed so far (tests).
    package var metricsWrites: (succeeded: Int, failed: Int) { metricsWriter?.writes ?? (0, 0) }

    /// The temporary file each write goes through before its rename (tests).
    package var metricsTemporaryPath: String? { metricsWriter?.temporaryPath }

    static func sample(shared: ServerShared, live: LiveStore) -> MetricsSample {
        var sample = MetricsSample()
        sample.counters = shared.metrics.totals()
        sample.startTime = shared.metrics.startTime
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        sample.now = Double(now.tv_sec) + Double(now.tv_nsec / 1_000) / 1e6
        let sessions = shared.sessionCounts
        sample.connectionsOpen = sessions.open
        sample.connectionsAccepted = sessions.opened
        sample.connectionsClosed = sessions.closed
        let state = live.view()
        if let snapshot = state.snapshot {
            sample.snapshotEntries = snapshot.entryCount
            sample.snapshotBytes = snapshot.byteCount
            sample.snapshotCreated = snapshot.header.createdAt
        }
        sample.deltaEntries = state.deltaCount
        let compacted = state.snapshot?.header.sequence ?? 0
        sample.journalPending = state.sequence > compacted ? Int(state.sequence - compacted) : 0
        let compactions = shared.metrics.compactions
        sample.compactionsSucceeded = compactions.succeeded
        sample.compactionsFailed = compactions.failed
        return sample
    }

    /// Writes the file once (the metrics at start) and starts the writer's thread.
    func startMetricsWriter() {
        guard let path = configuration.metricsFile else { return }
        let shared = self.shared
        let live = self.live
        let writer = MetricsWriter(path: path, interval: configuration.metricsInterval, log: log) {
            MetricsExposition.render(Self.sample(shared: shared, live: live))
        }
        metricsWriter = writer
        writer.writeNow()
        writer.start()
        log.info("metrics_file", [("path", path), ("interval_s", MetricsExposition.seconds(configuration.metricsInterval))])
    }

    /// Stops the writer's thread and writes the final file (after the loops stopped, so it
    /// holds every request answered).
    func stopMetricsWriter() {
        metricsWriter?.stop()
    }
}
