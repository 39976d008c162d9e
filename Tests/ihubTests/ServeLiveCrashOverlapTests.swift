import Foundation
import HubAudit
import HubClient
import HubWire
import IndicatorKit
import IndicatorStore
import Testing

/// `ServeLiveCrashTests` with values several sources report (docs/LIVE-UPDATES.md,
/// "Crash-safety test"): three CERTs upload values drawn partly from a shared pool (plus
/// values of their own), withdraw by value and by upload, while the hub compacts and is
/// `SIGKILL`ed at random moments; so entries become multi-report entries (reports table,
/// `multi` flag), lose and regain reports, and are compacted and recovered under crashes.
///
/// After each restart, with the expected entry of a value the documented merge of the live
/// reports the sources' models hold (`OverlapMerge`):
/// - the operations in doubt (one per source at most) are each entirely in effect or not at
///   all: some combination of "applied / not applied" must explain every answer for their
///   values; one the answers cannot tell (a withdrawal of reports that do not change the
///   merged entry) is retried, and the retry's withdrawn count must be 0 or all;
/// - a value with a live acknowledged report hits, one without misses, and the hit shows the
///   merged category, confidence, expiry and action (a bank sees no more: never the TLP, the
///   seen dates or the source); a bank whose TLP ceiling is amber sees the value only when no
///   live report is stricter than amber (the strictest TLP is the entry's);
/// - acknowledged answers carry the counts the model predicts (withdrawals count only the
///   withdrawing source's reports: another source's value is "not found").
/// At the end the store opened in process must hold, per value, exactly the model's reports
/// (source, metadata, upload number where the test knows it) and the merged entry with every
/// field (TLP, first and last seen, the lowest source id too); the audit chain holds.
///
/// Not asserted: `coversSubdomains` (no wildcard values), expiry in the past (every record
/// expires 20–40 days ahead or never, so the "expired entry starts afresh" rule is not hit).
///
/// `make test`: 30 kills (`IHUB_SERVE_CRASH_OVERLAP_ROUNDS`; `make soak`: 300), uploads of up to
/// `IHUB_SERVE_CRASH_MAX_RECORDS` (40) records.
@Suite struct ServeLiveCrashOverlapTests {
    static let environment = ProcessInfo.processInfo.environment
    static var rounds: Int { environment["IHUB_SERVE_CRASH_OVERLAP_ROUNDS"].flatMap(Int.init) ?? 30 }
    static var maxRecords: Int { ServeLiveCrashTests.maxRecords }
    /// Values the sources share: small enough that most pool values have several reports.
    static var poolSize: Int { max(200, maxRecords * 4) }
    static var fullCheckLimit: Int { maxRecords > 200 ? 10_000 : 3_000 }
    static let fullCheckEvery = 10
    static var compactAfter: Int { maxRecords > 200 ? 5_000 : 60 }
    typealias Pending = OverlapSourceModel.Pending

    @Test func killingTheHubWhileSourcesReportTheSameValuesKeepsEveryAcknowledgedReport() throws {
        let started = Date()
        let hub = try OverlapHub.make(compactAfter: Self.compactAfter)
        let pool = OverlapPool(size: Self.poolSize)
        let sources = OverlapHub.sourceNames.enumerated().map {
            OverlapSource(name: $1, identity: hub.identity(of: $1), model: OverlapSourceModel(source: $0))
        }
        var stats = LiveCrashStats()
        var counts = OverlapCounts()
        var random = SystemRandomNumberGenerator()
        var server = try hub.start(round: 0)
        let ids = try DataDirectory.open(at: hub.data).sources()
        for source in sources { source.sourceID = try #require(ids[source.name], "\(ids)") }
        var checker = OverlapChecker(pool: pool, sourceIDs: sources.map(\.sourceID))
        for round in 0..<Self.rounds {
            var clock = Date()
            let killed = ServeLiveCrashTests.killLater(server, stats: &stats, random: &random)
            let (port, pid) = (server.port, server.process.processIdentifier)
            ServeLiveCrashTests.onThreads(sources) { source in
                source.pending = Self.operate(port: port, pid: pid, hub: hub, pool: pool, source: source)
            }
            for source in sources { source.stats.recordProblems(round: round) }
            server = try ServeLiveCrashTests.endRound(server, killed: killed, hub: hub, round: round, stats: &stats,
                                                      clock: &clock)

            let bank = try hub.client(hub.identity(of: OverlapHub.bank), port: server.port)
            let amber = try hub.client(hub.identity(of: OverlapHub.amberBank), port: server.port)
            try checker.resolve(sources, server: server, bank: bank, hub: hub, stats: &stats, counts: &counts,
                                round: round)
            let full = round % Self.fullCheckEvery == Self.fullCheckEvery - 1 || round == Self.rounds - 1
            try checker.check(sources, bank: bank, amber: amber, hub: hub, full: full, limit: Self.fullCheckLimit,
                              stats: &stats, counts: &counts, round: round)
            bank.close()
            amber.close()
            for source in sources { source.stats.recordProblems(round: round) }
            stats.time(.check, since: &clock)
        }
        try ServeLiveCrashTests.finish(server, sources: sources.map(\.stats), rounds: Self.rounds, started: started,
                                       stats: &stats) { (stats: inout LiveCrashStats) throws in
            try checker.finalCheck(sources, hub: hub, stats: &stats)
        }
        print("ServeLiveCrashOverlapTests: \(stats) \(counts)")
        // Beyond what every run must show: multi-report answers, a withdrawal that left another
        // source's report, a leading report that is not the lowest source's.
        #expect(counts.multiChecked > 0 && counts.keptByAnotherSource > 0 && counts.leaderNotLowest > 0, "\(counts)")
    }


    /// One source's work until the hub dies (as `ServeLiveCrashTests.operate`): new uploads,
    /// retries, withdrawals of values (its live ones, one never listed, sometimes a pool value
    /// it has no report of) and of whole uploads, now and then a `SIGUSR1`. Returns the
    /// operation whose answer never arrived; problems go to the source's `stats`.
    static func operate(port: UInt16, pid: pid_t, hub: LiveCrashHub, pool: OverlapPool,
                        source: OverlapSource) -> Pending? {
        guard let cert = try? hub.client(source.identity, port: port) else { return nil }
        defer { cert.close() }
        while true {
            if Int.random(in: 0..<6, using: &source.random) == 0 {
                kill(pid, SIGUSR1)
                source.stats.compactionSignals += 1
            }
            source.stats.operations += 1
            let applied = source.model.uploads(in: .applied)
            let live = Array(source.model.reports.keys)
            let choice = applied.isEmpty || live.isEmpty ? 0 : Int.random(in: 0..<20, using: &source.random)
            switch choice {
            case 0..<11:
                let index = source.model.newUpload(count: Int.random(in: 1...maxRecords, using: &source.random),
                                                   pool: pool, using: &source.random)
                guard let outcome = try? push(cert, source.model.upload(index)) else { return .upload(index) }
                expectNew(outcome, index, source)
            case 11..<13:  // a retry: of an applied upload (nothing changes) or of one never applied
                let unapplied = source.model.uploads(in: .notApplied)
                let index = (!unapplied.isEmpty && Bool.random(using: &source.random) ? unapplied : applied)
                    .randomElement(using: &source.random)!
                let before = source.model.upload(index)
                guard let outcome = try? push(cert, before) else {
                    return before.state == .applied ? nil : .upload(index)
                }
                if before.state == .applied {
                    source.stats.expect(outcome.answer?.alreadyApplied == true, "retry of an applied upload: \(outcome)")
                    if let number = before.number {
                        source.stats.expect(outcome.answer?.uploadNumber == number, "retry answered with another number: \(outcome)")
                    }
                    source.model.applied(index, number: outcome.answer?.uploadNumber)
                    source.model.acknowledged(before.id)
                    source.stats.retriesAcknowledged += 1
                } else {
                    expectNew(outcome, index, source)
                }
            case 13..<17:  // withdraw values: its live ones (pool values most often), others it has none of
                let some = Array(live.shuffled(using: &source.random).prefix(Int.random(in: 1...5, using: &source.random)))
                var values = some + ["never-\(Int.random(in: 0..<1_000_000, using: &source.random)).overlap.example"]
                if Bool.random(using: &source.random), let other = pool.values.randomElement(using: &source.random),
                   source.model.reports[other] == nil {
                    values.append(other)
                }
                let pending = Pending.withdrawValues(values)
                let expected = source.model.withdrawCount(pending)
                guard let outcome = try? cert.withdraw(values: values, reference: "W-OVERLAP") else { return pending }
                source.stats.expect(outcome.answer?.withdrawn == UInt32(expected)
                                        && outcome.answer?.notFound == UInt32(values.count - expected),
                                    "withdrawal of \(expected) live values of \(values.count): \(outcome)")
                source.model.apply(pending)
                source.model.acknowledgedWithdrawal()
                source.stats.withdrawalsAcknowledged += 1
            default:  // withdraw a whole upload: only its reports no later upload replaced
                let index = applied.randomElement(using: &source.random)!
                let pending = Pending.withdrawUpload(index)
                let expected = source.model.withdrawCount(pending)
                guard let outcome = try? cert.withdraw(uploadID: source.model.upload(index).id, reference: "W-OVERLAP") else {
                    return pending
                }
                source.stats.expect(outcome.answer?.withdrawn == UInt32(expected),
                                    "withdrawal of an upload with \(expected) live reports: \(outcome)")
                source.model.apply(pending)
                source.model.acknowledgedWithdrawal()
                source.stats.withdrawalsAcknowledged += 1
            }
        }
    }

    static func push(_ client: HubClient, _ upload: OverlapSourceModel.Upload) throws(ClientError) -> PushOutcome {
        try client.push(records: upload.records, format: .list, uploadID: upload.id, legalBasis: "nis2-art-11",
                        reference: "CERT-OVERLAP")
    }

    /// A first application's answer: everything accepted, a number above all earlier ones.
    static func expectNew(_ outcome: PushOutcome, _ index: Int, _ source: OverlapSource) {
        let count = UInt32(source.model.upload(index).records.count)
        guard let answer = outcome.answer else {
            source.stats.expect(false, "upload refused: \(outcome)")
            return
        }
        source.stats.expect(!answer.alreadyApplied && answer.accepted == count && answer.duplicates == 0
                                && answer.rejected == 0, "first application of \(count) records: \(answer)")
        source.stats.expect(answer.uploadNumber > source.model.largestNumber,
                            "upload numbers rise: \(answer.uploadNumber) after \(source.model.largestNumber)")
        source.model.applied(index, number: answer.uploadNumber)
        source.model.acknowledged(answer.uploadID)
        source.stats.uploadsAcknowledged += 1
    }
}
