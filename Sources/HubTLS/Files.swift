import Glibc

/// The file system calls the PKI makes: one thin wrapper per syscall, `-1` turned into
/// `PKIError.system` naming the call and the path, `EINTR` retried. Writes are crash-safe
/// (temporary file created with its final mode, `fsync`, `rename`, `fsync` of the directory).
enum Files {
    /// `strerror(3)` in lower case, as in `open(/var/hub/tls/ca.key): permission denied`.
    static func message(_ code: Int32) -> String {
        guard let text = strerror(code) else { return "errno \(code)" }
        let message = String(cString: text)
        guard let first = message.first else { return "errno \(code)" }
        return first.lowercased() + message.dropFirst()
    }

    static func exists(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0
    }

    /// `mkdir(2)` with `mode`; an existing directory is accepted when `allowExisting`.
    static func makeDirectory(_ path: String, mode: mode_t, allowExisting: Bool) throws(PKIError) {
        if mkdir(path, mode) == 0 { return }
        let code = errno
        if code == EEXIST && allowExisting {
            var info = stat()
            if stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR { return }
            throw .system(operation: "mkdir", path: path, errno: ENOTDIR)
        }
        throw .system(operation: "mkdir", path: path, errno: code)
    }

    /// The permission bits of `path` (`stat(2)`).
    static func mode(_ path: String) throws(PKIError) -> UInt32 {
        var info = stat()
        guard stat(path, &info) == 0 else { throw .system(operation: "stat", path: path, errno: errno) }
        return UInt32(info.st_mode & 0o7777)
    }

    /// Reads a whole file of at most `limit` bytes.
    static func read(_ path: String, limit: Int = 1 << 20) throws(PKIError) -> [UInt8] {
        let fd = try open(path, O_RDONLY, mode: 0)
        defer { Glibc.close(fd) }
        var bytes: [UInt8] = []
        // Reserved up front so a key's bytes are never left behind in a reallocated buffer.
        bytes.reserveCapacity(min(limit, 64 << 10))
        var chunk = [UInt8](repeating: 0, count: 16384)
        defer { chunk.withUnsafeMutableBufferPointer { $0.update(repeating: 0) } }
        while true {
            let count = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress!, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                throw .system(operation: "read", path: path, errno: errno)
            }
            if count == 0 { return bytes }
            guard bytes.count <= limit - count else {
                bytes.withUnsafeMutableBufferPointer { $0.update(repeating: 0) }
                throw .corrupt(path: path, line: nil, reason: "larger than \(limit) bytes")
            }
            bytes.append(contentsOf: chunk[0..<count])
        }
    }

    /// Reads a private key file, refusing one that group or others may read.
    static func readKey(_ path: String) throws(PKIError) -> SecretBytes {
        let mode = try mode(path)
        guard mode & 0o077 == 0 else { throw .keyFileMode(path: path, mode: mode) }
        return SecretBytes(taking: try read(path, limit: 64 << 10))
    }

    /// Replaces `path` atomically with `bytes`: a temporary file beside it, created with `mode`
    /// from the start (never briefly readable by others), written, `fsync`ed, renamed over
    /// `path`, and the directory `fsync`ed.
    static func writeAtomically(_ path: String, _ bytes: UnsafeRawBufferPointer, mode: mode_t) throws(PKIError) {
        let temporary = path + ".tmp-\(getpid())"
        unlink(temporary)
        let fd = try open(temporary, O_WRONLY | O_CREAT | O_EXCL, mode: mode)
        var installed = false
        defer {
            Glibc.close(fd)
            if !installed { unlink(temporary) }
        }
        var offset = 0
        while offset < bytes.count {
            let written = Glibc.write(fd, bytes.baseAddress! + offset, bytes.count - offset)
            if written < 0 {
                if errno == EINTR { continue }
                throw .system(operation: "write", path: temporary, errno: errno)
            }
            offset += written
        }
        // The mode given to open(2) is reduced by the umask; make it exact (never wider).
        guard fchmod(fd, mode) == 0 else { throw .system(operation: "fchmod", path: temporary, errno: errno) }
        guard fsync(fd) == 0 else { throw .system(operation: "fsync", path: temporary, errno: errno) }
        guard rename(temporary, path) == 0 else { throw .system(operation: "rename", path: path, errno: errno) }
        installed = true
        try syncDirectory(directory(of: path))
    }

    static func writeAtomically(_ path: String, _ bytes: [UInt8], mode: mode_t) throws(PKIError) {
        var failure: PKIError?
        bytes.withUnsafeBytes { raw in
            do throws(PKIError) { try writeAtomically(path, raw, mode: mode) } catch { failure = error }
        }
        if let failure { throw failure }
    }

    /// `fsync(2)` of a directory, so a rename in it is durable.
    static func syncDirectory(_ path: String) throws(PKIError) {
        let fd = try open(path, O_RDONLY | O_DIRECTORY, mode: 0)
        defer { Glibc.close(fd) }
        guard fsync(fd) == 0 else { throw .system(operation: "fsync", path: path, errno: errno) }
    }

    static func directory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }

    /// The names in a directory (no `.` or `..`).
    static func list(_ path: String) throws(PKIError) -> [String] {
        guard let dir = opendir(path) else { throw .system(operation: "opendir", path: path, errno: errno) }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names.sorted()
    }

    /// Runs `body` holding `flock(LOCK_EX)` on `path` (created 0600), serialising PKI writers.
    static func withLock<R>(_ path: String, _ body: () throws(PKIError) -> R) throws(PKIError) -> R {
        let fd = try open(path, O_RDWR | O_CREAT, mode: 0o600)
        defer { Glibc.close(fd) }
        while flock(fd, LOCK_EX) != 0 {
            if errno == EINTR { continue }
            throw .system(operation: "flock", path: path, errno: errno)
        }
        return try body()
    }

    /// `open(2)` with `O_CLOEXEC`, retrying on `EINTR`.
    private static func open(_ path: String, _ flags: Int32, mode: mode_t) throws(PKIError) -> Int32 {
        while true {
            let fd = Glibc.open(path, flags | O_CLOEXEC, mode)
            if fd >= 0 { return fd }
            if errno == EINTR { continue }
            throw .system(operation: "open", path: path, errno: errno)
        }
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
