import Foundation
import IndicatorKit
@testable import IndicatorStore

/// The fixed digest key of the tests and the golden snapshot: bytes 0x00...0x0f.
let testKey = DigestKey(bytes: Array(0..<16))!

/// A fresh directory under the system temporary directory, removed by `remove()`.
struct TemporaryDirectory {
    let path: String

    init() {
        path = FileManager.default.temporaryDirectory
            .appendingPathComponent("indicatorstore-tests-\(UUID().uuidString)").path
        try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    func file(_ name: String) -> String { "\(path)/\(name)" }

    func remove() { try? FileManager.default.removeItem(atPath: path) }

    /// Names of the files in the directory.
    func contents() -> [String] { (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? [] }
}

/// The deterministic generator the tests use, so failures reproduce.
typealias SplitMix = SplitMix64

/// Digest of synthetic canonical bytes under the test key.
func digest(_ type: IndicatorType, _ bytes: [UInt8]) -> IndicatorDigest {
    bytes.withUnsafeBufferPointer { testKey.digest(type, body: $0) }
}

func digest(_ type: IndicatorType, _ text: String) -> IndicatorDigest { digest(type, Array(text.utf8)) }

/// Writes `entries` to `path` and opens the result with full verification.
@discardableResult
func writeSnapshot(
    _ entries: [(IndicatorDigest, EntryMetadata)], to path: String, prefixes: NetworkPrefixes = NetworkPrefixes(),
    createdAt: UInt64 = 1_700_000_000, droppingExpiredAt: UInt32? = nil
) throws -> (Snapshot, SnapshotWriter.Summary) {
    var writer = SnapshotWriter(key: testKey)
    writer.prefixes = prefixes
    for (digest, metadata) in entries { writer.add(digest, metadata) }
    let summary = try writer.write(to: path, createdAt: createdAt, droppingExpiredAt: droppingExpiredAt)
    let snapshot = try Snapshot.open(path, key: testKey, verification: .full)
    try snapshot.checkInvariants()
    return (snapshot, summary)
}

func readFile(_ path: String) -> [UInt8] { FileManager.default.contents(atPath: path).map { Array($0) } ?? [] }

func writeFile(_ path: String, _ bytes: [UInt8]) {
    _ = FileManager.default.createFile(atPath: path, contents: Data(bytes))
}
