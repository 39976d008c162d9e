import Glibc
import HubPOSIX
import IndicatorKit

/// The file system calls the PKI makes: HubPOSIX's shared calls with their errors as
/// `PKIError.system` naming the call and the path. Writes are crash-safe (temporary file
/// created with its final mode, `fsync`, `rename`, `fsync` of the directory).
enum Files {
    /// Runs a shared POSIX call (HubPOSIX), its `SystemCallError` becoming `PKIError.system`.
    @inline(__always)
    private static func posix<R>(_ body: () throws(SystemCallError) -> R) throws(PKIError) -> R {
        do {
            return try body()
        } catch {
            throw .system(operation: error.operation, path: error.path, errno: error.errno)
        }
    }

    static func message(_ code: Int32) -> String { POSIX.message(code) }

    static func exists(_ path: String) -> Bool { POSIX.exists(path) }

    /// `mkdir(2)` with `mode`; an existing directory is accepted when `allowExisting`.
    static func makeDirectory(_ path: String, mode: mode_t, allowExisting: Bool) throws(PKIError) {
        try posix { () throws(SystemCallError) in
            try POSIX.makeDirectory(path, mode: mode, existing: allowExisting ? .accept : .refuse)
        }
    }

    /// The permission bits of `path`.
    static func mode(_ path: String) throws(PKIError) -> UInt32 {
        UInt32(try posix { () throws(SystemCallError) in try POSIX.fileMode(path) })
    }

    /// Reads a whole file of at most `limit` bytes, in one buffer of its size (key bytes are
    /// never left behind in intermediate buffers).
    static func read(_ path: String, limit: Int = 1 << 20) throws(PKIError) -> [UInt8] {
        try posix { () throws(SystemCallError) in try POSIX.readFile(path, limit: limit) }
    }

    /// Reads a private key file, refusing one that group or others may read.
    static func readKey(_ path: String) throws(PKIError) -> SecretBytes {
        let mode = try mode(path)
        guard mode & 0o077 == 0 else { throw .keyFileMode(path: path, mode: mode) }
        return SecretBytes(taking: try read(path, limit: 64 << 10))
    }

    /// Replaces `path` atomically with `bytes` (temporary file created with `mode` from the
    /// start, `fsync`, `rename`, `fsync` of the directory).
    static func writeAtomically(_ path: String, _ bytes: UnsafeRawBufferPointer, mode: mode_t) throws(PKIError) {
        try posix { () throws(SystemCallError) in try POSIX.writeFileAtomically(path, bytes, mode: mode) }
    }

    static func writeAtomically(_ path: String, _ bytes: [UInt8], mode: mode_t) throws(PKIError) {
        try posix { () throws(SystemCallError) in try POSIX.writeFileAtomically(path, bytes, mode: mode) }
    }

    /// `fsync(2)` of a directory, so a rename in it is durable.
    static func syncDirectory(_ path: String) throws(PKIError) {
        try posix { () throws(SystemCallError) in try POSIX.fsyncDirectory(path) }
    }

    static func directory(of path: String) -> String { POSIX.directory(of: path) }

    /// The names in a directory (no `.` or `..`), sorted.
    static func list(_ path: String) throws(PKIError) -> [String] {
        try posix { () throws(SystemCallError) in try POSIX.listDirectory(path) }.sorted()
    }

    /// Runs `body` holding `flock(LOCK_EX)` on `path` (created 0600), serialising PKI writers.
    static func withLock<R>(_ path: String, _ body: () throws(PKIError) -> R) throws(PKIError) -> R {
        let fd = try posix { () throws(SystemCallError) in try POSIX.lockExclusive(path) }
        defer { POSIX.close(fd) }
        return try body()
    }

    /// `CLOCK_REALTIME` in whole seconds.
    static func now() -> Int64 {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return Int64(now.tv_sec)
    }

    /// `YYYY-MM-DDTHH:MM:SSZ` for Unix seconds.
    static func timestamp(_ seconds: Int64) -> String {
        CivilDate.timestamp(seconds: Int(seconds))
    }

    /// Parses `YYYY-MM-DDTHH:MM:SSZ` back to Unix seconds.
    static func parseTimestamp(_ text: String) -> Int64? {
        guard text.utf8.count == 20, let seconds = CivilDate.parseTimestamp(text) else { return nil }
        return Int64(seconds)
    }

    /// The machine's host name (`gethostname(2)`), or nil.
    static func hostName() -> String? {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count - 1) == 0 else { return nil }
        let name = String(decoding: buffer.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return name.isEmpty ? nil : name
    }
}

/// Secret bytes (a private key's PEM text) that are zeroed when freed.
final class SecretBytes {
    private var bytes: [UInt8]

    init(taking bytes: [UInt8]) { self.bytes = bytes }

    func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try bytes.withUnsafeBytes(body)
    }

    deinit {
        bytes.withUnsafeMutableBufferPointer { buffer in
            guard let base = buffer.baseAddress else { return }
            // memset_explicit is not in glibc 2.x everywhere; explicit_bzero is, and is not elided.
            explicit_bzero(base, buffer.count)
        }
    }
}
