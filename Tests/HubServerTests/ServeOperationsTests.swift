import Foundation
import HubClient
import HubServer
import HubTLS
import HubWire
import IndicatorKit
import IndicatorStore
import Testing

/// What an operator expects without asking (docs/OPERATIONS.md): the snapshot held as
/// `--memory` says, answering the same either way, and a data directory with unsafe
/// permissions refused (secret keys, writable directories) or warned about (open directories).
@Suite struct ServeOperationsTests {
    static let pushed = "phish-huge-pages.example"

    /// One hub's answers: the good partner's batch, then a pushed value before and after a
    /// compaction (which reopens the new snapshot with the same memory mode).
    static func story(_ memory: StoreMemory) throws -> (answers: [[Answer]], log: LogCapture) {
        let hub = try EndToEndHub.withSources(memory: memory)
        defer { hub.stop() }
        #expect(hub.server.configuration.memory == memory)
        #expect(hub.server.snapshot?.memory == memory.snapshotMemory)
        #expect(hub.log.await("store_opened", containing: ["memory=\(memory.rawValue)"]) != nil,
                "the mode is logged at start: \(hub.log.all)")
        let bank = try hub.client(Partner.good)
        defer { bank.close() }
        let ask = { try bank.query(values: GoodPartner.values + [Self.pushed], fields: GoodPartner.fields) }
        var answers = [try ask()]
        let record = PushRecord(type: .domain, Self.pushed, fields: UploadFields(category: .phishing, confidence: 85))
        #expect(try #require(try hub.push(Source.a, [record]).result).accepted == 1)
        answers.append(try ask())
        let before = hub.server.snapshot?.header.sequence ?? 0
        hub.server.compactNow()
        #expect(hub.log.await("compacted") != nil, "compaction finished: \(hub.log.all)")
        let after = try #require(hub.server.snapshot, "a snapshot after the compaction")
        #expect(after.header.sequence > before, "the compaction swapped in a new snapshot")
        #expect(after.memory == memory.snapshotMemory, "the compaction reopened it as --memory says")
        #expect(hub.server.live.view().deltaCount == 0, "the upload is in the snapshot now, not the delta")
        answers.append(try ask())
        #expect(hub.log.lines("compaction_failed").isEmpty)
        return (answers, hub.log)
    }

    @Test func hugePagesAnswerExactlyAsTheFileMappingAcrossACompaction() throws {
        let mapped = try Self.story(.map)
        let huge = try Self.story(.hugePages)
        #expect(mapped.answers.count == 3)
        #expect(huge.answers == mapped.answers)
        // The answers themselves, so that two equally wrong hubs do not pass.
        let hit = Answer.hit(RevealedFields(category: .phishing, confidence: 85))
        #expect(huge.answers.map { Array($0.prefix(GoodPartner.expected.count)) }
            == Array(repeating: GoodPartner.expected, count: 3))
        #expect(huge.answers.map(\.last) == [.miss, hit, hit])
        // Whether the kernel granted huge pages depends on the machine: only that it was looked at.
        let opened = try #require(huge.log.lines("store_opened").first)
        #expect(opened.contains("anon_huge_pages_kib="), "\(opened)")
        #expect(mapped.log.lines("store_opened").first?.contains("anon_huge_pages_kib=") == false)
    }

    // MARK: Permissions

    /// A data directory as `ihub init` makes it (store, PKI), with policies; no server yet.
    final class Prepared {
        let temp: TempDir
        let data: String
        let policies: String
        let log = LogCapture()

        init() throws {
            temp = try TempDir()
            data = temp.path + "/data"
            policies = temp.path + "/policies"
            let (directory, key) = try DataDirectory.create(at: data)
            _ = try writeTestStore(key: key, path: directory.snapshotPath)
            _ = try HubPKI.create(dataDirectory: data, hostnames: [])
            try writeEndToEndPolicies(policies)
        }

        func chmod(_ relative: String, _ mode: Int) throws {
            try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: data + relative)
        }

        func server() throws -> HubServer {
            try HubServer(HubServer.Configuration(dataDirectory: data, policiesDirectory: policies, host: "127.0.0.1",
                                                  port: 0, loops: 1, limits: testLimits()),
                          log: ServerLog(sink: log.sink))
        }

        /// The refusal of `server()`, or nil when it opened (the server is then closed).
        func refusal() throws -> ServerConfigurationError? {
            do {
                let server = try server()
                server.stop()
                return nil
            } catch let error as ServerConfigurationError {
                return error
            }
        }
    }

    /// `stop()` on a server that was never started closes what `init` opened: the store (its
    /// writer lock is free again, so a second server can open it) and the audit log. It used to
    /// return at once, leaving both open; released, the audit log's syncer thread then read the
    /// freed log and crashed the process.
    @Test func aServerNeverStartedStopsCleanlyAndReleasesTheStore() throws {
        let prepared = try Prepared()
        let first = try prepared.server()
        #expect(try DataDirectory.open(at: prepared.data).writerLockState() == .held(pid: getpid()))
        first.stop()
        first.stop()  // a second stop does nothing
        #expect(try DataDirectory.open(at: prepared.data).writerLockState() == .free)
        let second = try prepared.server()
        second.stop()
    }

    @Test func aDataDirectoryAsInitMakesItServesWithoutAFinding() throws {
        let prepared = try Prepared()
        #expect(try prepared.refusal() == nil)
        #expect(prepared.log.lines("insecure_permissions").isEmpty, "\(prepared.log.all)")
    }

    @Test(arguments: ["/digest.key", "/tls/server.key", "/tls/ca.key"])
    func aSecretKeyOthersMayReadIsRefused(_ key: String) throws {
        let prepared = try Prepared()
        try prepared.chmod(key, 0o640)
        let error = try #require(try prepared.refusal(), "\(key) 0640 must be refused")
        #expect(error.path == prepared.data + key)
        #expect(error.reason.contains("mode 0640"), "\(error.reason)")
        #expect(error.reason.contains("chmod 600 \(prepared.data + key)"), "\(error.reason)")
        let line = try #require(prepared.log.lines("insecure_permissions").first)
        #expect(line.contains("level=error") && line.contains("mode=0640"), "\(line)")
    }

    @Test func aDirectoryOthersMayWriteToIsRefusedAndEveryFindingLogged() throws {
        let prepared = try Prepared()
        try prepared.chmod("/store", 0o770)
        try prepared.chmod("/tls/server.key", 0o604)
        let error = try #require(try prepared.refusal())
        #expect(error.path == prepared.data + "/tls/server.key", "keys are judged first: \(error)")
        #expect(error.reason.contains("and 1 more"), "\(error.reason)")
        let lines = prepared.log.lines("insecure_permissions")
        #expect(lines.count == 2, "\(lines)")
        #expect(lines.contains { $0.contains("path=\(prepared.data)/store ") && $0.contains("fix=\"chmod 700 \(prepared.data)/store\"") },
                "\(lines)")
    }

    @Test func aDirectoryOthersMayEnterIsLoggedAsAWarningAndServed() throws {
        let prepared = try Prepared()
        try prepared.chmod("", 0o755)
        try prepared.chmod("/tls", 0o750)
        #expect(try prepared.refusal() == nil)
        let lines = prepared.log.lines("insecure_permissions")
        #expect(lines.count == 2, "\(lines)")
        #expect(lines.allSatisfy { $0.contains("level=warn") }, "\(lines)")
        #expect(lines.first?.contains("mode=0755") == true && lines.first?.contains("enter a hub data directory") == true,
                "\(lines)")
    }
}
