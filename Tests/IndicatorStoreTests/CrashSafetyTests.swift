import IndicatorKit
import Testing
@testable import IndicatorStore

/// The writer replaces a snapshot atomically (temporary file, fsync, rename, fsync of the
/// directory): whatever happens before the rename, the old snapshot stays intact and readable.
@Suite struct CrashSafetyTests {
    static let old = [(digest(.domain, "old.example"), EntryMetadata(sourceID: 1))]
    static let new = [(digest(.domain, "new.example"), EntryMetadata(sourceID: 2))]

    @Test(arguments: [SnapshotWriter.CrashPoint.afterBody, .beforeRename])
    func aWriterDyingBeforeRenameLeavesTheOldFileIntact(_ point: SnapshotWriter.CrashPoint) throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.file("store.snap")
        try writeSnapshot(Self.old, to: path)
        let before = readFile(path)

        var writer = SnapshotWriter(key: testKey)
        writer.crashPoint = point
        for (digest, metadata) in Self.new { writer.add(digest, metadata) }
        #expect(throws: StoreError.self) { _ = try writer.write(to: path, createdAt: 5) }

        #expect(readFile(path) == before)
        let snapshot = try Snapshot.open(path, key: testKey, verification: .full)
        #expect(snapshot.lookup(Self.old[0].0, now: 0)?.sourceID == 1)
        #expect(snapshot.lookup(Self.new[0].0, now: 0) == nil)
        // The dead writer's temporary file is left behind, never the target.
        #expect(directory.contents().contains { $0.hasPrefix(".store.snap.tmp-") })

        // The next writer succeeds and replaces the file.
        try writeSnapshot(Self.new, to: path)
        let replaced = try Snapshot.open(path, key: testKey, verification: .full)
        #expect(replaced.lookup(Self.new[0].0, now: 0)?.sourceID == 2)
    }

    @Test func aFailedWriteCleansUpAndNamesTheFile() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.file("missing-dir/store.snap")
        var writer = SnapshotWriter(key: testKey)
        writer.add(Self.old[0].0, Self.old[0].1)
        do {
            _ = try writer.write(to: path)
            Issue.record("wrote into a missing directory")
        } catch {
            guard case .system(let operation, let file, let code) = error else { Issue.record("\(error)"); return }
            #expect(operation == "open")
            #expect(file.hasPrefix(directory.file("missing-dir/.store.snap.tmp-")))
            #expect(code == 2)
            #expect(error.description.contains("no such file or directory"))
        }
        #expect(directory.contents().isEmpty)
    }

    @Test func successfulWritesLeaveNoTemporaryFiles() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        try writeSnapshot(Self.old, to: directory.file("store.snap"))
        try writeSnapshot(Self.new, to: directory.file("store.snap"))
        #expect(directory.contents() == ["store.snap"])
    }
}
