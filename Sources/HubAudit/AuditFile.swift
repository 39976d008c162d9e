import Glibc

/// The file operations the audit writer needs, one thin wrapper each, `-1` turned into
/// `AuditError.system` with `errno`, `EINTR` retried.
enum AuditFile {
    @inline(__always)
    private static func retrying<T: BinaryInteger>(_ operation: String, _ path: String, _ call: () -> T)
        throws(AuditError) -> T
    {
        while true {
            let result = call()
            if result != -1 { return result }
            let code = errno
            if code == EINTR { continue }
            throw .system(operation: operation, path: path, errno: code)
        }
    }

    /// `mkdir(2)` mode 0700, succeeding if the directory already exists.
    static func makeDirectory(_ path: String) throws(AuditError) {
        if mkdir(path, 0o700) == 0 || errno == EEXIST { return }
        throw .system(operation: "mkdir", path: path, errno: errno)
    }

    /// Names in a directory (`opendir(3)` / `readdir(3)`).
    static func list(_ path: String) throws(AuditError) -> [String] {
        guard let handle = opendir(path) else { throw .system(operation: "opendir", path: path, errno: errno) }
        defer { closedir(handle) }
        var names: [String] = []
        while let entry = readdir(handle) {
            names.append(withUnsafePointer(to: entry.pointee.d_name) {
                String(cString: UnsafeRawPointer($0).assumingMemoryBound(to: CChar.self))
            })
        }
        return names
    }

    /// Opens a segment for appending (created 0600 if missing).
    static func openAppend(_ path: String) throws(AuditError) -> Int32 {
        try retrying("open", path) { open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o600) }
    }

    static func close(_ fd: Int32) { _ = Glibc.close(fd) }

    /// The whole file.
    static func read(_ path: String) throws(AuditError) -> [UInt8] {
        let fd = try retrying("open", path) { open(path, O_RDONLY | O_CLOEXEC) }
        defer { close(fd) }
        var bytes: [UInt8] = []
        let chunk = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 16, alignment: 16)
        defer { chunk.deallocate() }
        while true {
            let count = try retrying("read", path) { Glibc.read(fd, chunk.baseAddress!, chunk.count) }
            if count == 0 { return bytes }
            bytes.append(contentsOf: UnsafeRawBufferPointer(rebasing: chunk[0..<count]))
        }
    }

    /// `write(2)` of all of `bytes` (short writes continue).
    static func write(_ fd: Int32, _ bytes: [UInt8], path: String) throws(AuditError) {
        var done = 0
        while done < bytes.count {
            let count = try retrying("write", path) {
                bytes.withUnsafeBytes { raw in Glibc.write(fd, raw.baseAddress! + done, raw.count - done) }
            }
            done += count
        }
    }

    static func fdatasync(_ fd: Int32, path: String) throws(AuditError) {
        _ = try retrying("fdatasync", path) { Glibc.fdatasync(fd) }
    }

    /// `truncate(2)` to `size` bytes.
    static func truncate(_ path: String, to size: Int) throws(AuditError) {
        _ = try retrying("truncate", path) { Glibc.truncate(path, off_t(size)) }
    }

    /// Opens the directory and `fsync`s it (a new segment's name survives a crash).
    static func fsyncDirectory(_ path: String) throws(AuditError) {
        let fd = try retrying("open", path) { open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC) }
        defer { close(fd) }
        _ = try retrying("fsync", path) { fsync(fd) }
    }

    static func message(_ code: Int32) -> String {
        guard let text = strerror(code) else { return "errno \(code)" }
        let message = String(cString: text)
        return (message.first?.lowercased() ?? "") + message.dropFirst()
    }
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
