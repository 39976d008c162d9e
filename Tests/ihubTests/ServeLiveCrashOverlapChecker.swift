import Foundation
import HubAudit
import HubClient
import HubWire
import IndicatorKit
import IndicatorStore
import Testing

/// The checks of `ServeLiveCrashOverlapTests` after each restart and at the end: the expected
/// entry of a value is `OverlapMerge` over the live reports of every source's model.
struct OverlapChecker {
    typealias Pending = OverlapSourceModel.Pending
    let pool: OverlapPool
    /// The hub's source id of each source (by index).
    let sourceIDs: [UInt16]
    /// Values answered wrongly once: reported, then left out of later checks (so one loss is
    /// not reported again every round).
    private(set) var broken: Set<String> = []
    /// The sources with a live report of each value changed since the start, at the last check.
    private var lastSources: [String: Set<Int>] = [:]

    init(pool: OverlapPool, sourceIDs: [UInt16]) {
        self.pool = pool
        self.sourceIDs = sourceIDs
    }

    /// The live reports of `value` in `models`, with the hub's source ids.
    func reports(_ value: String, _ models: [OverlapSourceModel]) -> [(source: UInt16, fields: UploadFields)] {
        models.compactMap { model in model.reports[value].map { (sourceIDs[model.source], $0.fields) } }
    }

    func expected(_ value: String, _ models: [OverlapSourceModel]) -> EntryMetadata? {
        OverlapMerge.entry(reports(value, models))
    }

    /// Whether a bank's answer is the one for `expected` (nil: miss), with TLP ceiling `ceiling`.
    static func matches(_ answer: Answer, _ expected: EntryMetadata?, ceiling: TLP = .red) -> Bool {
        guard let expected, expected.tlp <= ceiling else { return answer == .miss }
        guard case .hit(let fields) = answer else { return false }
        return fields.category == expected.category && fields.confidence == expected.confidence
            && fields.expires == expected.expires && fields.action == expected.action
    }

    // MARK: operations in doubt

    /// Resolves the operations in doubt (one per source at most): each must be entirely in
    /// effect or not at all, so some combination of "applied / not applied" must explain
    /// every answer for their values (operations of different sources touch different
    /// reports, so they commute). An operation the answers cannot tell (no consistent
    /// combination disagrees with another on it: a withdrawal of reports that do not change
    /// any merged entry) is retried: an upload's retry says "already applied" or not, a
    /// withdrawal's must withdraw all of its reports or none. Half the other uploads in
    /// doubt are retried too, as in `ServeLiveCrashTests`.
    mutating func resolve(_ sources: [OverlapSource], server: ServeProcess, bank: HubClient, hub: LiveCrashHub,
                          stats: inout LiveCrashStats, counts: inout OverlapCounts, round: Int) throws {
        let pendings = sources.compactMap { source in source.pending.map { (source: source, op: $0) } }
        guard !pendings.isEmpty else { return }
        var seen = Set<String>()
        let probe = pendings.flatMap { $0.source.model.values(of: $0.op) }.filter { seen.insert($0).inserted }
        let answers = try hub.query(bank, probe)
        let base = sources.map(\.model)
        func wrong(_ mask: Int) -> [(String, Answer)] {
            var models = base
            for (bit, pending) in pendings.enumerated() where mask & (1 << bit) != 0 {
                models[pending.source.model.source].apply(pending.op)
            }
            return zip(probe, answers).filter { !Self.matches($1, expected($0, models)) }
        }
        let combinations = Array(0..<(1 << pendings.count))
        var consistent = combinations.filter { wrong($0).isEmpty }
        if consistent.isEmpty {
            let closest = combinations.min { wrong($0).count < wrong($1).count }!
            let mismatches = wrong(closest)
            Issue.record("""
                round \(round): no combination of the operations in doubt, each entirely in effect or not at all, \
                explains the answers (\(pendings.map { "\($0.source.name): \($0.op)" })); closest \
                (applied mask \(closest)): \(mismatches.count) of \(probe.count) values differ, e.g. \
                \(mismatches.prefix(5).map { "\($0.0) → \($0.1)" })
                """)
            broken.formUnion(mismatches.map(\.0))
            consistent = [closest]
        }

        var retried: [Int: Bool] = [:]  // bit → whether the retry found it in effect
        var uploadRetries: [Int: PushOutcome] = [:]
        for (bit, pending) in pendings.enumerated() where Set(consistent.map { $0 & (1 << bit) != 0 }).count > 1 {
            // A withdrawal of nothing leaves the same state either way.
            if case .upload = pending.op {} else if pending.source.model.withdrawCount(pending.op) == 0 { continue }
            counts.resolvedByRetry += 1
            let cert = try hub.client(pending.source.identity, port: server.port)
            defer { cert.close() }
            let model = pending.source.model
            let withdrawn: UInt32?
            switch pending.op {
            case .upload(let index):
                let outcome = try ServeLiveCrashOverlapTests.push(cert, model.upload(index))
                uploadRetries[bit] = outcome
                retried[bit] = outcome.answer?.alreadyApplied == true
                withdrawn = nil
            case .withdrawValues(let values):
                withdrawn = try cert.withdraw(values: values, reference: "W-OVERLAP").answer?.withdrawn
            case .withdrawUpload(let index):
                withdrawn = try cert.withdraw(uploadID: model.upload(index).id, reference: "W-OVERLAP").answer?.withdrawn
            }
            if retried[bit] == nil {
                let expected = UInt32(model.withdrawCount(pending.op))
                #expect(withdrawn == 0 || withdrawn == expected,
                        "round \(round): the retried withdrawal in doubt withdrew \(String(describing: withdrawn)) of \(expected)")
                retried[bit] = withdrawn == 0
            }
            let agreeing = consistent.filter { ($0 & (1 << bit) != 0) == retried[bit] }
            #expect(!agreeing.isEmpty, "round \(round): the retry of \(pending.op) contradicts the answers")
            if !agreeing.isEmpty { consistent = agreeing }
        }

        let mask = consistent[0]
        for (bit, pending) in pendings.enumerated() {
            let source = pending.source
            let inEffect = mask & (1 << bit) != 0
            switch pending.op {
            case .upload(let index):
                if inEffect {
                    source.model.applied(index, number: nil)
                    stats.inDoubtUploadsPresent += 1
                } else {
                    source.model.notApplied(index)
                    stats.inDoubtUploadsAbsent += 1
                }
                var outcome = uploadRetries[bit]
                if outcome == nil && Bool.random(using: &source.random) {
                    let cert = try hub.client(source.identity, port: server.port)
                    defer { cert.close() }
                    outcome = try ServeLiveCrashOverlapTests.push(cert, source.model.upload(index))
                }
                guard let outcome else { break }
                #expect(outcome.answer?.alreadyApplied == inEffect, "round \(round): retry after the crash: \(outcome)")
                if inEffect {
                    source.model.applied(index, number: outcome.answer?.uploadNumber)
                    source.model.acknowledged(source.model.upload(index).id)
                } else {
                    ServeLiveCrashOverlapTests.expectNew(outcome, index, source)
                }
            case .withdrawValues, .withdrawUpload:
                if inEffect { stats.inDoubtWithdrawalsApplied += 1 } else { stats.inDoubtWithdrawalsNotApplied += 1 }
                // In effect, or retried (then in effect now either way).
                if inEffect || retried[bit] != nil { source.model.apply(pending.op) }
                if retried[bit] != nil { source.model.acknowledgedWithdrawal() }
            }
        }
    }

    // MARK: answers

    /// Every value (or, past `limit`, the changed values and a sample) answers as the merge of
    /// its live reports says, to both banks.
    mutating func check(_ sources: [OverlapSource], bank: HubClient, amber: HubClient, hub: LiveCrashHub, full: Bool,
                        limit: Int, stats: inout LiveCrashStats, counts: inout OverlapCounts, round: Int) throws {
        let touched = sources.reduce(into: Set<String>()) { $0.formUnion($1.model.takeTouched()) }
        let models = sources.map(\.model)
        for value in touched {
            let now = Set(models.filter { $0.reports[value] != nil }.map(\.source))
            if let before = lastSources[value], !before.subtracting(now).isEmpty, !before.intersection(now).isEmpty {
                counts.keptByAnotherSource += 1
            }
            lastSources[value] = now
        }
        let all = pool.values + models.flatMap(\.ownValues)
        var values = all
        if all.count > limit && !(full && all.count <= 50_000) {
            var random = SystemRandomNumberGenerator()
            values = Array(touched) + (0..<limit / 2).map { _ in all.randomElement(using: &random)! }
        }
        values.removeAll { broken.contains($0) }
        let answers = try hub.query(bank, values)
        let amberAnswers = try hub.query(amber, values)
        stats.valuesChecked += 2 * values.count
        var wrong = 0
        for (index, value) in values.enumerated() {
            let live = reports(value, models)
            let entry = OverlapMerge.entry(live)
            if live.count > 1, let entry {
                counts.multiChecked += 1
                let leader = live.filter { $0.fields.confidence == entry.confidence }.map(\.source).min()!
                if leader != entry.sourceID { counts.leaderNotLowest += 1 }
                if entry.tlp > .amber && live.contains(where: { $0.fields.tlp! <= .amber }) { counts.hiddenByStrictTLP += 1 }
            }
            let rightForBank = Self.matches(answers[index], entry)
            let rightForAmber = Self.matches(amberAnswers[index], entry, ceiling: .amber)
            if !rightForBank || !rightForAmber {
                wrong += 1
                broken.insert(value)
                if wrong <= 5 {
                    Issue.record("""
                        round \(round): \(value) with reports \(live.map { "source \($0.source): \($0.fields)" }) \
                        should answer \(String(describing: entry)); bank: \(answers[index]), amber bank: \(amberAnswers[index])
                        """)
                }
            }
        }
        #expect(wrong == 0, "round \(round): \(wrong) of \(values.count) values answered wrongly")
    }

    /// After the last clean stop: `ihub verify`, and the store opened in process with full
    /// verification: per value exactly the model's reports (source, metadata, the upload
    /// number where an answer named it) and the merged entry with every field; the audit chain
    /// and an audit record for every acknowledged upload.
    func finalCheck(_ sources: [OverlapSource], hub: LiveCrashHub, stats: inout LiveCrashStats) throws {
        let (store, key) = try ServeLiveCrashTests.openAfterCleanStop(hub)
        defer { store.close() }
        let models = sources.map(\.model)
        let now = UInt32(Date().timeIntervalSince1970)
        var wrong = 0
        let values = (pool.values + models.flatMap(\.ownValues)).filter { !broken.contains($0) }
        for value in values {
            let (form, bytes) = try Canonicalizer.canonical(value)
            let digest = bytes.withUnsafeBufferPointer { key.digest(form, canonical: $0) }
            let entry = store.lookup(digest: digest, now: now)
            let expected = expected(value, models)
            let stored = store.reports(of: digest).sorted { $0.source < $1.source }
            let wanted = models.compactMap { model in
                model.reports[value].map { report in
                    (source: sourceIDs[model.source], metadata: OverlapMerge.metadata(of: report.fields, source: sourceIDs[model.source]),
                     number: model.upload(report.upload).number)
                }
            }.sorted { $0.source < $1.source }
            let sameReports = stored.count == wanted.count && zip(stored, wanted).allSatisfy { have, want in
                have.source == want.source && have.metadata == want.metadata && (want.number.map { $0 == have.upload } ?? true)
            }
            if entry != expected || !sameReports {
                wrong += 1
                if wrong <= 5 {
                    Issue.record("""
                        in-process \(value): entry \(String(describing: entry)), expected \(String(describing: expected)); \
                        reports \(stored), expected \(wanted)
                        """)
                }
            }
        }
        stats.valuesChecked += values.count
        #expect(wrong == 0, "\(wrong) of \(values.count) in-process lookups wrong")

        let head = try AuditVerifier.verify(directory: hub.data + "/audit")
        #expect(head.seq > 0)
        let audit = hub.auditText()
        let audited = Set(audit.components(separatedBy: #""upload":{"upload_id":""#).dropFirst().map { $0.prefix(32) })
        let acknowledged = models.reduce(into: Set<UploadID>()) { $0.formUnion($1.acknowledgedIDs) }
        let missing = acknowledged.filter { !audited.contains(Substring($0.hex)) }
        #expect(missing.isEmpty, "acknowledged uploads without an audit record: \(missing.count) of \(acknowledged.count)")
        let withdrawals = audit.components(separatedBy: #""withdraw":{"#).count - 1
        let acknowledgedWithdrawals = models.map(\.acknowledgedWithdrawals).reduce(0, +)
        #expect(withdrawals >= acknowledgedWithdrawals, "\(withdrawals) withdraw records, \(acknowledgedWithdrawals) acknowledged")
    }
}
