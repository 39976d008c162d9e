import Foundation
import IndicatorKit
import Testing
@testable import IndicatorStore

/// Every way a snapshot file can be damaged is refused with a typed error naming the file —
/// never a crash, never an open that answers wrongly. Variants are made from the golden file.
@Suite struct CorruptSnapshotTests {
    static let golden = readFile(GoldenSnapshotTests.fixturePath)

    /// Writes `bytes` to a fresh file and opens it.
    static func open(
        _ bytes: [UInt8], in directory: TemporaryDirectory, verification: Snapshot.Verification = .header,
        name: String = "corrupt.snap"
    ) -> Result<Snapshot, StoreError> {
        let path = directory.file(name)
        writeFile(path, bytes)
        return Result { () throws(StoreError) in try Snapshot.open(path, key: testKey, verification: verification) }
    }

    /// Expects `result` to be exactly `expected`, whose description must name the file.
    static func expectRefused(_ result: Result<Snapshot, StoreError>, _ expected: StoreError, sourceLocation: SourceLocation = #_sourceLocation) {
        switch result {
        case .success: Issue.record("opened, expected \(expected)", sourceLocation: sourceLocation)
        case .failure(let error):
            #expect(error == expected, sourceLocation: sourceLocation)
            #expect(error.description.contains("corrupt.snap"), "\(error)", sourceLocation: sourceLocation)
        }
    }

    /// The golden bytes with `body` applied to the header and the header checksum redone, as
    /// a buggy or hostile writer would produce.
    static func forged(_ change: (inout [UInt8]) -> Void) -> [UInt8] {
        var bytes = golden
        var header = Array(bytes[0..<StoreFormat.headerSize])
        change(&header)
        SnapshotHeader.seal(&header)
        bytes.replaceSubrange(0..<StoreFormat.headerSize, with: header)
        return bytes
    }

    static func store64(_ value: UInt64, at offset: Int, in bytes: inout [UInt8]) {
        for index in 0..<8 { bytes[offset + index] = UInt8(truncatingIfNeeded: value >> (8 * UInt64(index))) }
    }

    static func store32(_ value: UInt32, at offset: Int, in bytes: inout [UInt8]) {
        for index in 0..<4 { bytes[offset + index] = UInt8(truncatingIfNeeded: value >> (8 * UInt32(index))) }
    }

    var path: (TemporaryDirectory) -> String { { $0.file("corrupt.snap") } }

    @Test func truncatedAtAnyLengthIsRefused() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let size = Self.golden.count
        #expect(size > StoreFormat.headerSize)
        var lengths = Array(0...64) + [100, 135, 4063, 4064, 4095]
        lengths += Array(stride(from: StoreFormat.headerSize, to: size, by: 7)) + [size - 32, size - 1]
        for length in lengths {
            let expected = length < StoreFormat.headerSize ? StoreFormat.headerSize : size
            Self.expectRefused(
                Self.open(Array(Self.golden.prefix(length)), in: directory),
                .truncated(path: path(directory), expected: expected, actual: length))
        }
    }

    @Test func trailingBytesAreRefused() {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        Self.expectRefused(
            Self.open(Self.golden + [0], in: directory),
            .sizeMismatch(path: path(directory), expected: Self.golden.count, actual: Self.golden.count + 1))
        Self.expectRefused(
            Self.open(Self.golden + [UInt8](repeating: 0, count: 64), in: directory),
            .sizeMismatch(path: path(directory), expected: Self.golden.count, actual: Self.golden.count + 64))
    }

    @Test func everyHeaderByteFlippedIsRefused() {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        for offset in 0..<StoreFormat.headerSize {
            var bytes = Self.golden
            bytes[offset] ^= 0x01
            let expected: StoreError =
                switch offset {
                case 0..<8: .badMagic(path: path(directory))
                // 3 with bit 0 flipped is 2, a version still read: then the checksum catches it.
                case 8: .checksumMismatch(path: path(directory), section: .header)
                case 9..<12: .unsupportedVersion(path: path(directory), found: 3 ^ (1 << UInt32(8 * (offset - 8))))
                default: .checksumMismatch(path: path(directory), section: .header)
                }
            Self.expectRefused(Self.open(bytes, in: directory), expected)
        }
    }

    @Test func notASnapshotAtAll() {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        Self.expectRefused(Self.open(Array("hello, world".utf8), in: directory), .badMagic(path: path(directory)))
        Self.expectRefused(
            Self.open([UInt8](repeating: 0, count: Self.golden.count), in: directory), .badMagic(path: path(directory)))
        var other = Self.golden
        other.replaceSubrange(0..<8, with: Array("IHUBSNAQ".utf8))
        Self.expectRefused(Self.open(other, in: directory), .badMagic(path: path(directory)))
    }

    @Test func forgedHeadersAreRefusedWithTheReason() {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let file = path(directory)
        typealias O = StoreFormat.Offset
        let entries = u64(Self.golden, O.entryCount)
        let homeBuckets = u64(Self.golden, O.homeBuckets)
        let buckets = u64(Self.golden, O.bucketCount)
        #expect(entries == 23 && homeBuckets == 6 && buckets >= homeBuckets)
        func refuses(_ change: (inout [UInt8]) -> Void, _ expected: StoreError, sourceLocation: SourceLocation = #_sourceLocation) {
            Self.expectRefused(Self.open(Self.forged(change), in: directory), expected, sourceLocation: sourceLocation)
        }
        func malformed(_ change: (inout [UInt8]) -> Void, sourceLocation: SourceLocation = #_sourceLocation) {
            switch Self.open(Self.forged(change), in: directory) {
            case .success: Issue.record("forged header was accepted", sourceLocation: sourceLocation)
            case .failure(let error):
                guard case .malformed(let where_, _) = error else {
                    Issue.record("expected .malformed, got \(error)", sourceLocation: sourceLocation)
                    return
                }
                #expect(where_ == file, sourceLocation: sourceLocation)
            }
        }
        refuses({ Self.store32(4, at: O.version, in: &$0) }, .unsupportedVersion(path: file, found: 4))
        refuses({ Self.store32(1, at: O.version, in: &$0) }, .unsupportedVersion(path: file, found: 1))
        refuses({ Self.store64(0x1234, at: O.keyID, in: &$0) }, .keyMismatch(path: file, expected: testKey.id, found: 0x1234))
        refuses({ $0[O.canonicalizerVersion] = 99 }, .canonicalizerMismatch(path: file, expected: Canonicalizer.version, found: 99))
        refuses(
            { Self.store64(buckets + 1, at: O.bucketCount, in: &$0) },
            .truncated(path: file, expected: Self.golden.count + 64, actual: Self.golden.count))
        refuses(
            { Self.store64(entries + 1, at: O.entryCount, in: &$0) },
            .truncated(path: file, expected: Self.golden.count + 24, actual: Self.golden.count))
        refuses(
            { Self.store64(entries - 1, at: O.entryCount, in: &$0) },
            .sizeMismatch(path: file, expected: Self.golden.count - 24, actual: Self.golden.count))
        malformed { Self.store32(4097, at: O.headerSize, in: &$0) }
        malformed { Self.store32(32, at: O.bucketSize, in: &$0) }
        malformed { $0[O.recordSize] = 32 }
        malformed { $0[O.flags] = 0x80 }
        malformed { $0[O.padding + 100] = 1 }
        malformed { Self.store64(0, at: O.homeBuckets, in: &$0) }
        malformed { Self.store64(buckets + 1, at: O.homeBuckets, in: &$0) }
        malformed { Self.store64(7 * buckets, at: O.entryCount, in: &$0) }  // the last bucket would be full
        malformed { Self.store64(1 << 32, at: O.entryCount, in: &$0) }
        malformed { Self.store64(homeBuckets + entries / 7 + 2, at: O.bucketCount, in: &$0) }  // tail too long
        malformed { Self.store64(buckets, at: O.maxSpill, in: &$0) }
        malformed { Self.store64(.max / 2, at: O.bucketCount, in: &$0) }
        malformed { bytes in  // buckets × 64 overflows
            Self.store64(.max - 1, at: O.homeBuckets, in: &bytes)
            Self.store64(.max, at: O.bucketCount, in: &bytes)
        }
        malformed { Self.store64(1 << 32, at: O.ipv4Prefixes, in: &$0) }
        // A version 1 file says what to do.
        if case .failure(let error) = Self.open(Self.forged { Self.store32(1, at: O.version, in: &$0) }, in: directory) {
            #expect(error.description.contains("format version 1 is no longer read; re-ingest"), "\(error)")
        }
        // A wrong body checksum in an otherwise valid header.
        let wrongSum = Self.forged { $0[O.bodyChecksum] ^= 0xFF }
        #expect((try? Self.open(wrongSum, in: directory).get()) != nil)
        Self.expectRefused(Self.open(wrongSum, in: directory, verification: .full), .checksumMismatch(path: file, section: .body))
    }

    /// Every body byte — bucket headers, fingerprints, cold records — flipped: `.full` refuses
    /// it by the body checksum; a header-only open accepts it and its lookups stay in bounds.
    @Test func everyBodyByteFlippedIsRefusedByFullVerification() {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let file = path(directory)
        for offset in StoreFormat.headerSize..<Self.golden.count {
            for flip: UInt8 in [0x10, 0x80] {
                var bytes = Self.golden
                bytes[offset] ^= flip
                Self.expectRefused(Self.open(bytes, in: directory, verification: .full), .checksumMismatch(path: file, section: .body))
                if case .success(let snapshot) = Self.open(bytes, in: directory) {
                    for (digest, _, _) in GoldenSnapshotTests.goldenEntries() { _ = snapshot.lookup(digest, now: 0) }
                    snapshot.forEachEntry { _, _ in }
                } else {
                    Issue.record("header-only open refused a body-only corruption at \(offset)")
                }
            }
        }
    }

    /// Hostile bodies behind a valid header (all 0xFF: counts of 255, bases past the records;
    /// random bytes): header-only lookups, matcher batches and `forEachEntry` stay in bounds.
    @Test func hostileBodiesKeepLookupsInBounds() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        var random = SplitMix(seed: 23)
        let bodies: [[UInt8]] = [
            [UInt8](repeating: 0xFF, count: Self.golden.count - StoreFormat.headerSize),
            (StoreFormat.headerSize..<Self.golden.count).map { _ in UInt8(truncatingIfNeeded: random.next()) },
        ]
        for body in bodies {
            let bytes = Array(Self.golden[..<StoreFormat.headerSize]) + body
            let snapshot = try Self.open(bytes, in: directory).get()
            for _ in 0..<2000 { _ = snapshot.lookup(IndicatorDigest(lo: random.next(), hi: random.next()), now: 0) }
            for (digest, _, _) in GoldenSnapshotTests.goldenEntries() { _ = snapshot.lookup(digest, now: 0) }
            snapshot.forEachEntry { _, _ in }
            let matcher = try Matcher(snapshot: snapshot, key: testKey, batchSize: 8)
            _ = matcher.match((0..<100).map { "192.0.2.\($0)" }, type: .ipv4, now: 0)
        }
    }

    @Test func systemErrorsNameTheOperationAndFile() {
        let missing = "/nonexistent-indicatorhub/store.snap"
        let result = Result { () throws(StoreError) in try Snapshot.open(missing, key: testKey) }
        guard case .failure(let error) = result else { Issue.record("opened a missing file"); return }
        #expect(error == .system(operation: "open", path: missing, errno: 2))
        #expect(error.description == "open(/nonexistent-indicatorhub/store.snap): no such file or directory")
    }
}
