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

/// Whether a writer holds a data directory's lock right now, as a reader finds it without
/// touching the lock (`DataDirectory.writerLockState()`, docs/DATA-DIRECTORY.md "Readers").
public enum WriterLockState: Sendable, Equatable {
    /// No process holds the lock (or no writer ever created the lock file).
    case free
    /// An open file description holds `flock` on the lock file: a serving hub, an ingest or a
    /// compaction. `pid` is the holder's as the kernel lists it (nil if it lists none).
    case held(pid: Int32?)
    /// The kernel's list of locks could not be read (`reason`); whether a writer is live is
    /// unknown.
    case unknown(reason: String)
}

extension WriterLock {
    /// The kernel's table of file locks (proc(5), `/proc/locks`).
    static let kernelLocksPath = "/proc/locks"

    /// Whether some open file description holds `flock` on `path`, read from `/proc/locks`:
    /// no lock is taken or tested and no file is opened for writing or created, so a writer is
    /// never refused or delayed by the probe. (Testing with `flock(LOCK_SH | LOCK_NB)` would
    /// hold a shared lock for a moment, during which a starting hub's `LOCK_EX | LOCK_NB` fails
    /// with `storeInUse`; `fcntl(F_GETLK)` / `F_OFD_GETLK` do not see `flock` locks on Linux.)
    ///
    /// A `/proc/locks` line reads `N: FLOCK  ADVISORY  WRITE PID MAJ:MIN:INODE 0 EOF` (device
    /// numbers in hex, the inode in decimal; `N: -> …` lines are waiters, not holders). A line
    /// matches the lock file by device and inode; on file systems whose `stat` device differs
    /// from the superblock's (btrfs subvolumes, some overlays) a line matches by inode when its
    /// pid is the one the holder wrote into the lock file.
    static func probe(_ path: String, locksPath: String = kernelLocksPath) -> WriterLockState {
        let found: (major: UInt64, minor: UInt64, inode: UInt64)?
        do throws(StoreError) { found = try Syscalls.fileIdentity(path) } catch { return .unknown(reason: error.description) }
        guard let identity = found else { return .free }
        let table: [UInt8]
        do throws(StoreError) {
            table = try Syscalls.readFile(locksPath, limit: 16 << 20)
        } catch {
            return .unknown(reason: error.description)
        }
        var byInode: WriterLockState?
        for line in table.split(separator: UInt8(ascii: "\n")) {
            let fields = line.split(separator: UInt8(ascii: " ")).map { String(decoding: $0, as: UTF8.self) }
            // "N:" "FLOCK" "ADVISORY" "WRITE" pid "maj:min:inode" start end
            guard fields.count >= 6, fields[1] == "FLOCK" else { continue }
            let file = fields[5].split(separator: ":")
            guard file.count == 3, let inode = UInt64(file[2]), inode == identity.inode else { continue }
            let pid = Int32(fields[4]).flatMap { $0 > 0 ? $0 : nil }
            if UInt64(file[0], radix: 16) == identity.major && UInt64(file[1], radix: 16) == identity.minor {
                return .held(pid: pid)
            }
            if pid != nil && pid == holder(path) { byInode = .held(pid: pid) }
        }
        return byInode ?? .free
    }
}
