import Foundation
import IndicatorKit
import IndicatorStore
import Testing

/// `ihub compact`, and the writer lock as the commands see it: a store a hub (here: a live
/// store opened by the test) holds is refused by `ingest` and `compact` at once, with exit 2.
@Suite struct CompactCommandTests {
    /// The digest of a canonical (lower-case ASCII) domain name.
    static func domainDigest(_ key: DigestKey, _ name: String) -> IndicatorDigest {
        Array(name.utf8).withUnsafeBufferPointer { key.digest(.domain, body: $0) }
    }

    @Test func compactFoldsTheJournalAndDropsExpiredEntries() throws {
        let temp = try TemporaryDirectory()
        let ingested = try IngestedStore(temp)
        let (data, key) = (ingested.data, ingested.key)
        // Uploads into the journal (as a hub's partners would), one of them already expired.
        let store = try LiveStore.open(data: ingested.directory, keyID: key.id)
        let expired = Self.domainDigest(key, "c.example")
        _ = try store.upload(LiveStore.UploadRequest(id: UploadID.random(), source: 1, reports: [
            DigestReport(expired, EntryMetadata(expires: 1_000)),
            DigestReport(Self.domainDigest(key, "d.example"), EntryMetadata()),
        ]), time: 500)
        store.close()

        let result = try Ihub.run(["compact", "--data", data, "--json"])
        #expect(result.status == 0, "\(result.stderr)")
        let summary = try result.json()
        #expect(summary["entries"] as? Int == 3)
        #expect(summary["dropped"] as? Int == 1)
        #expect(summary["reports"] as? Int == 0)
        let human = try Ihub.run(["compact", "--data", data])
        #expect(human.status == 0 && human.stdout.contains("3 entries"))
        let lookup = try Ihub.run(["lookup", "--data", data, "--json", "a.example", "d.example", "c.example"])
        #expect(try lookup.jsonLines().map { $0["match"] as? Bool } == [true, true, false])
    }

    @Test func badInputIsRefusedWithExitTwo() throws {
        let temp = try TemporaryDirectory()
        let missing = try Ihub.run(["compact", "--data", temp.path + "/nothing-here"])
        #expect(missing.status == 2 && missing.stderr.contains("not a hub data directory"))
        let noData = try Ihub.run(["compact"])
        #expect(noData.status == 2)
        let data = temp.path + "/data"
        #expect(try Ihub.run(["init", data]).status == 0)
        let extra = try Ihub.run(["compact", "--data", data, "surplus"])
        #expect(extra.status == 2 && extra.stderr.contains("surplus"))
    }

    @Test func aServedStoreIsRefusedAtOnceByCompactIngestAndNamedInTheMessage() throws {
        let temp = try TemporaryDirectory()
        let data = temp.path + "/data"
        #expect(try Ihub.run(["init", data]).status == 0)
        let directory = try DataDirectory.open(at: data)
        let hub = try LiveStore.open(data: directory, keyID: try directory.loadKey().id)
        defer { hub.close() }
        let started = Date()
        let compact = try Ihub.run(["compact", "--data", data])
        #expect(compact.status == 2)
        #expect(compact.stderr.contains(data + "/.lock") && compact.stderr.contains("in use")
            && compact.stderr.contains("pid \(getpid())"), "\(compact.stderr)")
        let feed = try temp.file("feed.txt", "a.example\n")
        let ingest = try Ihub.run(["ingest", "--data", data, "--source", "s", feed])
        #expect(ingest.status == 2 && ingest.stderr.contains("ihub push") && ingest.stderr.contains("pid \(getpid())"),
                "\(ingest.stderr)")
        #expect(ingest.stdout.isEmpty, "nothing was ingested: \(ingest.stdout)")
        #expect(Date().timeIntervalSince(started) < 30, "neither waits for the lock")
        // The operator's lookup still answers, from the snapshot, with a note.
        let lookup = try Ihub.run(["lookup", "--data", data, "a.example"])
        #expect(lookup.status == 0 && lookup.stderr.contains("snapshot alone"))
        let answer = try Ihub.run(["lookup", "--data", data, "--json", "a.example"])
        #expect(try answer.jsonLines().map { $0["match"] as? Bool } == [false], "the refused ingest left the store unchanged")
    }
}

/// A data directory made by `ihub init` with `a.example` and `b.example` ingested from source
/// `s` (a snapshot at sequence 1 with its tables), and its key.
struct IngestedStore {
    let data: String
    let directory: DataDirectory
    let key: DigestKey

    init(_ temp: TemporaryDirectory) throws {
        data = temp.path + "/data"
        #expect(try Ihub.run(["init", data]).status == 0)
        let feed = try temp.file("feed.txt", "a.example\nb.example\n")
        #expect(try Ihub.run(["ingest", "--data", data, "--source", "s", feed]).status == 0)
        directory = try DataDirectory.open(at: data)
        key = try directory.loadKey()
    }

    /// The digest of a canonical (lower-case ASCII) domain name.
    func domain(_ name: String) -> IndicatorDigest { CompactCommandTests.domainDigest(key, name) }
}
