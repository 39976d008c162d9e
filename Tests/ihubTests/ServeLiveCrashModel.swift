import Foundation
import HubClient
import HubWire
import IndicatorKit
import Testing

/// What the hub must answer in `ServeLiveCrashTests`, for one source: every upload it made (its
/// id, its records, whether the hub applied it) and, per value, whether its report is live.
/// Each value belongs to exactly one upload of one source, so a live value's expected answer is
/// its own record's fields (the entry is that one report).
struct LiveCrashModel {
    enum State: Equatable {
        /// Never acknowledged and not (yet) resolved: only while an operation is in doubt.
        case unsent
        /// Acknowledged, or found fully present after a crash.
        case applied
        /// Found fully absent after a crash (a later retry may still apply it).
        case notApplied
    }

    struct Upload {
        let id: UploadID
        let records: [PushRecord]
        let values: [String]
        var state: State = .unsent
        /// The hub's number, once an answer named it.
        var number: UInt32?
    }

    /// An operation whose answer never arrived (the hub died first): after the restart it must
    /// be in effect entirely or not at all.
    enum Pending {
        /// An upload (new, or a retry of one not applied).
        case upload(Int)
        /// A withdrawal (by value or by upload) of these values, live when it was sent.
        case withdrawal([String])
    }

    private(set) var uploads: [Upload] = []
    /// Upload index and record index of every value ever generated, and whether it is live.
    private(set) var slots: [String: (upload: Int, record: Int, live: Bool)] = [:]
    /// All values in the order they were generated (queries use this order).
    private(set) var values: [String] = []
    /// Uploads changed since `takeTouched()`: checked in full after the next restart.
    private(set) var touched: Set<Int> = []
    /// Upload ids the hub acknowledged (new uploads and retries): each needs an audit record.
    private(set) var acknowledgedIDs: Set<UploadID> = []
    /// Acknowledged withdrawals (each needs an audit record).
    private(set) var acknowledgedWithdrawals = 0
    private(set) var largestNumber: UInt32 = 0
    private var counter = 0
    /// Explicit expiry for every record, so a retry's content never depends on the day.
    let expires: UInt32
    /// Tells this source's values from other sources'.
    let tag: Int

    init(tag: Int, now: Date = Date()) {
        self.tag = tag
        let day = UInt32(now.timeIntervalSince1970) / 86_400
        expires = (day + 30) * 86_400
    }

    /// A new upload of `count` fresh values (domains and IPv4 addresses), each with its own
    /// category, confidence and action; returns its index.
    mutating func newUpload(count: Int, using random: inout some RandomNumberGenerator) -> Int {
        let index = uploads.count
        let categories: [ThreatCategory] = [.malware, .c2, .phishing, .botnet]
        let actions: [ActionHint] = [.block, .warn, .monitor]
        let day = UInt16(expires / 86_400 - 30)
        var records: [PushRecord] = []
        var names: [String] = []
        for record in 0..<count {
            counter += 1
            let n = counter
            let value = Bool.random(using: &random)
                ? "v\(n).s\(tag).crash.example"
                : "\(10 + tag).\((n >> 16) & 255).\((n >> 8) & 255).\(n & 255)"
            let fields = UploadFields(category: categories.randomElement(using: &random)!,
                                      confidence: UInt8.random(in: 1...100, using: &random), tlp: .amber,
                                      action: actions.randomElement(using: &random)!, firstSeenDay: day,
                                      lastSeenDay: day, expires: expires)
            records.append(PushRecord(type: nil, value, fields: fields))
            names.append(value)
            slots[value] = (index, record, false)
            values.append(value)
        }
        uploads.append(Upload(id: .random(), records: records, values: names))
        return index
    }

    func upload(_ index: Int) -> Upload { uploads[index] }

    func isLive(_ value: String) -> Bool { slots[value]?.live ?? false }

    /// The fields a hit on `value` must reveal (category, confidence, expires, action).
    func expectedFields(_ value: String) -> UploadFields? {
        guard let slot = slots[value] else { return nil }
        return uploads[slot.upload].records[slot.record].fields
    }

    func liveValues(of index: Int) -> [String] { uploads[index].values.filter(isLive) }

    /// Indexes of uploads in `state`.
    func uploads(in state: State) -> [Int] { uploads.indices.filter { uploads[$0].state == state } }

    // MARK: changes

    /// The hub applied upload `index` (acknowledged or found present): its values are live,
    /// unless it had been applied before (a retry changes nothing).
    mutating func applied(_ index: Int, number: UInt32?) {
        if uploads[index].state != .applied {
            uploads[index].state = .applied
            for value in uploads[index].values { slots[value]?.live = true }
        }
        if let number {
            uploads[index].number = number
            largestNumber = max(largestNumber, number)
        }
        touched.insert(index)
    }

    mutating func notApplied(_ index: Int) {
        uploads[index].state = .notApplied
        touched.insert(index)
    }

    mutating func withdrawn(_ values: [String]) {
        for value in values {
            guard let slot = slots[value] else { continue }
            slots[value]?.live = false
            touched.insert(slot.upload)
        }
    }

    /// After a crash: `value` answered as `live` (for an operation in doubt, or to keep a
    /// reported mismatch from cascading into later rounds).
    mutating func observed(_ value: String, live: Bool) {
        guard let slot = slots[value] else { return }
        slots[value]?.live = live
        touched.insert(slot.upload)
    }

    mutating func acknowledged(_ id: UploadID) { acknowledgedIDs.insert(id) }
    mutating func acknowledgedWithdrawal() { acknowledgedWithdrawals += 1 }

    mutating func takeTouched() -> Set<Int> {
        defer { touched = [] }
        return touched
    }
}

/// A source's model in a serve crash test: what it did, and the kind of operation that can be
/// in doubt after a kill.
protocol CrashSourceModel {
    associatedtype Pending
}

extension LiveCrashModel: CrashSourceModel {}

/// One CERT of a serve crash test: its identity and model, and (while a round runs) what its
/// thread does. Used by one thread at a time: its worker during a round, the test's thread after.
final class CrashSource<Model: CrashSourceModel>: @unchecked Sendable {
    let name: String
    let identity: String
    /// The hub's source id (read from the data directory's `sources` after the first start;
    /// 0 until then, and in tests that do not need it).
    var sourceID: UInt16 = 0
    var model: Model
    var stats = LiveCrashStats()
    var random = SystemRandomNumberGenerator()
    /// The operation in doubt after the last kill.
    var pending: Model.Pending?

    init(name: String, identity: String, model: Model) {
        self.name = name
        self.identity = identity
        self.model = model
    }
}

typealias LiveCrashSource = CrashSource<LiveCrashModel>

/// What happened over the run (printed at the end, so a run shows what it exercised).
struct LiveCrashStats: CustomStringConvertible {
    var kills = 0
    var operations = 0
    var uploadsAcknowledged = 0
    var retriesAcknowledged = 0
    var withdrawalsAcknowledged = 0
    var inDoubtUploadsPresent = 0
    var inDoubtUploadsAbsent = 0
    var inDoubtWithdrawalsApplied = 0
    var inDoubtWithdrawalsNotApplied = 0
    var compactionSignals = 0
    var compactions = 0
    var killsWithCompactionPending = 0
    /// Kills that left a compaction's files behind (killed while it wrote its files or
    /// before its clean-up).
    var killsMidCompaction = 0
    var tornTails = 0
    var valuesChecked = 0
    var seconds = 0.0
    /// Where the time went: working until the kill, `ihub verify`, restarting, checking, and
    /// the final check.
    enum Phase: Int, CaseIterable { case operate, verify, start, check, final }
    var phaseSeconds = [Double](repeating: 0, count: Phase.allCases.count)

    /// Failed expectations of a source's thread (Swift Testing records issues only on the
    /// test's own thread): recorded there by `recordProblems`.
    var problems: [String] = []

    mutating func expect(_ condition: Bool, _ message: @autoclosure () -> String) {
        if !condition { problems.append(message()) }
    }

    mutating func recordProblems(round: Int) {
        for problem in problems { Issue.record("round \(round): \(problem)") }
        problems = []
    }

    /// Adds a source's counts.
    mutating func add(_ other: LiveCrashStats) {
        operations += other.operations
        uploadsAcknowledged += other.uploadsAcknowledged
        retriesAcknowledged += other.retriesAcknowledged
        withdrawalsAcknowledged += other.withdrawalsAcknowledged
        inDoubtUploadsPresent += other.inDoubtUploadsPresent
        inDoubtUploadsAbsent += other.inDoubtUploadsAbsent
        inDoubtWithdrawalsApplied += other.inDoubtWithdrawalsApplied
        inDoubtWithdrawalsNotApplied += other.inDoubtWithdrawalsNotApplied
        compactionSignals += other.compactionSignals
        valuesChecked += other.valuesChecked
    }

    mutating func time(_ phase: Phase, since clock: inout Date) {
        let now = Date()
        phaseSeconds[phase.rawValue] += now.timeIntervalSince(clock)
        clock = now
    }

    var description: String {
        "kills=\(kills) operations=\(operations) uploads_acked=\(uploadsAcknowledged) retries_acked=\(retriesAcknowledged) "
            + "withdrawals_acked=\(withdrawalsAcknowledged) in_doubt_uploads present=\(inDoubtUploadsPresent) "
            + "absent=\(inDoubtUploadsAbsent) in_doubt_withdrawals applied=\(inDoubtWithdrawalsApplied) "
            + "not_applied=\(inDoubtWithdrawalsNotApplied) sigusr1=\(compactionSignals) compactions=\(compactions) "
            + "kills_with_compaction_pending=\(killsWithCompactionPending) kills_mid_compaction=\(killsMidCompaction) "
            + "torn_tails=\(tornTails) "
            + "values_checked=\(valuesChecked) seconds=\(String(format: "%.1f", seconds)) ("
            + zip(Phase.allCases, phaseSeconds).map { "\($0)=\(String(format: "%.1f", $1))" }.joined(separator: " ") + ")"
    }
}

/// The data directory of the serve crash tests: a fresh `ihub init`, CERTs allowed to upload
/// and withdraw (uploading at the same time, so journal groups hold several requests), and
/// banks allowed to query every type and category they upload and to see category, confidence,
/// expiry and action, each up to its TLP ceiling. By default (`ServeLiveCrashTests`) two CERTs
/// and one bank that sees every TLP. Immutable after `init` (shared with the sources' threads).
final class LiveCrashHub: @unchecked Sendable {
    static let sourceNames = ["cert-live-a", "cert-live-b"]
    static let bank = "bank-live"
    let sources: [String]
    let directory: ServeDirectory
    let compactAfter: Int
    var temp: TemporaryDirectory { directory.temp }
    var data: String { directory.data }
    var policies: String { directory.policies }
    func identity(of partner: String) -> String { directory.identity(of: partner) }
    var bankIdentity: String { identity(of: Self.bank) }
    static let fields = RequestFields(purpose: "payment-screening", legalBasis: "gdpr-6-1-f", reference: "CRASH-CHECK",
                                      priority: .routine, timeZone: "Europe/Berlin")

    init(compactAfter: Int, sources: [String] = sourceNames,
         banks: [(name: String, tlpCeiling: String)] = [(bank, "red")]) throws {
        self.compactAfter = compactAfter
        self.sources = sources
        let sourcePolicies = sources.map { source in (name: source, role: "cert", policy: Self.sourcePolicy(source)) }
        let bankPolicies = banks.map { (name: $0.name, role: "bank", policy: Self.bankPolicy($0.name, tlpCeiling: $0.tlpCeiling)) }
        directory = try ServeDirectory(try TemporaryDirectory(), partners: sourcePolicies + bankPolicies)
    }

    /// A CERT that may upload and withdraw the types and categories the test uses.
    static func sourcePolicy(_ source: String) -> String {
        """
        {
          "partner": "\(source)", "role": "cert", "version": 1,
          "types": ["ipv4", "domain"], "categories": ["malware", "c2", "phishing", "botnet"],
          "purposes": ["incident-response"], "legal_bases": ["nis2-art-11"],
          "max_batch": 100, "rate": { "per_second": 1000000, "burst": 1000000 }, "daily_quota": 1000000000,
          "tlp_ceiling": "red", "priorities": ["routine"],
          "upload": {
            "types": ["ipv4", "domain"], "categories": ["malware", "c2", "phishing", "botnet"],
            "defaults": { "category": "malware", "confidence": 60, "tlp": "amber", "action": "block", "ttl_days": 30 },
            "required_fields": ["legal_basis"], "max_records": 1000000, "withdraw": true
          }
        }

        """
    }

    /// A bank that checks values, seeing every answer field, up to `tlpCeiling`.
    static func bankPolicy(_ name: String, tlpCeiling: String) -> String {
        """
        {
          "partner": "\(name)", "role": "bank", "version": 1,
          "types": ["ipv4", "domain"], "categories": ["malware", "c2", "phishing", "botnet"],
          "purposes": ["payment-screening"], "legal_bases": ["gdpr-6-1-f"],
          "required_fields": ["purpose", "legal_basis", "reference"],
          "reveal": ["category", "confidence", "expires", "action"],
          "max_batch": 1000, "rate": { "per_second": 100000000, "burst": 100000000 }, "daily_quota": 1000000000,
          "tlp_ceiling": "\(tlpCeiling)", "priorities": ["routine"]
        }

        """
    }

    /// `ihub serve` on the data directory, logging to `serve-ROUND.log`.
    func start(round: Int) throws -> ServeProcess {
        try ServeProcess.start(data: data, policies: policies, log: temp.path + "/serve-\(round).log",
                               options: ["--compact-after", String(compactAfter)])
    }

    func client(_ identity: String, port: UInt16) throws(ClientError) -> HubClient {
        try HubClient.connect(host: "127.0.0.1", port: port, identityDirectory: identity,
                              options: HubClient.Options(connectTimeout: 5, ioTimeout: 20))
    }

    /// The bank's answers for `values` (every one must be answered hit or miss).
    func query(_ bank: HubClient, _ values: [String]) throws -> [Answer] {
        guard !values.isEmpty else { return [] }
        let answers = try bank.query(values: values, fields: Self.fields)
        let unanswered = answers.filter { !$0.isAnswered }
        #expect(unanswered.isEmpty, "unanswered: \(unanswered.prefix(3))")
        return answers
    }

    /// Every audit segment's text.
    func auditText() -> String { temp.allFileText(under: data + "/audit") }
}
