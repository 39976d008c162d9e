/// Why a snapshot could not be opened or written. Every case names the file; `description`
/// reads like `open(/var/hub/store.snap): permission denied`.
public enum StoreError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The file is shorter than its header says (or than a header).
    case truncated(path: String, expected: Int, actual: Int)
    /// The file is longer than its header says.
    case sizeMismatch(path: String, expected: Int, actual: Int)
    /// The file does not start with `IHUBSNAP`: not a snapshot.
    case badMagic(path: String)
    /// A snapshot layout this build cannot read (version 1, the 32-byte slot layout, is no
    /// longer read: re-ingest the feeds to write a version 2 snapshot).
    case unsupportedVersion(path: String, found: UInt32)
    /// A stored checksum does not match the bytes it covers.
    case checksumMismatch(path: String, section: Section)
    /// The snapshot was built with another digest key than the one in use.
    case keyMismatch(path: String, expected: UInt64, found: UInt64)
    /// The snapshot was built with another canonicaliser version: its digests would never match.
    case canonicalizerMismatch(path: String, expected: UInt8, found: UInt8)
    /// A header field, a bucket or a cold record breaks a rule of docs/STORE-FORMAT.md; `reason` says which.
    case malformed(path: String, reason: String)
    /// A system call failed.
    case system(operation: String, path: String, errno: Int32)

    /// The part of the file a checksum covers.
    public enum Section: String, Sendable {
        case header
        case body
    }

    public var description: String {
        switch self {
        case .truncated(let path, let expected, let actual):
            "\(path): truncated snapshot: \(actual) bytes, expected \(expected)"
        case .sizeMismatch(let path, let expected, let actual):
            "\(path): snapshot is \(actual) bytes, its header says \(expected)"
        case .badMagic(let path):
            "\(path): not an IndicatorHub snapshot (bad magic)"
        case .unsupportedVersion(let path, 1):
            "\(path): snapshot format version 1 is no longer read; re-ingest (this build reads version \(StoreFormat.version))"
        case .unsupportedVersion(let path, let found):
            "\(path): unsupported snapshot format version \(found) (this build reads versions \(StoreFormat.oldestReadableVersion)–\(StoreFormat.version))"
        case .checksumMismatch(let path, let section):
            "\(path): \(section.rawValue) checksum mismatch (file corrupted)"
        case .keyMismatch(let path, let expected, let found):
            "\(path): snapshot was built with digest key \(Self.hex(found)), this hub uses \(Self.hex(expected))"
        case .canonicalizerMismatch(let path, let expected, let found):
            "\(path): snapshot was built with canonicaliser version \(found), this build uses \(expected); rebuild it"
        case .malformed(let path, let reason):
            "\(path): malformed snapshot: \(reason)"
        case .system(let operation, let path, let errno):
            "\(operation)(\(path)): \(Syscalls.message(errno))"
        }
    }

    private static func hex(_ value: UInt64) -> String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }
}
