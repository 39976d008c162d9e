/// Whole-file reads and crash-safe whole-file writes for tools (feed files, demo samples),
/// with errors that name the file: `open(/data/feed.txt): no such file or directory`.
public enum FileBytes {
    /// Largest file `read` accepts (feeds are read whole).
    public static let readLimit = 8 << 30

    public static func read(_ path: String) throws(StoreError) -> [UInt8] {
        try Syscalls.readFile(path, limit: readLimit)
    }

    /// Writes `bytes` to `path` (mode 0600) atomically.
    public static func write(_ path: String, _ bytes: [UInt8]) throws(StoreError) {
        try Syscalls.writeFileAtomically(path, bytes, mode: 0o600)
    }
}
