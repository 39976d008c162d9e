import Glibc

/// The only file in IndicatorStore that calls the C library for I/O: one thin wrapper per
/// system call (named after it), `-1` turned into `StoreError.system` with `errno`, `EINTR`
/// retried. Everything above works with these and never sees `errno`.
enum Syscalls {
    /// Runs `call` until it does not fail with `EINTR`; `-1` becomes a typed error.
    @inline(__always)
    fileprivate static func retrying<T: BinaryInteger>(
        _ operation: String, _ path: String, _ call: () -> T
    ) throws(StoreError) -> T {
        while true {
            let result = call()
            if result != -1 { return result }
            let code = errno
            if code == EINTR { continue }
            throw .system(operation: operation, path: path, errno: code)
        }
    }

    /// `open(2)`; always with `O_CLOEXEC`.
    static func open(_ path: String, _ flags: Int32, mode: mode_t = 0) throws(StoreError) -> Int32 {
        try retrying("open", path) { Glibc.open(path, flags | O_CLOEXEC, mode) }
    }

    /// `close(2)`. Errors are ignored on purpose: after close the descriptor is gone either way,
    /// and the durability that matters was established by `fsync`.
    static func close(_ fd: Int32) {
        _ = Glibc.close(fd)
    }

    /// `fstat(2)`: the file's size in bytes.
    static func fileSize(_ fd: Int32, path: String) throws(StoreError) -> Int {
        var info = stat()
        _ = try retrying("fstat", path) { fstat(fd, &info) }
        return Int(info.st_size)
    }

    /// `ftruncate(2)`.
    static func truncate(_ fd: Int32, to size: Int, path: String) throws(StoreError) {
        _ = try retrying("ftruncate", path) { ftruncate(fd, off_t(size)) }
    }

    /// `pwrite(2)` of the whole buffer (short writes continue).
    static func write(
        _ fd: Int32, _ bytes: UnsafeRawBufferPointer, at offset: Int, path: String
    ) throws(StoreError) {
        var done = 0
        while done < bytes.count {
            let count = try retrying("write", path) {
                pwrite(fd, bytes.baseAddress! + done, bytes.count - done, off_t(offset + done))
            }
            if count == 0 { throw .system(operation: "write", path: path, errno: EIO) }
            done += count
        }
    }

    /// `mmap(2)` of `length` bytes of `fd` from offset 0 (or anonymous memory when `fd` is -1).
    static func mmap(
        length: Int, protection: Int32, flags: Int32, fd: Int32, path: String
    ) throws(StoreError) -> UnsafeMutableRawPointer {
        guard let address = Glibc.mmap(nil, length, protection, flags, fd, 0),
            address != MAP_FAILED
        else {
            throw .system(operation: "mmap", path: path, errno: errno)
        }
        return address
    }

    /// `munmap(2)`; failing means the arguments were wrong, a programmer error.
    static func munmap(_ address: UnsafeMutableRawPointer, length: Int) {
        let result = Glibc.munmap(address, length)
        precondition(result == 0, "munmap failed: \(message(errno))")
    }

    /// `madvise(2)`; advice is a hint, so failures are reported and may be ignored by the caller.
    @discardableResult
    static func madvise(
        _ address: UnsafeMutableRawPointer, length: Int, advice: Int32
    ) -> Bool {
        Glibc.madvise(address, length, advice) == 0
    }

    /// `fsync(2)`.
    static func fsync(_ fd: Int32, path: String) throws(StoreError) {
        _ = try retrying("fsync", path) { Glibc.fsync(fd) }
    }

    /// `rename(2)`: atomic replacement of `to` within one file system.
    static func rename(_ from: String, to: String) throws(StoreError) {
        _ = try retrying("rename", to) { Glibc.rename(from, to) }
    }

    /// `unlink(2)`, ignoring failure (used to clean up temporary files).
    static func unlinkQuietly(_ path: String) {
        _ = Glibc.unlink(path)
    }

    /// Opens the directory `path` and `fsync`s it, so a completed `rename` survives a crash.
    static func fsyncDirectory(_ path: String) throws(StoreError) {
        let fd = try open(path, O_RDONLY | O_DIRECTORY)
        defer { close(fd) }
        try fsync(fd, path: path)
    }

    /// `mkdir(2)` with `mode`. With `allowExistingEmpty`, an existing empty directory is
    /// accepted (and its mode set); anything else already at `path` is refused.
    static func makeDirectory(_ path: String, mode: mode_t, allowExistingEmpty: Bool) throws(StoreError) {
        if Glibc.mkdir(path, mode) == 0 { return }
        let code = errno
        guard code == EEXIST, allowExistingEmpty else {
            throw .system(operation: "mkdir", path: path, errno: code)
        }
        guard let entries = try? listDirectory(path), entries.isEmpty else {
            throw .system(operation: "mkdir", path: path, errno: EEXIST)
        }
        _ = try retrying("chmod", path) { Glibc.chmod(path, mode) }
    }

    /// Names in directory `path` (without `.` and `..`), via `opendir(3)` / `readdir(3)`.
    static func listDirectory(_ path: String) throws(StoreError) -> [String] {
        guard let handle = opendir(path) else { throw .system(operation: "opendir", path: path, errno: errno) }
        defer { closedir(handle) }
        var names: [String] = []
        while let entry = readdir(handle) {
            let name = withUnsafePointer(to: entry.pointee.d_name) {
                String(cString: UnsafeRawPointer($0).assumingMemoryBound(to: CChar.self))
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }

    /// Whether anything exists at `path` (`access(2)` with `F_OK`).
    static func exists(_ path: String) -> Bool {
        Glibc.access(path, F_OK) == 0
    }

    /// `stat(2)`: the permission bits of `path`.
    static func fileMode(_ path: String) throws(StoreError) -> mode_t {
        let fd = try open(path, O_RDONLY)
        defer { close(fd) }
        var info = stat()
        _ = try retrying("fstat", path) { fstat(fd, &info) }
        return info.st_mode & 0o7777
    }

    /// The whole file at `path` (`open` + `read`), refusing files larger than `limit` bytes.
    static func readFile(_ path: String, limit: Int) throws(StoreError) -> [UInt8] {
        let fd = try open(path, O_RDONLY)
        defer { close(fd) }
        let size = try fileSize(fd, path: path)
        guard size <= limit else { throw .system(operation: "read", path: path, errno: EFBIG) }
        var bytes = [UInt8](repeating: 0, count: size)
        var done = 0
        var failure: StoreError?
        bytes.withUnsafeMutableBytes { raw in
            do throws(StoreError) {
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

    /// Replaces the file at `path` with `bytes` crash-safely: a temporary file (mode `mode`)
    /// in the same directory, `fsync`, `rename`, `fsync` of the directory.
    static func writeFileAtomically(_ path: String, _ bytes: [UInt8], mode: mode_t) throws(StoreError) {
        let temporary = path + ".tmp-\(processID())"
        unlinkQuietly(temporary)
        let fd = try open(temporary, O_WRONLY | createExclusive, mode: mode)
        var installed = false
        defer {
            close(fd)
            if !installed { unlinkQuietly(temporary) }
        }
        var failure: StoreError?
        bytes.withUnsafeBytes { raw in
            do throws(StoreError) {
                if raw.count > 0 { try write(fd, raw, at: 0, path: temporary) }
            } catch {
                failure = error
            }
        }
        if let failure { throw failure }
        try fsync(fd, path: temporary)
        try rename(temporary, to: path)
        installed = true
        try fsyncDirectory(AtomicFile.directory(of: path))
    }

    /// Opens (creating, mode 0600) `path` and takes `flock(LOCK_EX)` on it, waiting for any
    /// other holder. The lock is released when the returned descriptor is closed.
    static func lockExclusive(_ path: String) throws(StoreError) -> Int32 {
        let fd = try open(path, O_RDWR | O_CREAT, mode: 0o600)
        while flock(fd, LOCK_EX) != 0 {
            let code = errno
            if code == EINTR { continue }
            close(fd)
            throw .system(operation: "flock", path: path, errno: code)
        }
        return fd
    }

    /// The process id (names temporary files).
    static func processID() -> Int32 { getpid() }

    /// `CLOCK_REALTIME` in whole seconds.
    static func unixTime() -> UInt64 {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return UInt64(max(0, now.tv_sec))
    }

    /// `strerror(3)` in lower case, as in `open(/var/hub/store.snap): permission denied`.
    static func message(_ code: Int32) -> String {
        guard let text = strerror(code) else { return "errno \(code)" }
        let message = String(cString: text)
        guard let first = message.first else { return "errno \(code)" }
        return first.lowercased() + message.dropFirst()
    }

    // Flag values re-exported so no other file imports Glibc.
    static let readOnly = O_RDONLY
    static let readWrite = O_RDWR
    static let createExclusive = O_CREAT | O_EXCL
    static let protRead = PROT_READ
    static let protReadWrite = PROT_READ | PROT_WRITE
    static let mapShared = MAP_SHARED
    static let mapPrivate = MAP_PRIVATE
    static let mapAnonymous = MAP_ANONYMOUS | MAP_PRIVATE
    static let mapPopulate = MAP_POPULATE
    static let adviceRandom = MADV_RANDOM
    static let adviceHugePage = MADV_HUGEPAGE
    static let adviceWillNeed = MADV_WILLNEED
    static let pageSize = Int(sysconf(Int32(_SC_PAGESIZE)))
}

extension Syscalls {
    /// `pread(2)` until `buffer` is full; a file shorter than the buffer is a truncation.
    static func read(_ fd: Int32, into buffer: UnsafeMutableRawBufferPointer, path: String) throws(StoreError) {
        var done = 0
        while done < buffer.count {
            let count = try retrying("read", path) {
                pread(fd, buffer.baseAddress! + done, min(buffer.count - done, 1 << 30), off_t(done))
            }
            if count == 0 { throw .truncated(path: path, expected: buffer.count, actual: done) }
            done += count
        }
    }
}

extension Syscalls {
    /// `CLOCK_REALTIME` in nanoseconds (names temporary files uniquely).
    static func unixNanoseconds() -> UInt64 {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return UInt64(max(0, now.tv_sec)) &* 1_000_000_000 &+ UInt64(max(0, now.tv_nsec))
    }
}
