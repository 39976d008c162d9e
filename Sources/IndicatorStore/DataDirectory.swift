public import IndicatorKit
import HubPOSIX

/// A hub's data directory (docs/DATA-DIRECTORY.md): the digest key, the source registry and
/// the store. Created by `ihub init`; mode 0700, key file 0600.
///
/// ```
/// DATA_DIR/            0700
///   digest.key         0600  "IHDKEY01" ‖ 16 key bytes
///   sources            0600  one "id<TAB>name" line per feed source
///   store/             0700
///     indicators.snap        the current snapshot (docs/STORE-FORMAT.md)
///   .lock                    flock(2) target serialising writers
/// ```
public struct DataDirectory: Sendable {
    public let path: String

    /// Magic at the start of `digest.key`.
    static let keyMagic = Array("IHDKEY01".utf8)

    public var keyPath: String { path + "/digest.key" }
    public var sourcesPath: String { path + "/sources" }
    public var storeDirectory: String { path + "/store" }
    public var snapshotPath: String { storeDirectory + "/indicators.snap" }
    /// The writer lock (`flock(2)` target; a `LiveStore` holds it while open).
    public var lockPath: String { path + "/.lock" }

    /// Creates a data directory at `path` (which must not exist, or be an empty directory)
    /// with a fresh digest key. Returns the directory and the key.
    public static func create(at path: String) throws(DataDirectoryError) -> (DataDirectory, DigestKey) {
        let directory = DataDirectory(path: path)
        try Self.storeCall { () throws(StoreError) in
            try Syscalls.makeDirectory(path, mode: 0o700, existing: .acceptIfEmpty)
            try Syscalls.makeDirectory(directory.storeDirectory, mode: 0o700, existing: .refuse)
        }
        let key = DigestKey.generate()
        var contents = keyMagic
        key.withUnsafeKeyBytes { contents.append(contentsOf: $0) }
        defer { for index in contents.indices { contents[index] = 0 } }
        try Self.storeCall { () throws(StoreError) in
            try Syscalls.writeFileAtomically(directory.keyPath, contents, mode: 0o600)
            try Syscalls.writeFileAtomically(directory.sourcesPath, [], mode: 0o600)
        }
        return (directory, key)
    }

    /// Opens an existing data directory (it must hold a key file).
    public static func open(at path: String) throws(DataDirectoryError) -> DataDirectory {
        let directory = DataDirectory(path: path)
        guard Syscalls.exists(directory.keyPath) else { throw .notADataDirectory(path: path) }
        return directory
    }

    /// Reads the digest key. Refuses a key file group or others have any permission on,
    /// naming its mode and the fix (`chmod 600 PATH`), as ssh refuses a private key.
    public func loadKey() throws(DataDirectoryError) -> DigestKey {
        let mode = try Self.storeCall { () throws(StoreError) in try Syscalls.fileMode(keyPath) }
        guard mode & 0o077 == 0 else {
            let finding = PermissionFinding(path: keyPath, mode: UInt32(mode), kind: .secretKey)
            throw .keyFile(path: keyPath, reason: "mode \(finding.modeText) \(finding.problem); \(finding.fix)")
        }
        var bytes = try Self.storeCall { () throws(StoreError) in try Syscalls.readFile(keyPath, limit: 4096) }
        defer { bytes.withUnsafeMutableBufferPointer { $0.update(repeating: 0) } }
        let expected = Self.keyMagic.count + DigestKey.byteCount
        guard bytes.count == expected else {
            throw .keyFile(path: keyPath, reason: "\(bytes.count) bytes, expected \(expected)")
        }
        guard bytes.prefix(Self.keyMagic.count).elementsEqual(Self.keyMagic) else {
            throw .keyFile(path: keyPath, reason: "bad magic (not an IndicatorHub key file)")
        }
        return DigestKey(bytes: Array(bytes.suffix(DigestKey.byteCount)))!
    }

    /// Removes temporary files a killed writer left in `store/`. Call under `withWriterLock`.
    public func removeStaleTemporaryFiles() {
        guard let names = try? Syscalls.listDirectory(storeDirectory) else { return }
        for name in names where name.hasPrefix(".") && name.contains(".tmp-") {
            Syscalls.unlinkQuietly(storeDirectory + "/" + name)
        }
    }

    private static func storeCall<R>(_ body: () throws(StoreError) -> R) throws(DataDirectoryError) -> R {
        do {
            return try body()
        } catch {
            throw .store(error)
        }
    }

    /// Runs `body` holding the directory's writer lock (`flock(LOCK_EX | LOCK_NB)` on
    /// `.lock`, the lock a `LiveStore` holds while open). Never waits: when another writer
    /// holds it, throws `LiveStoreError.storeInUse`. Readers need no lock: they map whole
    /// snapshots.
    public func withWriterLock<R>(_ body: () throws -> R) throws -> R {
        let lock = try WriterLock.acquire(lockPath)
        defer { lock.release() }
        return try body()
    }

    /// Whether a writer (a `LiveStore`: a serving hub, an ingest, a compaction) holds the
    /// writer lock now, found without taking or testing it (`/proc/locks`; see
    /// `WriterLockState`). A reader uses it to tell a record being appended from a crash's
    /// leftover (`ihub verify`).
    public func writerLockState() -> WriterLockState { WriterLock.probe(lockPath) }

    // MARK: Sources

    /// The registered sources, name → pseudonymous id.
    public func sources() throws(DataDirectoryError) -> [String: UInt16] {
        let bytes = try Self.storeCall { () throws(StoreError) in try Syscalls.readFile(sourcesPath, limit: 16 << 20) }
        var result: [String: UInt16] = [:]
        for (index, line) in bytes.split(separator: 0x0A).enumerated() {
            let fields = line.split(separator: 0x09, maxSplits: 1)
            guard fields.count == 2, let id = UInt16(String(decoding: fields[0], as: UTF8.self)), id > 0 else {
                throw .sources(path: sourcesPath, line: index + 1, reason: "expected 'id<TAB>name'")
            }
            result[String(decoding: fields[1], as: UTF8.self)] = id
        }
        return result
    }

    /// The id of source `name`, registering it when new. Ids start at 1 and are never reused.
    /// Call under `withWriterLock`.
    public func sourceID(for name: String) throws(DataDirectoryError) -> UInt16 {
        try Self.validateSourceName(name)
        var known = try sources()
        if let id = known[name] { return id }
        let (next, overflow) = (known.values.max() ?? 0).addingReportingOverflow(1)
        guard !overflow else { throw .tooManySources(path: sourcesPath) }
        known[name] = next
        var text = ""
        for (source, id) in known.sorted(by: { $0.value < $1.value }) { text += "\(id)\t\(source)\n" }
        try Self.storeCall { () throws(StoreError) in
            try Syscalls.writeFileAtomically(sourcesPath, Array(text.utf8), mode: 0o600)
        }
        return next
    }

    /// Source names: 1–64 characters of `A–Z a–z 0–9 . _ -`.
    public static func validateSourceName(_ name: String) throws(DataDirectoryError) {
        let valid = !name.isEmpty && name.utf8.count <= 64 && name.utf8.allSatisfy { byte in
            (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
                || byte == 0x2E || byte == 0x5F || byte == 0x2D
        }
        guard valid else { throw .badSourceName(name) }
    }
}

/// Why a data directory could not be used.
public enum DataDirectoryError: Error, Equatable, Sendable, CustomStringConvertible {
    case notADataDirectory(path: String)
    case keyFile(path: String, reason: String)
    case sources(path: String, line: Int, reason: String)
    case badSourceName(String)
    case tooManySources(path: String)
    case store(StoreError)

    public var description: String {
        switch self {
        case .notADataDirectory(let path):
            "\(path): not a hub data directory (no digest.key; run 'ihub init \(path)')"
        case .keyFile(let path, let reason): "\(path): \(reason)"
        case .sources(let path, let line, let reason): "\(path):\(line): \(reason)"
        case .badSourceName(let name):
            "source name '\(name)' must be 1–64 characters of A–Z, a–z, 0–9, '.', '_', '-'"
        case .tooManySources(let path): "\(path): no source ids left (65535 in use)"
        case .store(let error): error.description
        }
    }
}
