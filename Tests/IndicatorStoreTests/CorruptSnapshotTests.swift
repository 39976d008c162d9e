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
                case 8..<12: .unsupportedVersion(path: path(directory), found: 1 ^ (1 << UInt32(8 * (offset - 8))))
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
        let capacity = 30
        let tail = Int(Self.golden[O.tailSlots])
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
        refuses({ Self.store32(2, at: O.version, in: &$0) }, .unsupportedVersion(path: file, found: 2))
        refuses({ Self.store64(0x1234, at: O.keyID, in: &$0) }, .keyMismatch(path: file, expected: testKey.id, found: 0x1234))
        refuses({ $0[O.canonicalizerVersion] = 99 }, .canonicalizerMismatch(path: file, expected: Canonicalizer.version, found: 99))
        refuses(
            { Self.store64(UInt64(capacity + 2), at: O.capacity, in: &$0) },
            .truncated(path: file, expected: Self.golden.count + 64, actual: Self.golden.count))
        refuses(
            { Self.store64(UInt64(capacity - 2), at: O.capacity, in: &$0) },
            .sizeMismatch(path: file, expected: Self.golden.count - 64, actual: Self.golden.count))
        malformed { Self.store32(4097, at: O.headerSize, in: &$0) }
        malformed { Self.store32(64, at: O.slotSize, in: &$0) }
        malformed { $0[O.flags] = 0x80 }
        malformed { $0[O.reserved] = 1 }
        malformed { $0[O.padding + 100] = 1 }
        malformed { Self.store64(31, at: O.capacity, in: &$0) }
        malformed { Self.store64(0, at: O.capacity, in: &$0) }
        malformed { Self.store64(UInt64(capacity + 1), at: O.entryCount, in: &$0) }
        malformed { Self.store64(UInt64(tail + 1), at: O.maxDisplacement, in: &$0) }
        malformed { Self.store64(.max / 2, at: O.capacity, in: &$0) }
        malformed { Self.store64(.max - 1, at: O.capacity, in: &$0) }
        malformed { Self.store64(1 << 32, at: O.ipv4Prefixes, in: &$0) }
        // Entry count off by one passes the O(1) check but not the full one.
        let miscounted = Self.forged { Self.store64(22, at: O.entryCount, in: &$0) }
        #expect((try? Self.open(miscounted, in: directory).get()) != nil)
        guard case .failure(.malformed) = Self.open(miscounted, in: directory, verification: .full) else {
            Issue.record("miscounted entries accepted by .full")
            return
        }
        // A wrong body checksum in an otherwise valid header.
        let wrongSum = Self.forged { $0[O.bodyChecksum] ^= 0xFF }
        Self.expectRefused(Self.open(wrongSum, in: directory, verification: .full), .checksumMismatch(path: file, section: .body))
    }

    @Test func everyBodyByteFlippedIsRefusedByFullVerification() {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let file = path(directory)
        for offset in StoreFormat.headerSize..<Self.golden.count {
            var bytes = Self.golden
            bytes[offset] ^= 0x10
            Self.expectRefused(Self.open(bytes, in: directory, verification: .full), .checksumMismatch(path: file, section: .body))
            // Header-only verification accepts it, and lookups stay in bounds.
            if case .success(let snapshot) = Self.open(bytes, in: directory) {
                for (digest, _, _) in GoldenSnapshotTests.goldenEntries() { _ = snapshot.lookup(digest, now: 0) }
            } else {
                Issue.record("header-only open refused a body-only corruption at \(offset)")
            }
        }
    }

    /// A body that is structurally wrong but carries a matching checksum (a buggy writer):
    /// `.full` catches it through the invariants.
    @Test func structurallyBrokenBodiesWithValidChecksumsAreRefused() {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let headerSize = StoreFormat.headerSize
        let slotSize = StoreFormat.slotSize
        let occupied = stride(from: headerSize, to: Self.golden.count, by: slotSize).filter { offset in
            Self.golden[offset..<offset + 8].contains { $0 != 0 }
        }
        let empty = stride(from: headerSize, to: Self.golden.count, by: slotSize).filter { !occupied.contains($0) }
        func resealed(_ change: (inout [UInt8]) -> Void) -> [UInt8] {
            var bytes = Self.golden
            change(&bytes)
            let sum = bytes.withUnsafeBytes { Checksum.of(UnsafeRawBufferPointer(rebasing: $0[headerSize...])) }
            var header = Array(bytes[0..<headerSize])
            header.replaceSubrange(StoreFormat.Offset.bodyChecksum..<StoreFormat.Offset.bodyChecksum + 32, with: sum)
            SnapshotHeader.seal(&header)
            bytes.replaceSubrange(0..<headerSize, with: header)
            return bytes
        }
        let cases: [(String, (inout [UInt8]) -> Void)] = [
            ("two entries swapped", { bytes in
                let a = occupied[3], b = occupied[4]
                let first = Array(bytes[a..<a + slotSize])
                bytes.replaceSubrange(a..<a + slotSize, with: bytes[b..<b + slotSize])
                bytes.replaceSubrange(b..<b + slotSize, with: first)
            }),
            ("reserved metadata byte set", { $0[occupied[0] + StoreFormat.SlotOffset.reserved] = 1 }),
            ("unknown category", { $0[occupied[1] + StoreFormat.SlotOffset.category] = 200 }),
            ("confidence above 100", { $0[occupied[1] + StoreFormat.SlotOffset.confidence] = 101 }),
            ("garbage in an empty slot", { $0[empty[0] + 20] = 1 }),
            ("entry removed", { bytes in
                for index in 0..<slotSize { bytes[occupied[5] + index] = 0 }
            }),
            ("subdomain flag without header flag", { bytes in
                for offset in occupied { bytes[offset + StoreFormat.SlotOffset.flags] |= 1 << 5 }
                bytes[StoreFormat.Offset.flags] = 0
            }),
        ]
        for (name, change) in cases {
            switch Self.open(resealed(change), in: directory, verification: .full) {
            case .success: Issue.record("\(name): accepted")
            case .failure(let error):
                guard case .malformed(let file, _) = error else { Issue.record("\(name): \(error)"); continue }
                #expect(file == path(directory), "\(name)")
            }
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
