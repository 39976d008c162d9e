import Foundation
import IndicatorKit
import IndicatorStore
import Testing

/// `ihub verify` reads the whole live store as the next open would — snapshot, tables, every
/// journal record — changes nothing, takes no lock, and names the file and offset of damage.
@Suite struct VerifyCommandTests {
    /// A data directory with an ingested snapshot and three journal records (two uploads and a
    /// withdrawal) written by a live store that is returned still open (holding the lock).
    static func storeWithJournal(_ temp: TemporaryDirectory) throws -> (data: String, store: LiveStore) {
        let ingested = try IngestedStore(temp)
        let store = try LiveStore.open(data: ingested.directory, keyID: ingested.key.id)
        let (c, d) = (ingested.domain("c.example"), ingested.domain("d.example"))
        _ = try store.upload(LiveStore.UploadRequest(id: UploadID.random(), source: 2, reports: [DigestReport(c, EntryMetadata())]),
                             time: 500)
        _ = try store.upload(LiveStore.UploadRequest(id: UploadID.random(), source: 2, reports: [DigestReport(d, EntryMetadata())]),
                             time: 500)
        #expect(try store.withdraw(values: [c], source: 2) == 1)
        return (ingested.data, store)
    }

    static func journalFiles(_ data: String) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: data + "/store").filter { $0.hasPrefix("journal.") }.sorted()
            .map { data + "/store/" + $0 }
    }

    /// Every file under the store directory with its bytes.
    static func storeBytes(_ data: String) throws -> [String: Data] {
        var files: [String: Data] = [:]
        for name in try FileManager.default.contentsOfDirectory(atPath: data + "/store") {
            files[name] = try Data(contentsOf: URL(fileURLWithPath: data + "/store/" + name))
        }
        return files
    }

    @Test func verifyReadsTheJournalWhileAHubHoldsTheStoreAndChangesNothing() throws {
        let temp = try TemporaryDirectory()
        let (data, store) = try Self.storeWithJournal(temp)
        let before = try Self.storeBytes(data)
        let result = try Ihub.run(["verify", "--data", data, "--json"])
        #expect(result.status == 0, "\(result.stderr)")
        let summary = try result.json()
        #expect(summary["ok"] as? Bool == true)
        #expect(summary["entries"] as? Int == 2)
        #expect(summary["journal_records"] as? Int == 3)
        #expect(summary["uploads"] as? Int == 3)  // the ingest and the two uploads
        #expect(summary["delta_entries"] as? Int == 2)  // d, and the tombstone of c
        #expect((summary["notes"] as? [Any])?.isEmpty == true)
        let human = try Ihub.run(["verify", "--data", data])
        #expect(human.status == 0 && human.stdout.contains("3 records after the snapshot"), "\(human.stdout)")
        store.close()

        // A record a crash cut short at the end of the last file: reported, not an error, and
        // left for the next open to cut.
        let last = try #require(try Self.journalFiles(data).last)
        let handle = try #require(FileHandle(forWritingAtPath: last))
        handle.seekToEndOfFile()
        handle.write(Data(repeating: 0x07, count: 10))
        handle.closeFile()
        let torn = try Self.storeBytes(data)
        let withTail = try Ihub.run(["verify", "--data", data])
        #expect(withTail.status == 0, "\(withTail.stderr)")
        #expect(withTail.stdout.contains("torn last record") && withTail.stdout.contains(last), "\(withTail.stdout)")
        #expect(try Self.storeBytes(data) == torn)
        #expect(before.keys.sorted() == torn.keys.sorted())
    }

    @Test func aDamagedStoreIsRefusedNamingTheFileAndOffset() throws {
        let temp = try TemporaryDirectory()
        let (data, store) = try Self.storeWithJournal(temp)
        store.close()

        // A flipped byte inside the first of three records: not a torn tail.
        let journal = try #require(try Self.journalFiles(data).last)
        var bytes = try Data(contentsOf: URL(fileURLWithPath: journal))
        bytes[30] ^= 0xFF
        try bytes.write(to: URL(fileURLWithPath: journal))
        let corrupt = try Ihub.run(["verify", "--data", data])
        #expect(corrupt.status == 2)
        #expect(corrupt.stderr.contains(journal) && corrupt.stderr.contains("offset 0"), "\(corrupt.stderr)")
        bytes[30] ^= 0xFF
        try bytes.write(to: URL(fileURLWithPath: journal))
        #expect(try Ihub.run(["verify", "--data", data]).status == 0)

        // The reports table the snapshot needs is gone.
        let reports = try #require(try FileManager.default.contentsOfDirectory(atPath: data + "/store")
            .first { $0.hasPrefix("reports.") })
        try FileManager.default.removeItem(atPath: data + "/store/" + reports)
        let missing = try Ihub.run(["verify", "--data", data])
        #expect(missing.status == 2)
        #expect(missing.stderr.contains(reports) && missing.stderr.contains("missing"), "\(missing.stderr)")
    }

    /// The first `count` bytes of the last journal file's first record, appended to it: a record
    /// cut short (its frame runs past the end of the file), as an append in progress leaves it.
    static func appendPartialRecord(_ data: String, count: Int = 10) throws -> (path: String, offset: Int) {
        let last = try #require(try Self.journalFiles(data).last)
        let bytes = try Data(contentsOf: URL(fileURLWithPath: last))
        let handle = try #require(FileHandle(forWritingAtPath: last))
        handle.seekToEndOfFile()
        handle.write(bytes.prefix(count))
        handle.closeFile()
        return (last, bytes.count)
    }

    /// XORs one byte of `path` in place (the file keeps its inode, as a writer's mapping does).
    static func flipByte(_ path: String, at offset: Int, _ mask: UInt8) throws {
        let handle = try #require(FileHandle(forUpdatingAtPath: path))
        defer { handle.closeFile() }
        handle.seek(toFileOffset: UInt64(offset))
        let byte = handle.readData(ofLength: 1)
        handle.seek(toFileOffset: UInt64(offset))
        handle.write(Data([byte[byte.startIndex] ^ mask]))
    }

    @Test func aRecordBeingAppendedWhileAWriterHoldsTheLockIsNotATornTail() throws {
        let temp = try TemporaryDirectory()
        let (data, store) = try Self.storeWithJournal(temp)
        let (journal, offset) = try Self.appendPartialRecord(data)
        let partial = try Self.storeBytes(data)

        // The hub (this process) holds the lock: the partial record is one being written.
        let live = try Ihub.run(["verify", "--data", data, "--json"])
        #expect(live.status == 0, "\(live.stderr)")
        let summary = try live.json()
        #expect(summary["writer_active"] as? Bool == true)
        #expect(summary["writer_pid"] as? Int == Int(getpid()))
        #expect(summary["reads"] as? Int == 1)
        let notes = try #require(summary["notes"] as? [String])
        #expect(notes.count == 1, "\(notes)")
        #expect(notes.first?.contains("\(journal): a record being written at offset \(offset) (10 bytes so far)") == true,
                "\(notes)")
        #expect(!notes.joined().contains("torn"))
        let human = try Ihub.run(["verify", "--data", data])
        #expect(human.status == 0, "\(human.stderr)")
        #expect(human.stdout.contains("note: \(journal): a record being written"), "\(human.stdout)")
        #expect(human.stdout.contains("/.lock: held by a live writer (pid \(getpid()))"), "\(human.stdout)")
        #expect(try Self.storeBytes(data) == partial, "verify changes nothing")

        // No writer: the same bytes are a crash's torn tail, as before.
        store.close()
        let crashed = try Ihub.run(["verify", "--data", data, "--json"])
        #expect(crashed.status == 0, "\(crashed.stderr)")
        let after = try crashed.json()
        #expect(after["writer_active"] as? Bool == false)
        #expect(after["writer_pid"] is NSNull)
        #expect(after["notes"] as? [String] == ["\(journal): a torn last record at offset \(offset) (10 bytes, never "
            + "acknowledged) is cut off at the next open"])
        let plain = try Ihub.run(["verify", "--data", data])
        #expect(plain.stdout.contains("torn last record") && !plain.stdout.contains("held by"), "\(plain.stdout)")
        #expect(try Self.storeBytes(data) == partial)
    }

    @Test func damageWhileAWriterHoldsTheLockStillFailsNamingTheFile() throws {
        let temp = try TemporaryDirectory()
        let (data, store) = try Self.storeWithJournal(temp)
        defer { store.close() }

        // A flipped byte inside the first journal record: every read meets it.
        let journal = try #require(try Self.journalFiles(data).last)
        try Self.flipByte(journal, at: 30, 0xFF)
        let corrupt = try Ihub.run(["verify", "--data", data])
        #expect(corrupt.status == 2)
        #expect(corrupt.stderr.contains("\(journal): journal corrupt at offset 0"), "\(corrupt.stderr)")
        #expect(corrupt.stderr.contains("3 reads while a writer (pid \(getpid())) held"), "\(corrupt.stderr)")
        try Self.flipByte(journal, at: 30, 0xFF)
        #expect(try Ihub.run(["verify", "--data", data]).status == 0)

        // A flipped byte in the snapshot's body: its checksum fails every read.
        let snapshot = data + "/store/indicators.snap"
        let size = try #require(try FileManager.default.attributesOfItem(atPath: snapshot)[.size] as? Int)
        #expect(size > 4096 + 20)
        try Self.flipByte(snapshot, at: size - 20, 0x5A)
        let damaged = try Ihub.run(["verify", "--data", data])
        #expect(damaged.status == 2)
        #expect(damaged.stderr.contains(snapshot) && damaged.stderr.contains("3 reads"), "\(damaged.stderr)")
    }
}
