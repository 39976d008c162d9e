import Glibc
import HubPOSIX

/// The file operations the audit writer needs: HubPOSIX's shared calls with their errors as
/// `AuditError.system`.
enum AuditFile {
    @inline(__always)
    private static func posix<R>(_ body: () throws(SystemCallError) -> R) throws(AuditError) -> R {
        do {
            return try body()
        } catch {
            throw .system(operation: error.operation, path: error.path, errno: error.errno)
        }
    }

    /// `mkdir(2)` mode 0700, succeeding if the directory already exists.
    static func makeDirectory(_ path: String) throws(AuditError) {
        try posix { () throws(SystemCallError) in try POSIX.makeDirectory(path, mode: 0o700, existing: .accept) }
    }

    static func list(_ path: String) throws(AuditError) -> [String] {
        try posix { () throws(SystemCallError) in try POSIX.listDirectory(path) }
    }

    /// Opens a segment for appending (created 0600 if missing).
    static func openAppend(_ path: String) throws(AuditError) -> Int32 {
        try posix { () throws(SystemCallError) in try POSIX.open(path, O_WRONLY | O_APPEND | O_CREAT, mode: 0o600) }
    }

    static func close(_ fd: Int32) { POSIX.close(fd) }

    /// The whole file (segments are at most a little over `AuditFormat.segmentLimit`).
    static func read(_ path: String) throws(AuditError) -> [UInt8] {
        try posix { () throws(SystemCallError) in try POSIX.readFile(path, limit: Int.max) }
    }

    static func write(_ fd: Int32, _ bytes: [UInt8], path: String) throws(AuditError) {
        try posix { () throws(SystemCallError) in
            var failure: SystemCallError?
            bytes.withUnsafeBytes { raw in
                do throws(SystemCallError) { try POSIX.append(fd, raw, path: path) } catch { failure = error }
            }
            if let failure { throw failure }
        }
    }

    static func fdatasync(_ fd: Int32, path: String) throws(AuditError) {
        try posix { () throws(SystemCallError) in try POSIX.fdatasync(fd, path: path) }
    }

    static func truncate(_ path: String, to size: Int) throws(AuditError) {
        try posix { () throws(SystemCallError) in try POSIX.truncate(path, to: size) }
    }

    static func fsyncDirectory(_ path: String) throws(AuditError) {
        try posix { () throws(SystemCallError) in try POSIX.fsyncDirectory(path) }
    }

    static func message(_ code: Int32) -> String { POSIX.message(code) }
}

/// Why the audit log could not be opened or appended to. Every case names the file.
public enum AuditError: Error, Equatable, Sendable, CustomStringConvertible {
    case system(operation: String, path: String, errno: Int32)
    /// The last record of the newest segment cannot be read back (its seq/hash).
    case unreadableTail(path: String, reason: String)
    /// An earlier write failed; the log refuses further appends (no unaudited answers).
    case failed(String)
    /// `close()` was called.
    case closed

    public var description: String {
        switch self {
        case .system(let operation, let path, let errno): "\(operation)(\(path)): \(AuditFile.message(errno))"
        case .unreadableTail(let path, let reason): "\(path): cannot continue the audit chain: \(reason)"
        case .failed(let reason): "audit log stopped after a failed write: \(reason)"
        case .closed: "audit log is closed"
        }
    }
}
