import HubPOSIX
public import IndicatorStore

/// How a serving hub holds its snapshot in memory (`ihub serve --memory`; docs/OPERATIONS.md,
/// "Memory: map or huge-pages"). Compactions reopen their new snapshot the same way.
public enum StoreMemory: String, Sendable, CaseIterable {
    /// A shared read-only mapping of the file (the page cache): opening is O(1), nothing is
    /// read until it is looked up, the memory is the page cache's and shared with other readers.
    case map
    /// A private anonymous copy of the file with transparent huge pages asked for
    /// (`MADV_HUGEPAGE`): fewer TLB misses, so faster lookups on a large store, at the price of
    /// a full read of the snapshot at start and after every compaction, and memory of its own
    /// (about twice the snapshot while a compaction swaps). Whether the kernel grants huge
    /// pages depends on `/sys/kernel/mm/transparent_hugepage/enabled` and free memory.
    case hugePages = "huge-pages"

    /// What `LiveStore.open` and `Snapshot.open` take.
    public var snapshotMemory: Snapshot.Memory {
        switch self {
        case .map: .fileMapping(populate: false)
        case .hugePages: .anonymousCopy(hugePages: true)
        }
    }

    /// The values `--memory` accepts, for usage messages: `map, huge-pages`.
    public static var names: String { allCases.map(\.rawValue).joined(separator: ", ") }
}

extension HubServer {
    /// Refuses to serve from a data directory whose secret key files group or others may
    /// read, or whose directories they may write to; logs directories they may merely enter.
    /// Each finding is logged (`event=insecure_permissions path=… mode=… fix=…`, level
    /// `error` for a refusal, `warn` otherwise) before the first refusal is thrown, so the
    /// operator sees every one at once. (docs/OPERATIONS.md, "Hardening".)
    static func checkPermissions(_ data: DataDirectory, log: ServerLog) throws(ServerConfigurationError) {
        let findings = data.permissionFindings()
        for finding in findings {
            let fields = [("path", finding.path), ("mode", finding.modeText), ("problem", finding.problem),
                          ("fix", finding.fix)]
            if finding.level == .refuse { log.error("insecure_permissions", fields) } else { log.warn("insecure_permissions", fields) }
        }
        let refused = findings.filter { $0.level == .refuse }
        guard let first = refused.first else { return }
        let more = refused.count > 1 ? " (and \(refused.count - 1) more, logged as event=insecure_permissions)" : ""
        throw ServerConfigurationError(path: first.path, reason: "mode \(first.modeText) \(first.problem); \(first.fix)" + more)
    }

    /// The process's anonymous memory in huge pages (`AnonHugePages` of
    /// `/proc/self/smaps_rollup`), in KiB, or nil when unreadable: whether THP applied.
    static func anonHugePagesKiB() -> Int? {
        guard let bytes = try? POSIX.readFile("/proc/self/smaps_rollup", limit: 1 << 16) else { return nil }
        for line in String(decoding: bytes, as: UTF8.self).split(separator: "\n") where line.hasPrefix("AnonHugePages:") {
            return Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "")
        }
        return nil
    }
}
