import Glibc
import HubPOSIX

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

    /// `YYYY-MM-DDTHH:MM:SSZ` for Unix seconds (`gmtime_r`).
    static func timestamp(_ seconds: Int64) -> String {
        var time = time_t(seconds)
        var parts = tm()
        guard gmtime_r(&time, &parts) != nil else { return "@\(seconds)" }
        return timestamp(parts)
    }

    static func timestamp(_ parts: tm) -> String {
        func two(_ value: Int32) -> String { value < 10 ? "0\(value)" : "\(value)" }
        return "\(parts.tm_year + 1900)-\(two(parts.tm_mon + 1))-\(two(parts.tm_mday))T"
            + "\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec))Z"
    }

    /// Parses `YYYY-MM-DDTHH:MM:SSZ` back to Unix seconds (`timegm`).
    static func parseTimestamp(_ text: String) -> Int64? {
        let bytes = Array(text.utf8)
        guard bytes.count == 20, bytes[4] == 0x2D, bytes[7] == 0x2D, bytes[10] == 0x54,
              bytes[13] == 0x3A, bytes[16] == 0x3A, bytes[19] == 0x5A else { return nil }
        func number(_ range: Range<Int>) -> Int32? {
            var value: Int32 = 0
            for byte in bytes[range] {
                guard byte >= 0x30 && byte <= 0x39 else { return nil }
                value = value * 10 + Int32(byte - 0x30)
            }
            return value
        }
        guard let year = number(0..<4), let month = number(5..<7), let day = number(8..<10),
              let hour = number(11..<13), let minute = number(14..<16), let second = number(17..<19),
              (1...12).contains(month), (1...31).contains(day), hour < 24, minute < 60, second < 61 else { return nil }
        var parts = tm()
        parts.tm_year = year - 1900
        parts.tm_mon = month - 1
        parts.tm_mday = day
        parts.tm_hour = hour
        parts.tm_min = minute
        parts.tm_sec = second
        return Int64(timegm(&parts))
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
