import Glibc
import HubPOSIX

/// The only file in IndicatorStore that calls the C library for I/O: the shared file calls of
/// HubPOSIX with their errors as `StoreError.system`, plus the store's own (`mmap`, `madvise`,
/// `pread`). Everything above works with these and never sees `errno`.
enum Syscalls {
    /// Runs a shared POSIX call (HubPOSIX), its `SystemCallError` becoming `StoreError.system`.
    @inline(__always)
    private static func posix<R>(_ body: () throws(SystemCallError) -> R) throws(StoreError) -> R {
        do {
            return try body()
        } catch {
            throw .system(operation: error.operation, path: error.path, errno: error.errno)
        }
    }

    /// Runs `call` until it does not fail with `EINTR`; `-1` becomes a typed error.
    @inline(__always)
    fileprivate static func retrying<T: BinaryInteger>(
        _ operation: String, _ path: String, _ call: () -> T
    ) throws(StoreError) -> T {
        try posix { () throws(SystemCallError) in try POSIX.retrying(operation, path, call) }
    }

    /// `open(2)`; always with `O_CLOEXEC`.
    static func open(_ path: String, _ flags: Int32, mode: mode_t = 0) throws(StoreError) -> Int32 {
        try posix { () throws(SystemCallError) in try POSIX.open(path, flags, mode: mode) }
    }

    static func close(_ fd: Int32) { POSIX.close(fd) }

    /// `fstat(2)`: the file's size in bytes.
    static func fileSize(_ fd: Int32, path: String) throws(StoreError) -> Int {
        try posix { () throws(SystemCallError) in try POSIX.fileSize(fd, path: path) }
    }

    /// `ftruncate(2)`.
    static func truncate(_ fd: Int32, to size: Int, path: String) throws(StoreError) {
        try posix { () throws(SystemCallError) in try POSIX.truncate(fd, to: size, path: path) }
    }

    /// `pwrite(2)` of the whole buffer (short writes continue).
    static func write(_ fd: Int32, _ bytes: UnsafeRawBufferPointer, at offset: Int, path: String) throws(StoreError) {
        try posix { () throws(SystemCallError) in try POSIX.write(fd, bytes, at: offset, path: path) }
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

    static func fsync(_ fd: Int32, path: String) throws(StoreError) {
        try posix { () throws(SystemCallError) in try POSIX.fsync(fd, path: path) }
    }

    /// `fdatasync(2)`: the journal's durability point (one per group).
    static func fdatasync(_ fd: Int32, path: String) throws(StoreError) {
        try posix { () throws(SystemCallError) in try POSIX.fdatasync(fd, path: path) }
    }

    static func rename(_ from: String, to: String) throws(StoreError) {
        try posix { () throws(SystemCallError) in try POSIX.rename(from, to: to) }
    }

    static func unlinkQuietly(_ path: String) { POSIX.unlinkQuietly(path) }

    static func fsyncDirectory(_ path: String) throws(StoreError) {
        try posix { () throws(SystemCallError) in try POSIX.fsyncDirectory(path) }
    }

    static func makeDirectory(_ path: String, mode: mode_t, existing: POSIX.Existing) throws(StoreError) {
        try posix { () throws(SystemCallError) in try POSIX.makeDirectory(path, mode: mode, existing: existing) }
    }

    static func listDirectory(_ path: String) throws(StoreError) -> [String] {
        try posix { () throws(SystemCallError) in try POSIX.listDirectory(path) }
    }

    static func exists(_ path: String) -> Bool { POSIX.exists(path) }

    static func fileMode(_ path: String) throws(StoreError) -> mode_t {
        try posix { () throws(SystemCallError) in try POSIX.fileMode(path) }
    }

    static func readFile(_ path: String, limit: Int) throws(StoreError) -> [UInt8] {
        try posix { () throws(SystemCallError) in try POSIX.readFile(path, limit: limit) }
    }

    static func writeFileAtomically(_ path: String, _ bytes: [UInt8], mode: mode_t) throws(StoreError) {
        try posix { () throws(SystemCallError) in try POSIX.writeFileAtomically(path, bytes, mode: mode) }
    }

    /// `open(2)` (creating it, mode 0600) and `flock(LOCK_EX | LOCK_NB)` of `path`: the
    /// descriptor holding the lock, or nil when another open file description holds it (another
    /// process, or another opener in this one). Never blocks.
    static func tryLockExclusive(_ path: String) throws(StoreError) -> Int32? {
        let fd = try open(path, O_RDWR | O_CREAT, mode: 0o600)
        while true {
            if flock(fd, LOCK_EX | LOCK_NB) == 0 { return fd }
            let code = errno
            if code == EINTR { continue }
            close(fd)
            if code == EWOULDBLOCK { return nil }
            throw .system(operation: "flock", path: path, errno: code)
        }
    }

    /// Replaces the contents of the (locked) file `fd` with `bytes`: the lock holder's pid.
    static func replaceContents(_ fd: Int32, _ bytes: [UInt8], path: String) throws(StoreError) {
        try truncate(fd, to: 0, path: path)
        var failure: StoreError?
        bytes.withUnsafeBytes { raw in
            do throws(StoreError) { try write(fd, raw, at: 0, path: path) } catch { failure = error }
        }
        if let failure { throw failure }
    }

    /// The process id (names temporary files).
    static func processID() -> Int32 { getpid() }

    /// `CLOCK_REALTIME` in whole seconds.
    static func unixTime() -> UInt64 {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return UInt64(max(0, now.tv_sec))
    }

    static func message(_ code: Int32) -> String { POSIX.message(code) }

    // Flag values re-exported so no other file imports Glibc.
    static let readOnly = O_RDONLY
    static let readWrite = O_RDWR
    static let createExclusive = O_CREAT | O_EXCL
    static let writeOnly = O_WRONLY
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

extension Syscalls {
    /// `stat(2)` of `path`: the device (major, minor) and inode number, as `/proc/locks` names
    /// a locked file; nil when nothing is there. The device number is split the way glibc's
    /// `major(3)` / `minor(3)` split it (Linux's 64-bit `dev_t`).
    static func fileIdentity(_ path: String) throws(StoreError) -> (major: UInt64, minor: UInt64, inode: UInt64)? {
        var info = stat()
        while stat(path, &info) != 0 {
            let code = errno
            if code == EINTR { continue }
            if code == ENOENT { return nil }
            throw .system(operation: "stat", path: path, errno: code)
        }
        let device = UInt64(info.st_dev)
        let major = ((device >> 8) & 0xFFF) | ((device >> 32) & ~0xFFF)
        let minor = (device & 0xFF) | ((device >> 12) & ~0xFF)
        return (major, minor, UInt64(info.st_ino))
    }

    /// Sleeps for `milliseconds` (`nanosleep(2)`, resumed after a signal).
    static func sleep(milliseconds: Int) {
        var request = timespec(tv_sec: milliseconds / 1000, tv_nsec: (milliseconds % 1000) * 1_000_000)
        var remaining = timespec()
        while nanosleep(&request, &remaining) != 0 && errno == EINTR { request = remaining }
    }
}
