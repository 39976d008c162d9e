import Glibc
public import HubAudit
public import HubPolicy
public import HubTLS
public import HubWire
import IndicatorKit
public import IndicatorStore

/// The clocks one request is decided at: wall time for the audit record and the policy's
/// validity and quota day, monotonic time for the token bucket.
public struct RequestClock: Sendable, Equatable {
    public var wallMicros: UInt64
    public var monotonicNanos: UInt64

    public init(wallMicros: UInt64, monotonicNanos: UInt64) {
        self.wallMicros = wallMicros
        self.monotonicNanos = monotonicNanos
    }

    /// `CLOCK_REALTIME` and `CLOCK_MONOTONIC` now.
    public static func now() -> RequestClock {
        var wall = timespec()
        var mono = timespec()
        clock_gettime(CLOCK_REALTIME, &wall)
        clock_gettime(CLOCK_MONOTONIC, &mono)
        return RequestClock(wallMicros: UInt64(wall.tv_sec) * 1_000_000 + UInt64(wall.tv_nsec / 1000),
                            monotonicNanos: UInt64(mono.tv_sec) * 1_000_000_000 + UInt64(mono.tv_nsec))
    }

    /// `CLOCK_MONOTONIC` now, in nanoseconds (a request's own latency needs nothing else).
    static func monotonicNanosNow() -> UInt64 {
        var mono = timespec()
        clock_gettime(CLOCK_MONOTONIC, &mono)
        return UInt64(mono.tv_sec) * 1_000_000_000 + UInt64(mono.tv_nsec)
    }

    public var policy: PolicyClock {
        PolicyClock(unixSeconds: Int64(wallMicros / 1_000_000), monotonicNanoseconds: monotonicNanos)
    }
}

/// Every partner's rate and quota state (`PartnerLimits`), shared by all event loops: one lock,
/// held only while one batch is admitted.
public final class PartnerLimitsTable: @unchecked Sendable {
    private let lock = NSLockless()
    private var table: [String: PartnerLimits] = [:]

    public init() {}

    /// Decides a batch with the partner's limits (steps 1–9 of docs/POLICY.md).
    func evaluate(_ policies: PolicySet, partner: String, request: RequestFields, types: [IndicatorType?],
                  clock: PolicyClock) -> BatchDecision {
        lock.withLock {
            var limits = table[partner] ?? PartnerLimits()
            let decision = policies.evaluate(partner: partner, request: request, types: types, clock: clock, limits: &limits)
            table[partner] = limits
            return decision
        }
    }
}

/// What the hub answers for one QUERY and what it audits before answering.
public struct QueryOutcome: Sendable {
    /// A RESULT, or a request-level ERROR with the query's id.
    public var answer: Message
    /// The audit record (no raw value: counts, codes and digests of hits only).
    public var record: AuditRecord
}

/// Answers QUERY batches for one event loop (docs/POLICY.md "Decisions", docs/PROTOCOL.md
/// "QUERY" and "RESULT"): policy first, then the matcher, then minimisation. Owns a `Matcher`
/// and scratch space, so it is not thread-safe: one per loop.
public final class QueryService {
    public let matcher: Matcher
    public let limits: PartnerLimitsTable

    private var values: [UnsafeBufferPointer<UInt8>] = []
    private var wireTypes: [IndicatorType?] = []
    private var records: [MatchRecord] = []
    /// `count` nil types (all "detect"), for the policy evaluator (see `answer`).
    private var undeclared: [IndicatorType?] = []
    private var lastReference = ""
    private var lastReferenceIsIndicator = false

    /// The live store whose newest state each batch is answered from (nil: the matcher's
    /// state, fixed).
    public let live: LiveStore?

    public init(matcher: Matcher, limits: PartnerLimitsTable, live: LiveStore? = nil) {
        self.matcher = matcher
        self.limits = limits
        self.live = live
    }

    /// Decides and answers `batch` from `peer` under `policies` at `clock`.
    public func answer(_ batch: QueryBatch, from peer: PeerIdentity, policies: PolicySet,
                       clock: RequestClock) -> QueryOutcome {
        let started = RequestClock.monotonicNanosNow()
        var record = AuditRecord(timeMicros: clock.wallMicros, partner: peer.name, certificateSHA256: peer.fingerprint,
                                 requestID: batch.requestID, fields: batch.fields, valueCount: batch.values.count,
                                 decision: .refused, policyVersion: 0, latencyMicros: 0)
        // The declared types (nil = detect), in one walk over the values' wire form.
        let count = batch.values.count
        wireTypes.removeAll(keepingCapacity: true)
        var declared: UInt32 = 0
        batch.values.wireBytes.withUnsafeBufferPointer { wire in
            var pos = 0
            for _ in 0..<count {
                let type = IndicatorType(rawValue: wire[pos])
                wireTypes.append(type)
                if let type { declared |= 1 << UInt32(type.rawValue) }
                pos += 3 + (Int(wire[pos + 1]) | Int(wire[pos + 2]) << 8)
            }
        }

        // A reference number must not be an indicator: free text would otherwise carry a raw
        // value into the audit trail. The record keeps no trace of it.
        if referenceLooksLikeIndicator(batch.fields.reference) {
            record.fields.reference = ""
            record.policyVersion = Int(policies[partner: peer.name]?.version ?? 0)
            return refuse(batch, .invalidField, "the reference field reads as an indicator value; "
                          + "send the partner's own case or reference number there", record: record, started: started)
        }

        // When the policy allows every declared type (checked here with its bit set), the
        // evaluator gets the batch as all "detect" values of the same count: it then only
        // counts them instead of hashing each type into the policy's `Set`. Otherwise it gets
        // the real types and names the first value it refuses.
        let policy = policies[partner: peer.name]
        let view = policy.map(PolicyView.init)
        var types = wireTypes
        if let view, view.types.rawValue & declared == declared {
            if undeclared.count != count { undeclared = [IndicatorType?](repeating: nil, count: count) }
            types = undeclared
        }
        let decision = limits.evaluate(policies, partner: peer.name, request: batch.fields, types: types,
                                       clock: clock.policy)
        record.policyVersion = Int(decision.policyVersion ?? 0)
        if let refusal = decision.refusal {
            return refuse(batch, Self.errorCode(refusal.code), refusal.reason, record: record, started: started)
        }
        guard let view else {
            return refuse(batch, .operationNotAllowed, "no policy for this partner", record: record, started: started)
        }
        record.decision = .accepted
        let entries = match(batch, view: view, now: UInt32(clamping: clock.wallMicros / 1_000_000), record: &record)
        record.latencyMicros = (RequestClock.monotonicNanosNow() &- started) / 1000
        return QueryOutcome(answer: .result(QueryResult(requestID: batch.requestID, entries: entries)), record: record)
    }

    /// Matches the batch and builds the minimised entries and the audit counts. Per value it
    /// only touches fixed counters and bit sets (no dictionary or `Set` hashing) and stores its
    /// entry through a pointer: the record's dictionaries are filled once per batch.
    private func match(_ batch: QueryBatch, view: PolicyView, now: UInt32, record: inout AuditRecord) -> ResultEntries {
        let count = batch.values.count
        if records.count < count { records = [MatchRecord](repeating: .refused, count: count) }
        var counts = TypeCounters()
        var refusals = RefusalCounters()
        var hitDigests: [IndicatorDigest] = []
        let entries = batch.values.wireBytes.withUnsafeBufferPointer { wire in
            values.removeAll(keepingCapacity: true)
            var pos = 0
            for _ in 0..<count {
                let length = Int(wire[pos + 1]) | Int(wire[pos + 2]) << 8
                let start = pos + 3
                values.append(UnsafeBufferPointer(rebasing: wire[start..<(start + length)]))
                pos = start + length
            }
            // Acknowledged means visible: every batch sees the newest published state
            // (docs/LIVE-UPDATES.md); switching costs nothing when it has not changed.
            if let live { matcher.use(live.view()) }
            values.withUnsafeBufferPointer { valueBuffers in
                wireTypes.withUnsafeBufferPointer { types in
                    records.withUnsafeMutableBufferPointer { out in
                        matcher.match(valueBuffers, types: types, now: now, into: out)
                    }
                }
            }
            return ResultEntries(count: count) { entries in
                for index in 0..<count {
                    let result = records[index]
                    switch result.status {
                    case .refused:
                        let error = Matcher.refusal(of: values[index], as: wireTypes[index]) ?? .unrecognised
                        let refusal = ValueRefusal(error)
                        refusals.add(refusal)
                        counts.add(wireTypes[index])
                        entries.refused(refusal)
                    case .miss, .hit:
                        counts.add(result.type)
                        // A declared type outside the policy refused the whole batch above; a
                        // detected one refuses only this value, hit or miss alike, so the
                        // refusal says nothing about the store (docs/POLICY.md, "Decisions").
                        guard view.types.contains(result.type) else {
                            refusals.add(.typeNotAllowed)
                            entries.refused(.typeNotAllowed)
                            continue
                        }
                        // A hit the partner may not learn (category, TLP) answers exactly as a
                        // miss, and is audited as one: the record says what the partner was told.
                        if result.status == .hit, let metadata = result.metadata, view.mayLearn(metadata),
                           let digest = result.digest {
                            if hitDigests.isEmpty { hitDigests.reserveCapacity(count - index) }
                            hitDigests.append(digest)
                            entries.hit(metadata, revealing: view.reveal)
                        } else {
                            entries.miss()
                        }
                    }
                }
            }
        }
        values.removeAll(keepingCapacity: true)
        counts.store(into: &record)
        refusals.store(into: &record)
        record.hitDigests = hitDigests
        return entries
    }

    private func refuse(_ batch: QueryBatch, _ code: ErrorCode, _ reason: String, record: AuditRecord,
                        started: UInt64) -> QueryOutcome {
        var record = record
        countWireTypes(&record)
        record.decision = .refused
        record.code = code.name
        record.latencyMicros = (RequestClock.monotonicNanosNow() &- started) / 1000
        let error = ErrorMessage(requestID: batch.requestID, code: code, reason: ErrorMessage.truncatedReason(reason))
        return QueryOutcome(answer: .error(error), record: record)
    }

    /// Counts per wire type for a refused batch (detect = unknown).
    private func countWireTypes(_ record: inout AuditRecord) {
        var counts = TypeCounters()
        for type in wireTypes { counts.add(type) }
        counts.store(into: &record)
    }

    /// `looksLikeIndicator` for a batch's reference, remembered for the last reference seen
    /// (a partner often sends the same one in batch after batch).
    private func referenceLooksLikeIndicator(_ reference: String) -> Bool {
        if reference == lastReference { return lastReferenceIsIndicator }
        let verdict = Self.looksLikeIndicator(reference)
        lastReference = reference
        lastReferenceIsIndicator = verdict
        return verdict
    }

    /// Whether `text` canonicalises as any indicator type.
    static func looksLikeIndicator(_ text: String) -> Bool {
        guard !text.isEmpty else { return false }
        do {
            _ = try Canonicalizer.canonical(text, as: nil)
            return true
        } catch {
            return false
        }
    }

    /// The wire code of a policy refusal (docs/PROTOCOL.md, "Error codes").
    static func errorCode(_ code: RefusalCode) -> ErrorCode {
        switch code {
        case .notAuthorised: .operationNotAllowed
        case .missingField: .missingField
        case .purposeNotAllowed: .purposeNotAllowed
        case .legalBasisNotAllowed: .legalBasisNotAllowed
        case .priorityNotAllowed: .priorityNotAllowed
        case .batchTooLarge: .batchTooLarge
        case .typeNotAllowed: .typeNotAllowed
        case .quotaExceeded: .quotaExceeded
        case .rateLimited: .rateLimited
        }
    }

    static func revealBit(_ field: PartnerPolicy.RevealedField) -> RevealMask {
        switch field {
        case .category: .category
        case .confidence: .confidence
        case .expires: .expires
        case .action: .action
        }
    }
}
