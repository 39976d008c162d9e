import Foundation
import HubClient
import HubWire
import IndicatorKit
import Testing

/// One source's live report of a value in `ServeLiveCrashOverlapTests`: the upload that made
/// it (an index into that source's uploads) and its record's fields (all of them set).
struct OverlapReport: Equatable {
    let upload: Int
    let fields: UploadFields
}

/// The documented merge of a value's live reports (docs/LIVE-UPDATES.md, "Reports and
/// entries"), written from the table and not from `ReportMerge`: first seen the earliest
/// non-zero, last seen the latest, confidence the highest, category and action those of the
/// most confident report (ties: the lowest source id), expiry the latest (0, never, wins), TLP
/// the strictest, source the lowest id. Nil without reports.
enum OverlapMerge {
    static func entry(_ reports: [(source: UInt16, fields: UploadFields)]) -> EntryMetadata? {
        guard !reports.isEmpty else { return nil }
        let all: [EntryMetadata] = reports.map { Self.metadata(of: $0.fields, source: $0.source) }
        var leader = all[0]
        for candidate in all.dropFirst() {
            if candidate.confidence > leader.confidence
                || (candidate.confidence == leader.confidence && candidate.sourceID < leader.sourceID) {
                leader = candidate
            }
        }
        let firstSeen: UInt16 = all.map { $0.firstSeenDay }.filter { $0 != 0 }.min() ?? 0
        let lastSeen = all.map { $0.lastSeenDay }.max()!
        let expires = all.contains { $0.expires == 0 } ? 0 : all.map { $0.expires }.max()!
        return EntryMetadata(
            category: leader.category, confidence: leader.confidence, tlp: all.map { $0.tlp }.max()!,
            action: leader.action, sourceID: all.map { $0.sourceID }.min()!, firstSeenDay: firstSeen,
            lastSeenDay: lastSeen, expires: expires)
    }

    /// A record's fields as the single report the hub stores for `source`.
    static func metadata(of fields: UploadFields, source: UInt16) -> EntryMetadata {
        EntryMetadata(category: fields.category!, confidence: fields.confidence!, tlp: fields.tlp!,
                      action: fields.action!, sourceID: source, firstSeenDay: fields.firstSeenDay!,
                      lastSeenDay: fields.lastSeenDay!, expires: fields.expires!)
    }
}

/// The values every source draws from: reported by several sources, so their entries become
/// multi-report entries (reports table, `multi` flag).
struct OverlapPool {
    let values: [String]

    init(size: Int) {
        values = (0..<size).map { n in
            n % 2 == 0 ? "p\(n).pool.overlap.example" : "99.\((n >> 16) & 255).\((n >> 8) & 255).\(n & 255)"
        }
    }
}

/// What one source of `ServeLiveCrashOverlapTests` did and has live: its uploads and, per
/// value, its one live report (a later upload of a value replaces the source's earlier report;
/// `withdraw upload` drops only the reports still from that upload). Another source's reports
/// are in that source's model: the expected entry is the merge across the models. Mutated only
/// by the source's thread during a round and by the test's thread between rounds.
struct OverlapSourceModel {
    enum State: Equatable { case unsent, applied, notApplied }

    struct Upload {
        let id: UploadID
        let records: [PushRecord]
        let values: [String]
        var state: State = .unsent
        var number: UInt32?
    }

    /// An operation whose answer never arrived.
    enum Pending {
        case upload(Int)
        /// The values sent (live reports of this source, one never listed, perhaps a pool
        /// value only other sources report).
        case withdrawValues([String])
        case withdrawUpload(Int)
    }

    let source: Int
    private(set) var uploads: [Upload] = []
    /// Value → this source's live report.
    private(set) var reports: [String: OverlapReport] = [:]
    /// Values only this source ever reports, in the order generated.
    private(set) var ownValues: [String] = []
    /// Values whose report changed since `takeTouched()`.
    private(set) var touched: Set<String> = []
    private(set) var acknowledgedIDs: Set<UploadID> = []
    private(set) var acknowledgedWithdrawals = 0
    private(set) var largestNumber: UInt32 = 0
    private var counter = 0
    private let today: UInt16

    init(source: Int, now: Date = Date()) {
        self.source = source
        today = UInt16(UInt32(now.timeIntervalSince1970) / 86_400)
    }

    /// A new upload of `count` distinct values: at least one fresh value of this source's own
    /// (so an upload in doubt always shows whether it applied), the rest from the pool. Each
    /// record has every field set, at random: confidence from a small range (ties between
    /// sources happen), TLP clear to red, first and last seen (first seen sometimes 0,
    /// unknown), expiry 20–40 days ahead or (rarely) 0, never.
    mutating func newUpload(count: Int, pool: OverlapPool, using random: inout some RandomNumberGenerator) -> Int {
        let index = uploads.count
        let own = Int.random(in: 1...max(1, count / 2), using: &random)
        var names: [String] = []
        for _ in 0..<own {
            counter += 1
            let n = counter
            let value = Bool.random(using: &random)
                ? "o\(n).s\(source).overlap.example"
                : "\(100 + source).\((n >> 16) & 255).\((n >> 8) & 255).\(n & 255)"
            names.append(value)
            ownValues.append(value)
        }
        names += pool.values.shuffled(using: &random).prefix(count - own)
        let records = names.map { PushRecord(type: nil, $0, fields: Self.randomFields(today: today, using: &random)) }
        uploads.append(Upload(id: .random(), records: records, values: names))
        return index
    }

    static func randomFields(today: UInt16, using random: inout some RandomNumberGenerator) -> UploadFields {
        let categories: [ThreatCategory] = [.malware, .c2, .phishing, .botnet]
        let actions: [ActionHint] = [.block, .warn, .monitor]
        let tlps: [TLP] = [.clear, .green, .green, .amber, .amber, .red]
        let lastSeen = today - UInt16.random(in: 0...30, using: &random)
        let firstSeen = Int.random(in: 0..<8, using: &random) == 0 ? 0 : lastSeen - UInt16.random(in: 0...30, using: &random)
        let expires = Int.random(in: 0..<15, using: &random) == 0
            ? 0 : (UInt32(today) + UInt32.random(in: 20...40, using: &random)) * 86_400
        return UploadFields(category: categories.randomElement(using: &random)!,
                            confidence: UInt8.random(in: 60...70, using: &random), tlp: tlps.randomElement(using: &random)!,
                            action: actions.randomElement(using: &random)!, firstSeenDay: firstSeen,
                            lastSeenDay: lastSeen, expires: expires)
    }

    func upload(_ index: Int) -> Upload { uploads[index] }
    func uploads(in state: State) -> [Int] { uploads.indices.filter { uploads[$0].state == state } }

    /// Values whose live report of this source is still the one upload `index` made.
    func liveValues(of index: Int) -> [String] { uploads[index].values.filter { reports[$0]?.upload == index } }

    /// How many of `values` this source has a live report of.
    func liveCount(_ values: [String]) -> Int { values.filter { reports[$0] != nil }.count }

    /// The values an operation may change (what is queried to resolve it when in doubt).
    func values(of pending: Pending) -> [String] {
        switch pending {
        case .upload(let index), .withdrawUpload(let index): uploads[index].values
        case .withdrawValues(let values): values
        }
    }

    /// How many reports the withdrawal `pending` removes from the current state.
    func withdrawCount(_ pending: Pending) -> Int {
        switch pending {
        case .upload: 0
        case .withdrawValues(let values): liveCount(values)
        case .withdrawUpload(let index): liveValues(of: index).count
        }
    }

    // MARK: changes

    /// The effect of `pending` (an upload applied, a withdrawal done).
    mutating func apply(_ pending: Pending) {
        switch pending {
        case .upload(let index): applied(index, number: nil)
        case .withdrawValues(let values): withdraw(values)
        case .withdrawUpload(let index): withdraw(liveValues(of: index))
        }
    }

    /// The hub applied upload `index`: each of its records replaces this source's report of
    /// its value — unless it was applied before (a retry changes nothing).
    mutating func applied(_ index: Int, number: UInt32?) {
        if uploads[index].state != .applied {
            uploads[index].state = .applied
            for record in 0..<uploads[index].records.count {
                let value = uploads[index].values[record]
                reports[value] = OverlapReport(upload: index, fields: uploads[index].records[record].fields)
                touched.insert(value)
            }
        }
        if let number {
            uploads[index].number = number
            largestNumber = max(largestNumber, number)
        }
    }

    mutating func notApplied(_ index: Int) {
        uploads[index].state = .notApplied
        touched.formUnion(uploads[index].values)
    }

    mutating func withdraw(_ values: [String]) {
        for value in values where reports.removeValue(forKey: value) != nil { touched.insert(value) }
    }

    mutating func acknowledged(_ id: UploadID) { acknowledgedIDs.insert(id) }
    mutating func acknowledgedWithdrawal() { acknowledgedWithdrawals += 1 }

    mutating func takeTouched() -> Set<String> {
        defer { touched = [] }
        return touched
    }
}

extension OverlapSourceModel: CrashSourceModel {}

/// One CERT of the overlap test.
typealias OverlapSource = CrashSource<OverlapSourceModel>

/// What the overlap test exercised beyond `LiveCrashStats`: how often the answers depended on
/// several reports.
struct OverlapCounts: CustomStringConvertible {
    /// Checked answers of values with two or more live reports.
    var multiChecked = 0
    /// Values that lost a source's report between two checks and stayed listed through another.
    var keptByAnotherSource = 0
    /// Checked values whose leading report (category, action) is not the lowest source's.
    var leaderNotLowest = 0
    /// Operations in doubt that the answers could not tell and a retry resolved.
    var resolvedByRetry = 0
    /// Answers of the bank whose ceiling is amber hidden by a strict report only.
    var hiddenByStrictTLP = 0

    var description: String {
        "multi_checked=\(multiChecked) kept_by_another_source=\(keptByAnotherSource) "
            + "leader_not_lowest=\(leaderNotLowest) resolved_by_retry=\(resolvedByRetry) "
            + "hidden_by_strict_tlp=\(hiddenByStrictTLP)"
    }
}

/// The names in the overlap test's data directory: three CERTs allowed to upload and withdraw
/// (the policy of `LiveCrashHub`), a bank that sees every TLP and a bank whose ceiling is amber,
/// both seeing category, confidence, expiry and action.
enum OverlapHub {
    static let sourceNames = ["cert-ovl-a", "cert-ovl-b", "cert-ovl-c"]
    static let bank = "bank-ovl"
    static let amberBank = "bank-ovl-amber"

    static func make(compactAfter: Int) throws -> LiveCrashHub {
        try LiveCrashHub(compactAfter: compactAfter, sources: sourceNames, banks: [(bank, "red"), (amberBank, "amber")])
    }
}
