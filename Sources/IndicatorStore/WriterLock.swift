import Synchronization

/// A data directory's writer lock (docs/DATA-DIRECTORY.md, "Writers and readers"):
/// `flock(LOCK_EX | LOCK_NB)` on `DATA/.lock`, held by a `LiveStore` for as long as it is open
/// (a serving hub, `ihub ingest`, `ihub compact`), so two writers never share a store. Taking
/// it never blocks: a second opener is refused with `LiveStoreError.storeInUse`, naming the
/// lock file and the holder's pid, which the holder writes into the file.
final class WriterLock: Sendable {
    let path: String
    /// The descriptor holding the lock; -1 once released.
    private let descriptor: Mutex<Int32>

    private init(path: String, fd: Int32) {
        self.path = path
        self.descriptor = Mutex(fd)
    }

    /// Takes the lock at `path` (creating the file) and records this process's pid in it.
    static func acquire(_ path: String) throws(LiveStoreError) -> WriterLock {
        let taken = try Journal.storeCall { () throws(StoreError) in try Syscalls.tryLockExclusive(path) }
        guard let fd = taken else { throw .storeInUse(lockPath: path, pid: holder(path)) }
        let lock = WriterLock(path: path, fd: fd)
        try Journal.storeCall { () throws(StoreError) in
            try Syscalls.replaceContents(fd, Array("\(Syscalls.processID())\n".utf8), path: path)
        }
        return lock
    }

    /// The pid the lock's holder recorded, if the file names one.
    static func holder(_ path: String) -> Int32? {
        guard let bytes = try? Syscalls.readFile(path, limit: 64) else { return nil }
        let digits = bytes.prefix { $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }
        return Int32(String(decoding: digits, as: UTF8.self)).flatMap { $0 > 0 ? $0 : nil }
    }

    /// Releases the lock (closing the descriptor); later calls do nothing.
    func release() {
        descriptor.withLock { fd in
            guard fd >= 0 else { return }
            Syscalls.close(fd)
            fd = -1
        }
    }

    deinit { release() }
}
