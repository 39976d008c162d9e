import Foundation
import IndicatorKit
import Testing
@testable import IndicatorStore

/// The journal (docs/LIVE-UPDATES.md, "The journal"): framing, round trip, recovery of a torn
/// tail, refusal of damage elsewhere and of sequence gaps.
@Suite struct JournalTests {
    static func sampleRecords() -> [JournalRecord] {
        var random = SplitMix(seed: 3)
        var prefixes = NetworkPrefixes()
        prefixes.insert(.ipv4, prefixLength: 24)
        let reports = (0..<5).map { DigestReport(Live.digest($0), { var m = Live.metadata(&random); m.sourceID = 7; return m }()) }
            .sorted { $0.digest < $1.digest }
        return [
            .upload(UploadBody(
                id: Live.uploadID(1), number: 0xABCDEF, source: 7, format: 3, time: 1_800_000_000, duplicates: 2,
                refused: 1, prefixes: prefixes, reports: reports)),
            .withdrawValues(source: 7, digests: [Live.digest(1), Live.digest(2)]),
            .withdrawUpload(source: 9, id: Live.uploadID(4)),
            .withdrawValues(source: 1, digests: []),
        ]
    }

    @Test func recordsRoundTrip() throws {
        var bytes: [UInt8] = []
        let records = Self.sampleRecords()
        for (index, record) in records.enumerated() {
            JournalFormat.append(record, sequence: UInt64(index) + 41, to: &bytes)
        }
        var offset = 0
        var decoded: [JournalRecord] = []
        try bytes.withUnsafeBytes { raw in
            while offset < raw.count {
                guard case .record(let kind, let sequence, let payload, let size) = JournalFormat.frame(raw, at: offset) else {
                    Issue.record("no record at \(offset)")
                    return
                }
                #expect(sequence == UInt64(decoded.count) + 41)
                decoded.append(try JournalFormat.decode(kind: kind, payload: UnsafeRawBufferPointer(rebasing: raw[payload])).get())
                offset += size
            }
        }
        #expect(decoded == records)
        // Framing per the document: length, kind, sequence, then BLAKE2b-128 of all before it.
        let length = Int(u32(bytes, 0))
        #expect(bytes[4] == 1)
        #expect(u64(bytes, 5) == 41)
        #expect(length == JournalFormat.uploadFixedSize + 5 * JournalFormat.reportSize)
        let sum = bytes.withUnsafeBytes { BLAKE2b.hash(UnsafeRawBufferPointer(rebasing: $0[0..<(13 + length)]), outputBytes: 16) }
        #expect(Array(bytes[(13 + length)..<(29 + length)]) == sum)
        #expect(JournalFormat.fileName(firstSequence: 0x1f) == "journal.000000000000001f")
        #expect(JournalFormat.firstSequence(ofFile: "journal.000000000000001f") == 0x1f)
        #expect(JournalFormat.firstSequence(ofFile: "journal.000000000000001F") == nil)
    }

    /// Writes three uploads (one record each) through a live store; returns the journal path
    /// and the offsets where each record starts and where the file ends.
    static func threeUploads(_ directory: TemporaryDirectory) throws -> (path: String, starts: [Int], end: Int) {
        let store = try Live.open(directory)
        defer { store.close() }
        let path = directory.file(Live.journalFiles(directory)[0])
        var starts: [Int] = []
        for index in 0..<3 {
            starts.append(readFile(path).count)
            _ = try store.upload(
                Live.request(Live.uploadID(index), source: 1, [(Live.digest(index), EntryMetadata()), (Live.digest(10 + index), EntryMetadata())]),
                time: 1_000)
        }
        return (path, starts, readFile(path).count)
    }

    @Test func aTornTailAtEveryByteOfTheLastRecordIsCutOff() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let (path, starts, end) = try Self.threeUploads(directory)
        let full = readFile(path)
        for cut in starts[2]..<end {
            writeFile(path, Array(full[0..<cut]))
            let store = try Live.open(directory)
            if cut > starts[2] {
                let torn = try #require(store.recoveredTornTail, "cut at \(cut)")
                #expect(torn.path == path && torn.offset == starts[2] && torn.bytes == cut - starts[2])
            } else {
                #expect(store.recoveredTornTail == nil)
            }
            #expect(store.lookup(digest: Live.digest(1), now: 0) != nil, "cut at \(cut)")
            #expect(store.lookup(digest: Live.digest(2), now: 0) == nil, "cut at \(cut)")
            #expect(store.lookup(digest: Live.digest(12), now: 0) == nil, "cut at \(cut)")
            #expect(store.receipt(of: Live.uploadID(2)) == nil)
            #expect(store.view().sequence == 2)
            store.close()
            #expect(readFile(path).count == starts[2])
        }
        // After a cut, the next upload continues the sequence.
        let store = try Live.open(directory)
        defer { store.close() }
        #expect(try store.upload(Live.request(Live.uploadID(9), source: 1, [(Live.digest(2), EntryMetadata())]), time: 1).uploadNumber == 3)
        #expect(store.view().sequence == 3)
    }

    @Test func aZeroFilledTailIsTorn() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let (path, _, end) = try Self.threeUploads(directory)
        writeFile(path, readFile(path) + [UInt8](repeating: 0, count: 300))
        let store = try Live.open(directory)
        defer { store.close() }
        #expect(store.recoveredTornTail?.offset == end)
        #expect(store.lookup(digest: Live.digest(2), now: 0) != nil)
    }

    @Test func damageBeforeTheTailIsRefusedWithFileAndOffset() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let (path, starts, _) = try Self.threeUploads(directory)
        let full = readFile(path)
        for record in 0..<2 {
            for target in [starts[record] + 4, starts[record] + 20, starts[record + 1] - 1] {
                var damaged = full
                damaged[target] ^= 0x40
                writeFile(path, damaged)
                #expect(throws: LiveStoreError.journalCorrupt(path: path, offset: starts[record], reason: "checksum mismatch")) {
                    _ = try Live.open(directory)
                }
            }
        }
        // A length that runs past the end inside the file is damage when records follow... here
        // it runs past the end of the last file: torn. Damage in the last record is torn too.
        var damaged = full
        damaged[starts[2] + 20] ^= 1
        writeFile(path, damaged)
        let store = try Live.open(directory)
        #expect(store.recoveredTornTail?.offset == starts[2])
        store.close()
    }

    /// Hand-made journal files: `records` per file, named by their first sequence.
    static func writeJournal(_ directory: TemporaryDirectory, files: [(name: UInt64, sequences: [UInt64])]) -> [String] {
        var paths: [String] = []
        for file in files {
            var bytes: [UInt8] = []
            for sequence in file.sequences {
                JournalFormat.append(.withdrawValues(source: 1, digests: [Live.digest(Int(sequence))]), sequence: sequence, to: &bytes)
            }
            let path = directory.file(JournalFormat.fileName(firstSequence: file.name))
            writeFile(path, bytes)
            paths.append(path)
        }
        return paths
    }

    @Test func sequenceGapsAreRefused() throws {
        let one = TemporaryDirectory()
        defer { one.remove() }
        let paths = Self.writeJournal(one, files: [(1, [1, 2, 4])])
        let recordSize = 13 + 6 + 16 + 16
        #expect(throws: LiveStoreError.journalSequenceGap(path: paths[0], offset: 2 * recordSize, expected: 3, found: 4)) {
            _ = try Live.open(one)
        }
        let two = TemporaryDirectory()
        defer { two.remove() }
        let files = Self.writeJournal(two, files: [(1, [1, 2]), (4, [4])])
        #expect(throws: LiveStoreError.journalSequenceGap(path: files[1], offset: 0, expected: 3, found: 4)) {
            _ = try Live.open(two)
        }
    }

    @Test func filesContinueAcrossNamesAndDamageInAnEarlierFileIsRefused() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let paths = Self.writeJournal(directory, files: [(1, [1, 2]), (3, [3, 4])])
        let store = try Live.open(directory)
        #expect(store.view().sequence == 4)
        store.close()
        // A torn record at the end of the first file is damage: the second file follows it.
        var first = readFile(paths[0])
        first.removeLast(5)
        writeFile(paths[0], first)
        let size = first.count
        let recordSize = 13 + 6 + 16 + 16
        #expect(throws: LiveStoreError.journalCorrupt(
            path: paths[0], offset: recordSize, reason: "payload length 22 runs past the end of the file")) {
            _ = try Live.open(directory)
        }
        _ = size
    }

    @Test func unknownKindsAreCorruptEvenWithAGoodChecksum() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        var bytes: [UInt8] = []
        JournalFormat.append(.withdrawUpload(source: 1, id: Live.uploadID(1)), sequence: 1, to: &bytes)
        bytes[4] = 9
        let length = 13 + 18
        let sum = bytes.withUnsafeBytes { BLAKE2b.hash(UnsafeRawBufferPointer(rebasing: $0[0..<length]), outputBytes: 16) }
        bytes.replaceSubrange(length..<(length + 16), with: sum)
        let path = directory.file(JournalFormat.fileName(firstSequence: 1))
        writeFile(path, bytes)
        #expect(throws: LiveStoreError.journalCorrupt(path: path, offset: 0, reason: "unknown record kind 9")) {
            _ = try Live.open(directory)
        }
    }
}
