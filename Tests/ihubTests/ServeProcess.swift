import Foundation

/// `ihub serve` as a child process on an ephemeral loopback port, for the tests that need the
/// real server (ServeCrashTests, ServePushTests, ServeLiveCrashTests): started with the given
/// extra options, its stderr (the logfmt log) in `log`, ready once it printed its port.
struct ServeProcess {
    let process: Process
    let port: UInt16
    let log: String

    struct DidNotStart: Error, CustomStringConvertible {
        var log: String
        var description: String { "ihub serve did not start:\n\(log)" }
    }

    /// Starts `ihub serve --data data --policies policies --listen 127.0.0.1:0 --loops 1` plus
    /// `options`, and waits (at most 20 s) for its "listening on" line.
    static func start(data: String, policies: String, log: String, options: [String] = []) throws -> ServeProcess {
        _ = FileManager.default.createFile(atPath: log, contents: nil)
        let process = Process()
        process.executableURL = Ihub.binary
        process.arguments = ["serve", "--data", data, "--policies", policies, "--listen", "127.0.0.1:0", "--loops", "1"]
            + options
        process.standardOutput = FileHandle.nullDevice
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let prefix = "listening on 127.0.0.1:"
        let deadline = Date().addingTimeInterval(20)
        while Date() < deadline, process.isRunning {
            let text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
            if let line = text.split(separator: "\n").first(where: { $0.hasPrefix(prefix) }),
               let port = UInt16(line.dropFirst(prefix.count)) {
                return ServeProcess(process: process, port: port, log: log)
            }
            usleep(5_000)
        }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
        throw DidNotStart(log: (try? String(contentsOfFile: log, encoding: .utf8)) ?? "")
    }

    /// The log written so far.
    var logText: String { (try? String(contentsOfFile: log, encoding: .utf8)) ?? "" }

    /// Sends `signal` if the server still runs.
    func signal(_ signal: Int32) {
        if process.isRunning { kill(process.processIdentifier, signal) }
    }

    /// Sends `signal` (SIGTERM: a clean stop, SIGKILL: a crash) and waits for the exit.
    func stop(_ signal: Int32 = SIGTERM) {
        self.signal(signal)
        process.waitUntilExit()
    }
}

/// The data directory a served-hub test starts from: `ihub init`, each partner's certificate
/// (`identity(of:)`) and policy file, and optionally a seed feed ingested as source `seed`.
struct ServeDirectory {
    /// A bank partner's policy that lets `name` ask about IPv4 addresses and domains and
    /// reveals nothing but hit or miss (the serve tests' plain partner).
    static func plainBankPolicy(_ name: String) -> String {
        """
        {
          "partner": "\(name)", "role": "bank", "version": 1,
          "types": ["ipv4", "domain"], "categories": ["unspecified", "phishing"],
          "purposes": ["payment-screening"], "legal_bases": ["gdpr-6-1-f"],
          "required_fields": ["purpose", "legal_basis", "reference"], "reveal": [], "max_batch": 100,
          "rate": { "per_second": 1000, "burst": 1000 }, "daily_quota": 100000,
          "tlp_ceiling": "red", "priorities": ["routine"]
        }

        """
    }

    let temp: TemporaryDirectory
    var data: String { temp.path + "/data" }
    var policies: String { temp.path + "/policies" }
    func identity(of partner: String) -> String { temp.path + "/" + partner + "-id" }

    struct SetupFailed: Error, CustomStringConvertible {
        var step: String
        var output: String
        var description: String { "\(step) failed: \(output)" }
    }

    /// `partners`: name, role and the policy file's text of each.
    init(_ temp: TemporaryDirectory, partners: [(name: String, role: String, policy: String)], seed: String? = nil) throws {
        self.temp = temp
        var steps = [["init", data]]
        steps += partners.map { ["partner", "add", $0.name, "--role", $0.role, "--data", data, "--out", identity(of: $0.name)] }
        if let seed { steps.append(["ingest", "--data", data, "--source", "seed", try temp.file("seed.txt", seed)]) }
        for step in steps {
            let result = try Ihub.run(step)
            guard result.status == 0 else { throw SetupFailed(step: "ihub " + step.joined(separator: " "), output: result.stderr) }
        }
        try FileManager.default.createDirectory(atPath: policies, withIntermediateDirectories: true)
        for partner in partners { _ = try temp.file("policies/\(partner.name).json", partner.policy) }
    }
}
