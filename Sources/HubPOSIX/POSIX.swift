package import Glibc

/// A failed system call: which call, on what, and `errno`. Modules wrap it in their own error
/// enums (`StoreError.system`, `AuditError.system`, `PKIError.system`); its description reads
/// like Redis's `anet.c`: `open(/var/hub/store.snap): permission denied`.
package struct SystemCallError: Error, Equatable, Sendable, CustomStringConvertible {
    package var operation: String
    package var path: String
    package var errno: Int32

    package init(operation: String, path: String, errno: Int32) {
        self.operation = operation
        self.path = path
        self.errno = errno
    }

    package var description: String { "\(operation)(\(path)): \(POSIX.message(errno))" }
}

/// The file-system calls the hub's modules share: one thin wrapper per call, `-1` turned into
/// a `SystemCallError`, `EINTR` retried, descriptors opened close-on-exec. Crash-safe writes
/// follow cdbmake: temporary file, `fsync`, `rename`, `fsync` of the directory.
package enum POSIX {
    /// Runs `call` until it does not fail with `EINTR`; `-1` becomes an error.
    @inline(__always)
    package static func retrying<T: BinaryInteger>(_ operation: String, _ path: String, _ call: () -> T)
        throws(SystemCallError) -> T
    {
        while true {
            let result = call()
            if result != -1 { return result }
            let code = Glibc.errno
            if code == EINTR { continue }
            throw SystemCallError(operation: operation, path: path, errno: code)
        }
    }

    /// Four octal digits of the permission bits of `mode`: `0644`.
    package static func modeText<Mode: BinaryInteger>(_ mode: Mode) -> String {
        let digits = String(mode & 0o7777, radix: 8)
        return String(repeating: "0", count: max(0, 4 - digits.count)) + digits
    }

    /// `strerror(3)` in lower case.
    package static func message(_ code: Int32) -> String {
        guard let text = strerror(code) else { return "errno \(code)" }
        let message = String(cString: text)
        guard let first = message.first else { return "errno \(code)" }
        return first.lowercased() + message.dropFirst()
    }

    /// `open(2)`, always with `O_CLOEXEC`.
    package static func open(_ path: String, _ flags: Int32, mode: mode_t = 0) throws(SystemCallError) -> Int32 {
        try retrying("open", path) { Glibc.open(path, flags | O_CLOEXEC, mode) }
    }

    /// `close(2)`; errors are ignored (the descriptor is gone either way; durability comes
    /// from `fsync`).
    package static func close(_ fd: Int32) {
        _ = Glibc.close(fd)
    }

    /// `fstat(2)`: the size of an open file.
    package static func fileSize(_ fd: Int32, path: String) throws(SystemCallError) -> Int {
        var info = stat()
        _ = try retrying("fstat", path) { fstat(fd, &info) }
        return Int(info.st_size)
    }

    /// The permission bits of `path`.
    package static func fileMode(_ path: String) throws(SystemCallError) -> mode_t {
        let fd = try open(path, O_RDONLY)
        defer { close(fd) }
        var info = stat()
        _ = try retrying("fstat", path) { fstat(fd, &info) }
        return info.st_mode & 0o7777
    }

    /// `stat(2)` (symbolic links followed): the permission bits of `path` and whether it is a
    /// directory, or nil when it cannot be stat'ed (missing, or a parent not searchable). Needs
    /// no read permission on `path` itself, so it can judge a file its owner cannot read.
    package static func status(_ path: String) -> (mode: mode_t, isDirectory: Bool)? {
        var info = stat()
        while stat(path, &info) != 0 {
            guard Glibc.errno == EINTR else { return nil }
        }
        return (info.st_mode & 0o7777, info.st_mode & S_IFMT == S_IFDIR)
    }

    /// Whether anything exists at `path`.
    package static func exists(_ path: String) -> Bool {
        Glibc.access(path, F_OK) == 0
    }

    /// What `makeDirectory` does when `path` already exists.
    package enum Existing: Sendable {
        /// Fail with `EEXIST`.
        case refuse
        /// Accept an existing directory (anything else: `ENOTDIR`).
        case accept
        /// Accept an existing *empty* directory (and set its mode).
        case acceptIfEmpty
    }

    /// `mkdir(2)` with `mode`.
    package static func makeDirectory(_ path: String, mode: mode_t, existing: Existing) throws(SystemCallError) {
        if Glibc.mkdir(path, mode) == 0 { return }
        let code = Glibc.errno
        guard code == EEXIST, existing != .refuse else {
            throw SystemCallError(operation: "mkdir", path: path, errno: code)
        }
        guard let names = try? listDirectory(path) else {
            throw SystemCallError(operation: "mkdir", path: path, errno: ENOTDIR)
        }
        if existing == .acceptIfEmpty {
            guard names.isEmpty else { throw SystemCallError(operation: "mkdir", path: path, errno: EEXIST) }
            _ = try retrying("chmod", path) { Glibc.chmod(path, mode) }
        }
    }

    /// The names in directory `path`, without `.` and `..`, in directory order.
    package static func listDirectory(_ path: String) throws(SystemCallError) -> [String] {
        guard let handle = opendir(path) else {
            throw SystemCallError(operation: "opendir", path: path, errno: Glibc.errno)
        }
        defer { closedir(handle) }
        var names: [String] = []
        while let entry = readdir(handle) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }

    /// The whole file at `path`, read into one buffer of its size (no intermediate copies,
    /// so key files leave nothing behind); `EFBIG` when it is larger than `limit` bytes. A file
    /// whose size reads 0 (a `/proc` file such as `/proc/locks`) is read to its end in chunks.
    package static func readFile(_ path: String, limit: Int) throws(SystemCallError) -> [UInt8] {
        let fd = try open(path, O_RDONLY)
        defer { close(fd) }
        let size = try fileSize(fd, path: path)
        guard size <= limit else { throw SystemCallError(operation: "read", path: path, errno: EFBIG) }
        if size == 0 { return try readToEnd(fd, path: path, limit: limit) }
        var bytes = [UInt8](repeating: 0, count: size)
        var done = 0
        var failure: SystemCallError?
        bytes.withUnsafeMutableBytes { raw in
            do throws(SystemCallError) {
                while done < size {
                    let count = try retrying("read", path) { Glibc.read(fd, raw.baseAddress! + done, size - done) }
                    if count == 0 { break }  // the file shrank while we read it
                    done += count
                }
            } catch {
                failure = error
            }
        }
        if let failure { throw failure }
        bytes.removeLast(size - done)
        return bytes
    }

    /// `fd` read until end of file, for a file whose size says nothing (`/proc` files report 0,
    /// an empty file reads as such); more than `limit` bytes is `EFBIG`.
    private static func readToEnd(_ fd: Int32, path: String, limit: Int) throws(SystemCallError) -> [UInt8] {
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 << 10)
        while true {
            let count = try chunk.withUnsafeMutableBytes { raw in
                Result { () throws(SystemCallError) in try retrying("read", path) { Glibc.read(fd, raw.baseAddress!, raw.count) } }
            }.get()
            if count == 0 { return bytes }
            guard bytes.count <= limit - count else { throw SystemCallError(operation: "read", path: path, errno: EFBIG) }
            bytes += chunk[..<count]
        }
    }

    /// `pwrite(2)` of all of `bytes` at `offset` (short writes continue).
    package static func write(_ fd: Int32, _ bytes: UnsafeRawBufferPointer, at offset: Int, path: String)
        throws(SystemCallError)
    {
        var done = 0
        while done < bytes.count {
            let count = try retrying("write", path) {
                pwrite(fd, bytes.baseAddress! + done, bytes.count - done, off_t(offset + done))
            }
            if count == 0 { throw SystemCallError(operation: "write", path: path, errno: EIO) }
            done += count
        }
    }

    /// `write(2)` of all of `bytes` at the file position (an `O_APPEND` descriptor appends).
    package static func append(_ fd: Int32, _ bytes: UnsafeRawBufferPointer, path: String) throws(SystemCallError) {
        var done = 0
        while done < bytes.count {
            let count = try retrying("write", path) { Glibc.write(fd, bytes.baseAddress! + done, bytes.count - done) }
            if count == 0 { throw SystemCallError(operation: "write", path: path, errno: EIO) }
            done += count
        }
    }

    package static func fsync(_ fd: Int32, path: String) throws(SystemCallError) {
        _ = try retrying("fsync", path) { Glibc.fsync(fd) }
    }

    package static func fdatasync(_ fd: Int32, path: String) throws(SystemCallError) {
        _ = try retrying("fdatasync", path) { Glibc.fdatasync(fd) }
    }

    /// `ftruncate(2)` of an open file.
    package static func truncate(_ fd: Int32, to size: Int, path: String) throws(SystemCallError) {
        _ = try retrying("ftruncate", path) { ftruncate(fd, off_t(size)) }
    }

    /// `truncate(2)` of a file by path.
    package static func truncate(_ path: String, to size: Int) throws(SystemCallError) {
        _ = try retrying("truncate", path) { Glibc.truncate(path, off_t(size)) }
    }

    /// `rename(2)`: atomic replacement within one file system.
    package static func rename(_ from: String, to: String) throws(SystemCallError) {
        _ = try retrying("rename", to) { Glibc.rename(from, to) }
    }

    /// `unlink(2)`, ignoring failure (cleanup of temporary files).
    package static func unlinkQuietly(_ path: String) {
        _ = Glibc.unlink(path)
    }

    /// Opens directory `path` and `fsync`s it, so a completed `rename` or a new file survives
    /// a crash.
    package static func fsyncDirectory(_ path: String) throws(SystemCallError) {
        let fd = try open(path, O_RDONLY | O_DIRECTORY)
        defer { close(fd) }
        try fsync(fd, path: path)
    }

    /// The directory part of `path` (`.` when there is none).
    package static func directory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }

    /// Replaces `path` with `bytes` crash-safely: a temporary file beside it created with
    /// `mode` from the start (and `fchmod`ed to exactly `mode`, whatever the umask), written,
    /// `fsync`ed, renamed over `path`, and the directory `fsync`ed. On failure the old file is
    /// untouched and the temporary file removed.
    ///
    /// With `durable` false the two `fsync`s are left out: the replacement is still atomic
    /// for readers, but a crash may lose it (a file rewritten every few seconds, such as the
    /// metrics file, need not cost the disk a flush each time).
    package static func writeFileAtomically(_ path: String, _ bytes: UnsafeRawBufferPointer, mode: mode_t,
                                            durable: Bool = true) throws(SystemCallError)
    {
        let temporary = temporaryPath(for: path)
        unlinkQuietly(temporary)
        let fd = try open(temporary, O_WRONLY | O_CREAT | O_EXCL, mode: mode)
        var installed = false
        defer {
            close(fd)
            if !installed { unlinkQuietly(temporary) }
        }
        try write(fd, bytes, at: 0, path: temporary)
        _ = try retrying("fchmod", temporary) { fchmod(fd, mode) }
        if durable { try fsync(fd, path: temporary) }
        try rename(temporary, to: path)
        installed = true
        if durable { try fsyncDirectory(directory(of: path)) }
    }

    package static func writeFileAtomically(_ path: String, _ bytes: [UInt8], mode: mode_t,
                                            durable: Bool = true) throws(SystemCallError) {
        var failure: SystemCallError?
        bytes.withUnsafeBytes { raw in
            do throws(SystemCallError) { try writeFileAtomically(path, raw, mode: mode, durable: durable) } catch { failure = error }
        }
        if let failure { throw failure }
    }

    /// The temporary file `writeFileAtomically` writes before its rename over `path`:
    /// `PATH.tmp-<pid>`, beside it, so the rename never crosses file systems.
    package static func temporaryPath(for path: String) -> String { path + ".tmp-\(getpid())" }

    /// Opens (creating, mode 0600) `path` and takes `flock(LOCK_EX)` on it, waiting for any
    /// other holder. The lock is released when the returned descriptor is closed.
    package static func lockExclusive(_ path: String) throws(SystemCallError) -> Int32 {
        let fd = try open(path, O_RDWR | O_CREAT, mode: 0o600)
        do {
            _ = try retrying("flock", path) { flock(fd, LOCK_EX) }
        } catch {
            close(fd)
            throw error
        }
        return fd
    }
}
