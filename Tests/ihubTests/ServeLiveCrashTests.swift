import Foundation
import HubAudit
import HubClient
import HubWire
import IndicatorKit
import IndicatorStore
import Testing

/// Issue 4's crash test through the real server (docs/LIVE-UPDATES.md, "Crash-safety test"):
/// `ihub serve` with a small `--compact-after` takes uploads, retries and withdrawals from two
/// CERTs at once (HubClient, one connection each per round, each on its own thread) and
/// `SIGUSR1` compactions, and is `SIGKILL`ed at a random moment — while the clients wait for
/// answers, often inside a compaction.
/// After each kill: `ihub verify` passes, the hub restarts on the same data directory, and a
/// bank's queries give exactly what `LiveCrashModel` says — every acknowledged upload fully
/// present, the operation in doubt entirely in effect or not at all, acknowledged withdrawals
/// absent. At the end: the store opened in process with full verification, the audit chain,
/// and an audit record for every acknowledged upload.
///
/// `make test`: 50 kills, uploads of 1–40 records. `make soak`: `IHUB_SERVE_CRASH_ROUNDS`
/// (500) kills, uploads of up to `IHUB_SERVE_CRASH_MAX_RECORDS` (2000) records.
@Suite struct ServeLiveCrashTests {
    static let environment = ProcessInfo.processInfo.environment
    static var rounds: Int { environment["IHUB_SERVE_CRASH_ROUNDS"].flatMap(Int.init) ?? 50 }
    static var maxRecords: Int { environment["IHUB_SERVE_CRASH_MAX_RECORDS"].flatMap(Int.init) ?? 40 }
    /// Longest random wait before the kill, microseconds: a few operations' worth.
    static var maxKillDelay: UInt32 { maxRecords > 200 ? 600_000 : 150_000 }
    /// Above this many values (a source's), a round checks the touched uploads' values and a
    /// sample of half as many; every `fullCheckEvery`-th round and the last check all while
    /// there are at most 50,000; the final in-process check always checks all.
    static var fullCheckLimit: Int { maxRecords > 200 ? 10_000 : 3_000 }
    static let fullCheckEvery = 10

    @Test func killingTheHubDuringPushesAndCompactionsLosesNothingAcknowledged() throws {
        let started = Date()
        let hub = try LiveCrashHub(compactAfter: Self.maxRecords > 200 ? 5_000 : 60)
        let sources = hub.sources.enumerated().map { LiveCrashSource(name: $1, identity: hub.identity(of: $1), model: LiveCrashModel(tag: $0)) }
        var stats = LiveCrashStats()
        var random = SystemRandomNumberGenerator()
        var server = try hub.start(round: 0)
        for round in 0..<Self.rounds {
            var clock = Date()
            let killed = Self.killLater(server, stats: &stats, random: &random)
            let (port, pid) = (server.port, server.process.processIdentifier)
            Self.onThreads(sources) { source in
                source.pending = Self.operate(port: port, pid: pid, hub: hub, identity: source.identity,
                                              model: &source.model, stats: &source.stats, random: &source.random)
            }
            for source in sources { source.stats.recordProblems(round: round) }
            server = try Self.endRound(server, killed: killed, hub: hub, round: round, stats: &stats, clock: &clock)
            let bank = try hub.client(hub.bankIdentity, port: server.port)
            let full = round % Self.fullCheckEvery == Self.fullCheckEvery - 1 || round == Self.rounds - 1
            for source in sources {
                try Self.check(server, bank: bank, hub: hub, identity: source.identity, model: &source.model,
                               pending: source.pending, full: full, stats: &source.stats, round: round,
                               random: &source.random)
            }
            bank.close()
            for source in sources { source.stats.recordProblems(round: round) }
            stats.time(.check, since: &clock)
        }
        try Self.finish(server, sources: sources.map(\.stats), rounds: Self.rounds, started: started, stats: &stats) {
            (stats: inout LiveCrashStats) throws in
            try Self.finalCheck(hub: hub, models: sources.map(\.model), stats: &stats)
        }
        print("ServeLiveCrashTests: \(stats)")
    }

    /// The end of a serve crash test's run (shared with `ServeLiveCrashOverlapTests`): a clean
    /// stop, the test's `finalCheck` on the store, the sources' counts added to `stats`, and
    /// proof the run did what it claims: every round killed the hub, uploads were acknowledged,
    /// compactions finished, and a kill came inside one.
    static func finish(
        _ server: ServeProcess, sources: [LiveCrashStats], rounds: Int, started: Date, stats: inout LiveCrashStats,
        finalCheck: (inout LiveCrashStats) throws -> Void
    ) throws {
        server.stop(SIGTERM)
        #expect(server.process.terminationStatus == 0, "\(server.logText)")
        var clock = Date()
        try finalCheck(&stats)
        stats.time(.final, since: &clock)
        for source in sources { stats.add(source) }
        stats.seconds = Date().timeIntervalSince(started)
        #expect(stats.kills == rounds && rounds >= 1)
        #expect(stats.uploadsAcknowledged > 0 && stats.compactions > 0 && stats.killsMidCompaction > 0, "\(stats)")
    }

    /// Runs `work` for every source on a thread of its own and waits for all of them.
    static func onThreads<Source: Sendable>(_ sources: [Source], _ work: @escaping @Sendable (Source) -> Void) {
        let working = DispatchGroup()
        for source in sources {
            working.enter()
            Thread.detachNewThread {
                work(source)
                working.leave()
            }
        }
        working.wait()
    }

    /// The end of a round (shared with `ServeLiveCrashOverlapTests`): waits for the kill
    /// `killLater` scheduled, counts what the hub's log and store show (finished compactions, a
    /// kill with one requested or under way), checks the store with `ihub verify`, and starts
    /// the hub again for round `round + 1`.
    static func endRound(_ server: ServeProcess, killed: DispatchSemaphore, hub: LiveCrashHub, round: Int,
                         stats: inout LiveCrashStats, clock: inout Date) throws -> ServeProcess {
        killed.wait()
        server.process.waitUntilExit()
        stats.time(.operate, since: &clock)
        stats.kills += 1
        let log = server.logText
        let requested = log.components(separatedBy: "event=compaction_requested").count - 1
        let finished = log.components(separatedBy: "event=compacted").count - 1
        stats.compactions += finished
        if requested > finished { stats.killsWithCompactionPending += 1 }
        #expect(!log.contains("compaction_failed") && !log.contains("level=error"), "round \(round): \(log)")

        // Files only a compaction of this round leaves before its clean-up (the restart
        // removed earlier ones): a temporary file, tables of a second sequence.
        let store = try FileManager.default.contentsOfDirectory(atPath: hub.data + "/store")
        if store.contains(where: { $0.contains(".tmp-") }) || store.filter({ $0.hasPrefix("reports.") }).count > 1
            || store.filter({ $0.hasPrefix("uploads.") }).count > 1 {
            stats.killsMidCompaction += 1
        }
        let verify = try Ihub.run(["verify", "--data", hub.data])
        #expect(verify.status == 0, "round \(round): ihub verify: \(verify.stderr)")
        stats.time(.verify, since: &clock)
        let restarted = try hub.start(round: round + 1)
        stats.time(.start, since: &clock)
        if restarted.logText.contains("event=journal_torn_tail") { stats.tornTails += 1 }
        return restarted
    }

    /// The store after the last clean stop of a serve crash test, and its digest key: `ihub
    /// verify` passes, and it opens in process with full verification and no torn tail.
    static func openAfterCleanStop(_ hub: LiveCrashHub) throws -> (store: LiveStore, key: DigestKey) {
        let verify = try Ihub.run(["verify", "--data", hub.data])
        #expect(verify.status == 0, "ihub verify: \(verify.stderr)")
        let data = try DataDirectory.open(at: hub.data)
        let key = try data.loadKey()
        let store = try LiveStore.open(data: data, keyID: key.id, verification: .full)
        #expect(store.recoveredTornTail == nil, "a clean stop leaves no torn tail")
        return (store, key)
    }

    /// Sends `SIGKILL` after a random delay, on its own thread (a third of the rounds `SIGUSR1`
    /// shortly before it); the semaphore is signalled once the signal was sent.
    static func killLater(_ server: ServeProcess, stats: inout LiveCrashStats,
                          random: inout SystemRandomNumberGenerator) -> DispatchSemaphore {
        let pid = server.process.processIdentifier
        let delay = UInt32.random(in: 0...maxKillDelay, using: &random)
        let compactFirst: UInt32? = Int.random(in: 0..<3, using: &random) == 0
            ? UInt32.random(in: 0...30_000, using: &random) : nil
        if compactFirst != nil { stats.compactionSignals += 1 }
        let killed = DispatchSemaphore(value: 0)
        Thread.detachNewThread {
            usleep(delay)
            if let compactFirst {
                kill(pid, SIGUSR1)
                usleep(compactFirst)
            }
            kill(pid, SIGKILL)
            killed.signal()
        }
        return killed
    }

    /// One source's work until the hub dies: uploads, retries and withdrawals on one
    /// connection, now and then a `SIGUSR1`. Returns the operation whose answer never arrived.
    /// Runs on its own thread, outside the test's context: problems go to `stats.expect`.
    static func operate(port: UInt16, pid: pid_t, hub: LiveCrashHub, identity: String, model: inout LiveCrashModel,
                        stats: inout LiveCrashStats, random: inout SystemRandomNumberGenerator) -> LiveCrashModel.Pending? {
        guard let cert = try? hub.client(identity, port: port) else { return nil }
        defer { cert.close() }
        while true {
            if Int.random(in: 0..<6, using: &random) == 0 {
                kill(pid, SIGUSR1)  // after the kill the pid may be reaped already; it is not reused that fast
                stats.compactionSignals += 1
            }
            stats.operations += 1
            let applied = model.uploads(in: .applied)
            let choice = applied.isEmpty ? 0 : Int.random(in: 0..<20, using: &random)
            switch choice {
            case 0..<12:  // a new upload
                let index = model.newUpload(count: Int.random(in: 1...maxRecords, using: &random), using: &random)
                guard let outcome = try? push(cert, model.upload(index)) else { return .upload(index) }
                expectNew(outcome, index, &model, &stats)
            case 12..<14:  // a retry: of an applied upload (nothing changes) or of one never applied
                let unapplied = model.uploads(in: .notApplied)
                let index = (!unapplied.isEmpty && Bool.random(using: &random) ? unapplied : applied)
                    .randomElement(using: &random)!
                let before = model.upload(index)
                guard let outcome = try? push(cert, before) else { return before.state == .applied ? nil : .upload(index) }
                if before.state == .applied {
                    stats.expect(outcome.answer?.alreadyApplied == true, "retry of an applied upload: \(outcome)")
                    if let number = before.number {
                        stats.expect(outcome.answer?.uploadNumber == number,
                                     "retry answered with another number: \(outcome)")
                    }
                    model.applied(index, number: outcome.answer?.uploadNumber)
                    model.acknowledged(before.id)
                    stats.retriesAcknowledged += 1
                } else {
                    expectNew(outcome, index, &model, &stats)
                }
            case 14..<17:  // withdraw some live values (and one never listed)
                let index = applied.randomElement(using: &random)!
                let some = Int.random(in: 1...5, using: &random)
                let live = Array(model.liveValues(of: index).shuffled(using: &random).prefix(some))
                let values = live + ["never-\(Int.random(in: 0..<1_000_000, using: &random)).crash.example"]
                guard let outcome = try? cert.withdraw(values: values, reference: "W-CRASH") else {
                    return .withdrawal(live)
                }
                stats.expect(outcome.answer?.withdrawn == UInt32(live.count) && outcome.answer?.notFound == 1,
                             "withdrawal of \(live.count) live values and one unknown: \(outcome)")
                model.withdrawn(live)
                model.acknowledgedWithdrawal()
                stats.withdrawalsAcknowledged += 1
            default:  // withdraw a whole upload
                let index = applied.randomElement(using: &random)!
                let live = model.liveValues(of: index)
                guard let outcome = try? cert.withdraw(uploadID: model.upload(index).id, reference: "W-CRASH") else {
                    return .withdrawal(live)
                }
                stats.expect(outcome.answer?.withdrawn == UInt32(live.count),
                             "withdrawal of an upload with \(live.count) live values: \(outcome)")
                model.withdrawn(live)
                model.acknowledgedWithdrawal()
                stats.withdrawalsAcknowledged += 1
            }
        }
    }

    static func push(_ client: HubClient, _ upload: LiveCrashModel.Upload) throws(ClientError) -> PushOutcome {
        try client.push(records: upload.records, format: .list, uploadID: upload.id, legalBasis: "nis2-art-11",
                        reference: "CERT-CRASH")
    }

    /// A first application's answer: everything accepted, a number above all earlier ones.
    static func expectNew(_ outcome: PushOutcome, _ index: Int, _ model: inout LiveCrashModel, _ stats: inout LiveCrashStats) {
        let count = UInt32(model.upload(index).records.count)
        guard let answer = outcome.answer else {
            stats.expect(false, "upload refused: \(outcome)")
            return
        }
        stats.expect(!answer.alreadyApplied && answer.accepted == count && answer.duplicates == 0 && answer.rejected == 0,
                     "first application of \(count) records: \(answer)")
        stats.expect(answer.uploadNumber > model.largestNumber,
                     "upload numbers rise: \(answer.uploadNumber) after \(model.largestNumber)")
        model.applied(index, number: answer.uploadNumber)
        model.acknowledged(answer.uploadID)
        stats.uploadsAcknowledged += 1
    }

    /// After a restart: the operation in doubt is resolved (all or nothing, and half the time an
    /// upload in doubt is retried with its id), then every value (or, past `fullCheckLimit`,
    /// the touched uploads' values and a sample) answers as the model says.
    static func check(_ server: ServeProcess, bank: HubClient, hub: LiveCrashHub, identity: String,
                      model: inout LiveCrashModel, pending: LiveCrashModel.Pending?, full: Bool,
                      stats: inout LiveCrashStats, round: Int, random: inout SystemRandomNumberGenerator) throws {
        var doubtful: [String] = []
        switch pending {
        case .upload(let index): doubtful = model.upload(index).values
        case .withdrawal(let values): doubtful = values
        case nil: break
        }
        let answers = try hub.query(bank, doubtful)
        let hits = answers.filter { if case .hit = $0 { true } else { false } }.count
        #expect(hits == 0 || hits == doubtful.count,
                "round \(round): an operation in doubt is partly in effect (\(hits) of \(doubtful.count) values hit)")
        switch pending {
        case .upload(let index):
            if hits == doubtful.count {
                model.applied(index, number: nil)
                stats.inDoubtUploadsPresent += 1
            } else {
                model.notApplied(index)
                for (value, answer) in zip(doubtful, answers) { model.observed(value, live: answer != .miss) }
                stats.inDoubtUploadsAbsent += 1
            }
            if Bool.random(using: &random) {
                let cert = try hub.client(identity, port: server.port)
                defer { cert.close() }
                let wasApplied = model.upload(index).state == .applied
                let outcome = try push(cert, model.upload(index))
                #expect(outcome.answer?.alreadyApplied == wasApplied, "round \(round): retry after the crash: \(outcome)")
                if wasApplied {
                    model.applied(index, number: outcome.answer?.uploadNumber)
                    model.acknowledged(model.upload(index).id)
                } else {
                    expectNew(outcome, index, &model, &stats)
                }
            }
        case .withdrawal where !doubtful.isEmpty:
            if hits == 0 { stats.inDoubtWithdrawalsApplied += 1 } else { stats.inDoubtWithdrawalsNotApplied += 1 }
            for (value, answer) in zip(doubtful, answers) { model.observed(value, live: answer != .miss) }
        case .withdrawal, nil: break
        }

        var values = model.values
        let touched = model.takeTouched()
        if values.count > fullCheckLimit && !(full && values.count <= 50_000) {
            values = touched.flatMap { model.upload($0).values }
                + (0..<fullCheckLimit / 2).map { _ in model.values.randomElement(using: &random)! }
        }
        try expectAnswers(hub.query(bank, values), for: values, model: &model, round: round, stats: &stats)
    }

    /// Each value hits with its record's fields when live, misses otherwise; a mismatch is
    /// recorded and the model follows the hub so one loss is not reported again every round.
    static func expectAnswers(_ answers: [Answer], for values: [String], model: inout LiveCrashModel, round: Int,
                              stats: inout LiveCrashStats) {
        stats.valuesChecked += values.count
        var wrong = 0
        for (value, answer) in zip(values, answers) {
            let expected = model.isLive(value) ? model.expectedFields(value) : nil
            if let expected {
                guard case .hit(let fields) = answer, fields.category == expected.category,
                      fields.confidence == expected.confidence, fields.expires == expected.expires,
                      fields.action == expected.action else {
                    wrong += 1
                    if wrong <= 5 { Issue.record("round \(round): \(value) should hit with \(expected), got \(answer)") }
                    model.observed(value, live: answer != .miss)
                    continue
                }
            } else if answer != .miss {
                wrong += 1
                if wrong <= 5 { Issue.record("round \(round): \(value) should miss, got \(answer)") }
                model.observed(value, live: true)
            }
        }
        #expect(wrong == 0, "round \(round): \(wrong) of \(values.count) answers wrong")
    }

    /// After the last clean stop: `ihub verify`, the live store opened in process with full
    /// verification answering every value as the model says, the audit chain intact and an
    /// audit record for every acknowledged upload.
    static func finalCheck(hub: LiveCrashHub, models: [LiveCrashModel], stats: inout LiveCrashStats) throws {
        let (store, key) = try openAfterCleanStop(hub)
        defer { store.close() }
        let now = UInt32(Date().timeIntervalSince1970)
        var wrong = 0
        for model in models {
            for value in model.values {
                let (form, bytes) = try Canonicalizer.canonical(value)
                let digest = bytes.withUnsafeBufferPointer { key.digest(form, canonical: $0) }
                let entry = store.lookup(digest: digest, now: now)
                let expected = model.isLive(value) ? model.expectedFields(value) : nil
                let right = expected.map { fields in
                    entry?.category == fields.category && entry?.confidence == fields.confidence
                        && entry?.expires == fields.expires && entry?.action == fields.action
                } ?? (entry == nil)
                if !right {
                    wrong += 1
                    if wrong <= 5 {
                        let got = String(describing: entry)
                        Issue.record("in-process lookup of \(value): expected \(String(describing: expected)), got \(got)")
                    }
                }
            }
            stats.valuesChecked += model.values.count
        }
        #expect(wrong == 0, "\(wrong) in-process lookups wrong")

        let head = try AuditVerifier.verify(directory: hub.data + "/audit")
        #expect(head.seq > 0)
        let audit = hub.auditText()
        let uploadRecords = audit.components(separatedBy: #""upload":{"upload_id":""#).dropFirst()
        let audited = Set(uploadRecords.map { $0.prefix(32) })
        let acknowledged = models.reduce(into: Set<UploadID>()) { $0.formUnion($1.acknowledgedIDs) }
        let missing = acknowledged.filter { !audited.contains(Substring($0.hex)) }
        #expect(missing.isEmpty, "acknowledged uploads without an audit record: \(missing.count) of \(acknowledged.count)")
        let withdrawals = audit.components(separatedBy: #""withdraw":{"#).count - 1
        let acknowledgedWithdrawals = models.map(\.acknowledgedWithdrawals).reduce(0, +)
        #expect(withdrawals >= acknowledgedWithdrawals,
                "\(withdrawals) withdraw records, \(acknowledgedWithdrawals) acknowledged")
    }

    @Test(arguments: [
        ("ten", "is not a number of delta entries 1–100000000"),
        ("-5", "is not a number of delta entries 1–100000000"),
        ("0", "is not a number of delta entries 1–100000000"),
        ("100000001", "is not a number of delta entries 1–100000000"),
        ("99999999999999999999999", "is not a number of delta entries 1–100000000"),
        ("", "is not a number of delta entries 1–100000000"),
    ])
    func aBadCompactAfterIsRefusedNamingTheFlag(value: String, reason: String) throws {
        let result = try Ihub.run(["serve", "--data", "/nonexistent", "--policies", "/nonexistent",
                                   "--listen", "127.0.0.1:0", "--compact-after", value])
        #expect(result.status == 2)
        #expect(result.stderr.contains("--compact-after: '\(value)' \(reason)"), "\(result.stderr)")
    }
}

extension PushOutcome {
    var answer: UploadResult? {
        if case .answered(let result) = self { return result }
        return nil
    }
}

extension WithdrawOutcome {
    var answer: WithdrawResult? {
        if case .answered(let result) = self { return result }
        return nil
    }
}
