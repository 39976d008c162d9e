import Foundation
import Testing

/// `ihub serve --metrics-file PATH [--metrics-interval SECONDS]` on the command line
/// (docs/OPERATIONS.md, "Metrics"): the flags' bad values are usage errors naming the flag, a
/// path that cannot be written stops the start, and a served hub writes the file at start and
/// at a clean stop. (What the file says is tested in HubServerTests' MetricsFileTests.)
@Suite struct ServeMetricsTests {
    static let serve = ["serve", "--data", "/nonexistent-ihub-data", "--policies", "/nonexistent-ihub-policies",
                        "--listen", "127.0.0.1:0"]

    @Test(arguments: ["0", "3601", "-5", "5s", "1.5", ""])
    func intervalOutOfRangeNamesTheFlagAndTheRange(_ interval: String) throws {
        let result = try Ihub.run(Self.serve + ["--metrics-file", "/tmp/ihub-unused.prom", "--metrics-interval", interval])
        #expect(result.status == 2)
        #expect(result.stderr.contains("--metrics-interval"), "\(result.stderr)")
        #expect(result.stderr.contains("1–3600"), "\(result.stderr)")
    }

    @Test func intervalWithoutFileIsAUsageError() throws {
        let result = try Ihub.run(Self.serve + ["--metrics-interval", "10"])
        #expect(result.status == 2)
        #expect(result.stderr.contains("--metrics-interval: needs --metrics-file"), "\(result.stderr)")
    }

    @Test func aFileInAMissingDirectoryStopsTheStart() throws {
        let temp = try TemporaryDirectory()
        let path = temp.path + "/no-such-dir/ihub.prom"
        let result = try Ihub.run(Self.serve + ["--metrics-file", path])
        #expect(result.status == 2)
        #expect(result.stderr.contains(path), "\(result.stderr)")
        #expect(result.stderr.contains("directory \(temp.path)/no-such-dir does not exist"), "\(result.stderr)")
    }

    @Test func aServedHubWritesTheFileAtStartAndAtTheStop() throws {
        let temp = try TemporaryDirectory()
        let policy = ServeDirectory.plainBankPolicy("bank-metrics")
        let directory = try ServeDirectory(temp, partners: [("bank-metrics", "bank", policy)],
                                           seed: "listed.example\n198.51.100.7\n")
        let metrics = temp.path + "/textfile"
        try FileManager.default.createDirectory(atPath: metrics, withIntermediateDirectories: false)
        let path = metrics + "/ihub.prom"
        let server = try ServeProcess.start(data: directory.data, policies: directory.policies, log: temp.path + "/serve.log",
                                            options: ["--metrics-file", path, "--metrics-interval", "3600"])
        let atStart = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
        #expect(atStart.contains("# TYPE ihub_requests_total counter\n"))
        #expect(atStart.contains("\nihub_store_snapshot_entries 2\n"), "\(atStart)")
        try FileManager.default.removeItem(atPath: path)
        server.stop(SIGTERM)
        #expect(server.process.terminationStatus == 0)
        let atStop = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
        #expect(atStop.contains("\nihub_connections_open 0\n"), "the stop did not write the file: \(server.logText)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: metrics) == ["ihub.prom"])
        #expect(server.logText.contains("event=metrics_file path=\(path) interval_s=3600"))
        #expect(!server.logText.contains("metrics_write_failed"))
    }
}
