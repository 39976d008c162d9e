import BenchSupport
import Foundation
import Glibc

/// The servers this benchmark starts (`ihub serve`, `redis-server`) as child processes, each
/// with its output in a file. Every exit path of the benchmark stops them (`Children.stopAll`),
/// also on SIGINT/SIGTERM.
final class Child {
    let name: String
    let process: Process
    let logPath: String

    /// Starts `executable` with `arguments`; stdout and stderr go to `logPath`.
    init(name: String, executable: String, arguments: [String], logPath: String) throws(BenchFailure) {
        self.name = name
        self.logPath = logPath
        _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        guard let log = FileHandle(forWritingAtPath: logPath) else { throw BenchFailure("cannot write \(logPath)") }
        process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.standardOutput = log
        process.standardError = log
        process.standardInput = FileHandle.nullDevice
        do { try process.run() } catch { throw BenchFailure("cannot start \(executable): \(error)") }
        Children.register(process.processIdentifier)
    }

    var pid: Int32 { process.processIdentifier }

    /// The log so far (for error messages).
    var log: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

    /// Waits until the log holds a line starting with `prefix`; returns the rest of that line.
    func waitForLine(startingWith prefix: String, seconds: Double) throws(BenchFailure) -> String {
        let deadline = monotonicNow() + seconds
        while monotonicNow() < deadline {
            for line in log.split(separator: "\n") where line.hasPrefix(prefix) {
                return String(line.dropFirst(prefix.count))
            }
            guard process.isRunning else { throw BenchFailure("\(name) exited (\(process.terminationStatus)):\n\(log)") }
            usleep(20_000)
        }
        throw BenchFailure("\(name) did not print '\(prefix)' within \(seconds) s:\n\(log)")
    }

    /// SIGTERM, then waits (SIGKILL after 10 s). Returns the exit status.
    @discardableResult
    func stop() -> Int32 {
        guard process.isRunning else { return process.terminationStatus }
        kill(pid, SIGTERM)
        let deadline = monotonicNow() + 10
        while process.isRunning && monotonicNow() < deadline { usleep(10_000) }
        if process.isRunning {
            kill(pid, SIGKILL)
            process.waitUntilExit()
        }
        Children.unregister(pid)
        return process.terminationStatus
    }

    /// User + system CPU seconds the process has used so far (`/proc/PID/stat`).
    func cpuSeconds() -> Double {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = text.lastIndex(of: ")") else { return 0 }
        let fields = text[text.index(after: close)...].split(separator: " ")
        // After the command name: state is field 3, utime 14, stime 15 (1-based in proc(5)).
        guard fields.count > 13, let user = Double(fields[11]), let system = Double(fields[12]) else { return 0 }
        return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }
}

/// The process ids to stop on any exit, also from a signal handler.
enum Children {
    nonisolated(unsafe) static var pids: (Int32, Int32, Int32, Int32) = (0, 0, 0, 0)

    static func register(_ pid: Int32) {
        if pids.0 == 0 { pids.0 = pid } else if pids.1 == 0 { pids.1 = pid } else if pids.2 == 0 { pids.2 = pid } else { pids.3 = pid }
    }

    static func unregister(_ pid: Int32) {
        if pids.0 == pid { pids.0 = 0 }
        if pids.1 == pid { pids.1 = 0 }
        if pids.2 == pid { pids.2 = 0 }
        if pids.3 == pid { pids.3 = 0 }
    }

    /// SIGTERM to every child still registered (async-signal-safe: `kill` only).
    static func signalAll() {
        for pid in [pids.0, pids.1, pids.2, pids.3] where pid > 0 { kill(pid, SIGTERM) }
    }

    /// Stops the children on SIGINT, SIGTERM and SIGHUP, then exits.
    static func installSignalHandlers() {
        for signalNumber in [SIGINT, SIGTERM, SIGHUP] {
            signal(signalNumber) { received in
                Children.signalAll()
                _exit(128 + received)
            }
        }
        signal(SIGPIPE, SIG_IGN)
    }
}

/// Runs a program to completion (`ihub init`, `ihub partner add`); throws with its output when
/// it fails.
func runTool(_ executable: String, _ arguments: [String]) throws(BenchFailure) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = pipe
    do { try process.run() } catch { throw BenchFailure("cannot start \(executable): \(error)") }
    let output = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    guard process.terminationStatus == 0 else {
        throw BenchFailure("\(executable) \(arguments.joined(separator: " ")) exited \(process.terminationStatus):\n"
            + String(decoding: output, as: UTF8.self))
    }
}

/// A loopback TCP port nobody listens on right now (bind to port 0, read it, close).
func freeLoopbackPort() throws(BenchFailure) -> UInt16 {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw BenchFailure("socket: \(String(cString: strerror(errno)))") }
    defer { close(fd) }
    var address = loopback(port: 0)
    let bound = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    guard bound == 0 else { throw BenchFailure("bind: \(String(cString: strerror(errno)))") }
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    _ = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
    }
    return UInt16(bigEndian: address.sin_port)
}

func loopback(port: UInt16) -> sockaddr_in {
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = port.bigEndian
    address.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
    return address
}

/// A blocking TCP connection to 127.0.0.1:`port` with TCP_NODELAY (both clients write whole
/// pipelines at once; Nagle would only add delay to the single-request latency run).
func connectLoopback(port: UInt16) throws(BenchFailure) -> Int32 {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
    guard fd >= 0 else { throw BenchFailure("socket: \(String(cString: strerror(errno)))") }
    var address = loopback(port: port)
    let connected = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    guard connected == 0 else {
        let reason = String(cString: strerror(errno))
        close(fd)
        throw BenchFailure("connect 127.0.0.1:\(port): \(reason)")
    }
    var one: Int32 = 1
    setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
    return fd
}

/// Why the benchmark stopped.
struct BenchFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

func monotonicNow() -> Double { monotonicSeconds() }
