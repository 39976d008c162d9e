import Foundation
import Glibc
import HubPOSIX

/// Writes the metrics file (`--metrics-file`) every interval from a thread of its own, and once
/// more when the server stops cleanly (docs/OPERATIONS.md, "Metrics"). Each write replaces the
/// file atomically (`POSIX.writeFileAtomically`: `PATH.tmp-<pid>` in the same directory, mode
/// 0644, renamed over `PATH`), so node_exporter's textfile collector reads the old file or the
/// new one, never half of one. Not durable (no `fsync`): a metrics file lost in a power cut is
/// rewritten one interval after the restart, and a flush every few seconds would cost the disk
/// for nothing.
///
/// A failed write (disk full, directory removed) never stops the server: it is logged once
/// per streak of failures (`event=metrics_write_failed`), and the first success after a
/// streak is logged too (`event=metrics_write_recovered`).
final class MetricsWriter: @unchecked Sendable {
    let path: String
    let interval: Double
    private let log: ServerLog
    private let render: @Sendable () -> String
    private let condition = NSCondition()
    // Guarded by `condition`:
    private var stopping = false
    private var exited = false
    private var failing = false
    private var successes = 0
    private var failures = 0

    init(path: String, interval: Double, log: ServerLog, render: @escaping @Sendable () -> String) {
        self.path = path
        self.interval = interval
        self.log = log
        self.render = render
    }

    /// `PATH.tmp-<pid>` (`POSIX.temporaryPath`): beside `path` and not ending in `.prom`, so
    /// the collector ignores it.
    var temporaryPath: String { POSIX.temporaryPath(for: path) }

    /// Checks at startup that `path` can be written as the writer will: its directory exists,
    /// is a directory, and a file can be created in it; `path` itself is not a directory.
    /// Throws the reason, naming what is wrong.
    static func check(_ path: String) throws(ServerConfigurationError) {
        func fail(_ reason: String) -> ServerConfigurationError {
            ServerConfigurationError(path: path, reason: "--metrics-file: " + reason)
        }
        guard !path.isEmpty, !path.hasSuffix("/") else { throw fail("not a file path") }
        let directory = path.contains("/") ? String(path[..<path.lastIndex(of: "/")!]) : "."
        let parent = directory.isEmpty ? "/" : directory
        var info = stat()
        guard stat(parent, &info) == 0 else {
            let code = errno
            throw fail(code == ENOENT ? "directory \(parent) does not exist" : "stat(\(parent)): \(POSIX.message(code))")
        }
        guard info.st_mode & S_IFMT == S_IFDIR else { throw fail("\(parent) is not a directory") }
        if stat(path, &info) == 0 && info.st_mode & S_IFMT == S_IFDIR { throw fail("\(path) is a directory") }
        let probe = POSIX.temporaryPath(for: path)
        let fd = open(probe, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            throw fail("directory \(parent) is not writable: open(\(probe)): \(POSIX.message(errno))")
        }
        close(fd)
        unlink(probe)
    }

    /// Starts the thread: a write every `interval` seconds until `stop()`.
    func start() {
        let thread = Thread { [self] in self.run() }
        thread.name = "metrics-writer"
        thread.start()
    }

    /// Stops the thread (waiting for a write in progress), then writes the final file.
    func stop() {
        condition.lock()
        stopping = true
        condition.broadcast()
        while !exited { condition.wait() }
        condition.unlock()
        writeNow()
    }

    /// Writes completed and failed so far (for tests).
    var writes: (succeeded: Int, failed: Int) { condition.withLock { (successes, failures) } }

    private func run() {
        condition.lock()
        while !stopping {
            _ = condition.wait(until: Date(timeIntervalSinceNow: interval))
            if stopping { break }
            condition.unlock()
            writeNow()
            condition.lock()
        }
        exited = true
        condition.broadcast()
        condition.unlock()
    }

    /// Renders and replaces the file; a failure is logged at the start of a streak.
    @discardableResult
    func writeNow() -> Bool {
        let text = render()
        var failure: String?
        do {
            try POSIX.writeFileAtomically(path, Array(text.utf8), mode: 0o644, durable: false)
        } catch {
            failure = error.description
        }
        condition.lock()
        let wasFailing = failing
        failing = failure != nil
        if failure == nil { successes += 1 } else { failures += 1 }
        condition.unlock()
        if let failure, !wasFailing {
            log.error("metrics_write_failed", [("path", path), ("error", failure)])
        } else if failure == nil && wasFailing {
            log.info("metrics_write_recovered", [("path", path)])
        }
        return failure == nil
    }
}
