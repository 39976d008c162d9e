import HubAudit
import HubPolicy
import HubTLS
import HubWire
import IndicatorKit
import IndicatorStore

/// One upload between its UPLOAD_BEGIN and its COMMIT (docs/PROTOCOL.md, "Order and state
/// rules"): the good records' digests and metadata, the refusals, and the audit counts. Raw
/// values are never kept: each record is canonicalised and digested as its chunk arrives.
final class OpenUpload: @unchecked Sendable {  // owned by its session's loop; only passed back to it
    let begin: UploadBegin
    let policy: UploadPolicy
    let policyVersion: Int
    /// Monotonic seconds of the last UPLOAD_BEGIN or UPLOAD_RECORDS (the upload timeout).
    var lastActivity: Double
    var reports: [DigestReport] = []
    var prefixes = NetworkPrefixes()
    /// The first `WireFormat.maxListedRejections` refusals, by index.
    var rejections: [Rejection] = []
    var rejected = 0
    var refusedByCode: [String: Int] = [:]
    var countsByType: [IndicatorType: Int] = [:]
    var unknownTypeCount = 0

    init(begin: UploadBegin, policy: UploadPolicy, policyVersion: Int, now: Double) {
        self.begin = begin
        self.policy = policy
        self.policyVersion = policyVersion
        lastActivity = now
    }

    func refuse(_ index: Int, _ reason: RecordRefusal, type: IndicatorType?) {
        rejected += 1
        refusedByCode[reason.name, default: 0] += 1
        if let type { countsByType[type, default: 0] += 1 } else { unknownTypeCount += 1 }
        if rejections.count < WireFormat.maxListedRejections { rejections.append(Rejection(index: UInt32(index), reason: reason)) }
    }

    /// Good records whose digest an earlier record of this upload had (what the live store
    /// merges and counts as duplicates).
    var repeatedDigests: Int {
        Set(reports.map(\.digest)).count.distance(to: reports.count)
    }

    var flagNames: [String] { Self.flagNames(begin.flags) }
}

/// A session's uploads: those open (BEGIN received, COMMIT not yet), and those refused before
/// their COMMIT, whose later chunks are dropped and whose COMMIT gets no answer.
struct FeedSessionState {
    var open: [UInt64: OpenUpload] = [:]
    var refused: Set<UInt64> = []
    var checker: RecordChecker?
}

/// The version 2 messages on one connection: UPLOAD_BEGIN, UPLOAD_RECORDS, UPLOAD_COMMIT and
/// WITHDRAW (docs/PROTOCOL.md, "Uploads (version 2)" and "Withdrawals (version 2)"). Every
/// answer, refusals included, goes through the audit trail like a query's; an UPLOAD_RESULT
/// leaves only once the live store's journal group is durable and the upload's audit record
/// is written as the audit sync mode says.
extension PartnerSession {
    func handleFeed(_ frame: Frame) throws(WireError) {
        switch frame.type {
        case .uploadBegin: uploadBegin(frame)
        case .uploadRecords: try uploadRecords(frame)
        case .uploadCommit: try uploadCommit(frame)
        case .withdraw: withdraw(frame)
        default: break
        }
    }

    // MARK: UPLOAD_BEGIN

    private func uploadBegin(_ frame: Frame) {
        let requestID = frame.requestID
        let begin: UploadBegin
        do {
            guard case .uploadBegin(let parsed) = try Message(frame: frame) else { return }
            begin = parsed
        } catch {
            // Layout, an empty or too large upload: refused like any upload, so the id stays
            // in flight until its COMMIT (which the client must still send).
            try? session.open(UploadBegin(requestID: requestID, uploadID: .random(), recordCount: 1))
            shared.requestBegan()
            refuseUpload(requestID, begin: nil, code: error.code, reason: error.description, policyVersion: policyVersion)
            return
        }
        do {
            try session.open(begin)
        } catch {
            shared.requestBegan()
            refuseUpload(requestID, begin: begin, code: error.code, reason: error.description, policyVersion: policyVersion)
            return
        }
        shared.requestBegan()
        guard let peer = verifiedPeer, let feeds = shared.feeds else { return }
        let policy = shared.policies[partner: peer.name]
        let version = Int(policy?.version ?? 0)
        let now = RequestClock.now()
        guard peer.role == .cert else {
            refuseUpload(requestID, begin: begin, code: .operationNotAllowed,
                         reason: "only a certificate of role cert may upload; this one has role \(peer.role.rawValue)",
                         policyVersion: version)
            return
        }
        guard let policy else {
            refuseUpload(requestID, begin: begin, code: .operationNotAllowed, reason: "no policy for this partner",
                         policyVersion: 0)
            return
        }
        if let refusal = policy.uploadRefusal(legalBasis: begin.legalBasis, reference: begin.reference,
                                              recordCount: Int(begin.recordCount), now: now.policy.unixSeconds) {
            refuseUpload(requestID, begin: begin, code: Self.errorCode(refusal.code), reason: refusal.reason,
                         policyVersion: version)
            return
        }
        // Free text reaches the audit trail: it must not carry an indicator value.
        if QueryService.looksLikeIndicator(begin.reference) || QueryService.looksLikeIndicator(begin.legalBasis) {
            refuseUpload(requestID, begin: begin, code: .invalidField,
                         reason: "the legal basis or reference reads as an indicator value; send the source's own reference there",
                         policyVersion: version, withTexts: false)
            return
        }
        switch feeds.claim(begin.uploadID, partner: peer.name) {
        case .claimed: break
        case .inProgress:
            refuseUpload(requestID, begin: begin, code: .uploadInProgress,
                         reason: "an upload with id \(begin.uploadID) is still being received or applied; retry later",
                         policyVersion: version)
            return
        case .otherSource:
            refuseUpload(requestID, begin: begin, code: .uploadIDReused,
                         reason: "upload id \(begin.uploadID) was used before", policyVersion: version)
            return
        }
        feedState.open[requestID] = OpenUpload(begin: begin, policy: policy.upload!, policyVersion: version,
                                               now: Monotonic.now())
    }

    var policyVersion: Int { Int(verifiedPeer.flatMap { shared.policies[partner: $0.name] }?.version ?? 0) }

    static func errorCode(_ code: UploadPolicy.RefusalCode) -> ErrorCode {
        switch code {
        case .operationNotAllowed: .operationNotAllowed
        case .missingField: .missingField
        case .uploadTooLarge: .uploadTooLarge
        }
    }

    // MARK: UPLOAD_RECORDS

    private func uploadRecords(_ frame: Frame) throws(WireError) {
        let requestID = frame.requestID
        let chunk: UploadRecords
        do {
            guard case .uploadRecords(let parsed) = try Message(frame: frame) else { return }
            chunk = parsed
        } catch where !error.closesConnection {
            if let upload = feedState.open[requestID] {
                discardUpload(requestID, upload, code: error.code, reason: error.description)
            }
            return
        } catch {
            throw error
        }
        guard let upload = feedState.open[requestID] else { return }  // refused: dropped
        do {
            guard try session.receive(chunk) else { return }
        } catch {
            discardUpload(requestID, upload, code: error.code, reason: error.description)
            return
        }
        upload.lastActivity = Monotonic.now()
        check(chunk, into: upload)
    }

    /// Canonicalises, digests and checks every record of `chunk` against the source's policy.
    private func check(_ chunk: UploadRecords, into upload: OpenUpload) {
        let checker = feedChecker()
        let now = Int64(RequestClock.now().wallMicros / 1_000_000)
        let defanged = upload.begin.flags.contains(.defanged)
        var index = Int(chunk.firstIndex)
        for record in chunk {
            defer { index += 1 }
            switch checker.digest(record.value, as: record.type, defanged: defanged) {
            case .refused(let refusal):
                upload.refuse(index, refusal, type: record.type)
            case .ok(let (form, digest)):
                switch RecordChecker.metadata(of: record.fields, form: form, policy: upload.policy, now: now) {
                case .refused(let refusal):
                    upload.refuse(index, refusal, type: form.type)
                case .ok(let metadata):
                    upload.reports.append(DigestReport(digest, metadata))
                    upload.prefixes.insert(form)
                    upload.countsByType[form.type, default: 0] += 1
                }
            }
        }
    }

    func feedChecker() -> RecordChecker {
        if let checker = feedState.checker { return checker }
        let checker = RecordChecker(key: shared.feeds!.key)
        feedState.checker = checker
        return checker
    }

    // MARK: UPLOAD_COMMIT

    private func uploadCommit(_ frame: Frame) throws(WireError) {
        guard case .uploadCommit(let commit) = try Message(frame: frame) else { return }
        let requestID = commit.requestID
        let upload = feedState.open.removeValue(forKey: requestID)
        let wasRefused = feedState.refused.remove(requestID) != nil
        let apply: Bool
        do {
            apply = try session.commit(commit)
        } catch {
            // A refused upload's answer was its ERROR; an open one is answered now.
            guard let upload, !wasRefused else { return }
            shared.feeds?.release(upload.begin.uploadID)
            answerUpload(requestID, upload, code: error.code, reason: error.description)
            return
        }
        guard apply, let upload, !wasRefused else { return }
        let committedAt = RequestClock.now()
        if upload.begin.flags.contains(.strict) && upload.rejected > 0 {
            // Strict: nothing is stored, the refusals are listed so the source can fix its feed.
            shared.feeds?.release(upload.begin.uploadID)
            let repeated = upload.repeatedDigests
            let result = UploadResult(requestID: requestID, uploadID: upload.begin.uploadID, uploadNumber: 0,
                                      discarded: true, accepted: UInt32(upload.reports.count - repeated),
                                      duplicates: UInt32(repeated), rejected: UInt32(upload.rejected),
                                      rejections: upload.rejections)
            var record = uploadRecord(requestID, upload, decision: .accepted, code: "", started: committedAt)
            record.feed = .upload(id: upload.begin.uploadID, format: upload.begin.format.name, flags: upload.flagNames,
                                  discarded: true, accepted: Int(result.accepted), duplicates: repeated,
                                  rejected: upload.rejected)
            auditNow(record, answer: .uploadResult(result))
            return
        }
        guard let peer = verifiedPeer, let feeds = shared.feeds else { return }
        let request = LiveStore.UploadRequest(id: upload.begin.uploadID, source: 1, format: upload.begin.format.rawValue,
                                              reports: upload.reports, prefixes: upload.prefixes,
                                              refused: UInt32(upload.rejected))
        upload.reports = []
        nonisolated(unsafe) let owner = self
        feeds.apply(request, partner: peer.name, time: UInt64(committedAt.wallMicros / 1_000_000)) { outcome in
            owner.loop.execute { owner.uploadApplied(requestID, upload, outcome, started: committedAt) }
        }
    }

    /// The live store answered (back on this loop): audit, then UPLOAD_RESULT or ERROR.
    private func uploadApplied(_ requestID: UInt64, _ upload: OpenUpload,
                               _ outcome: Result<(receipt: UploadReceipt, alreadyApplied: Bool), FeedService.Failure>,
                               started: RequestClock) {
        let id = upload.begin.uploadID
        switch outcome {
        case .success(let (receipt, alreadyApplied)):
            let result = UploadResult(requestID: requestID, uploadID: id, uploadNumber: receipt.uploadNumber,
                                      alreadyApplied: alreadyApplied, accepted: receipt.accepted,
                                      duplicates: receipt.duplicates, rejected: receipt.refused,
                                      rejections: alreadyApplied ? [] : upload.rejections)
            var record = uploadRecord(requestID, upload, decision: .accepted, code: "", started: started)
            record.feed = .upload(id: id, number: receipt.uploadNumber, format: upload.begin.format.name,
                                  flags: upload.flagNames, alreadyApplied: alreadyApplied, accepted: Int(receipt.accepted),
                                  duplicates: Int(receipt.duplicates), rejected: Int(receipt.refused))
            shared.log.info("upload", [("partner", partnerName), ("request_id", String(requestID)),
                                       ("upload_number", String(receipt.uploadNumber)),
                                       ("accepted", String(receipt.accepted)), ("duplicates", String(receipt.duplicates)),
                                       ("rejected", String(receipt.refused)), ("already_applied", alreadyApplied ? "yes" : "no")])
            auditNow(record, answer: .uploadResult(result))
        case .failure(let failure):
            let (code, reason) = Self.answer(to: failure, upload: id)
            if code == .internalError { shared.log.error("upload_failed", [("partner", partnerName), ("reason", "\(failure)")]) }
            answerUpload(requestID, upload, code: code, reason: reason, started: started)
        }
    }

    static func answer(to failure: FeedService.Failure, upload id: UploadID?) -> (ErrorCode, String) {
        switch failure {
        case .store(.uploadIDReused): (.uploadIDReused, "upload id \(id.map(\.hex) ?? "") was used before with other content")
        case .store(.unknownUpload): (.unknownUpload, "this source has no upload with id \(id.map(\.hex) ?? "")")
        case .store(.uploadNumbersExhausted): (.internalError, "the hub has no upload numbers left")
        default: (.internalError, "the hub could not apply the request; it was not applied (retry may succeed)")
        }
    }

    // MARK: Refusals and audit records

    /// Refuses an upload before its COMMIT: the ERROR (audited) is its answer, later chunks
    /// are dropped, its COMMIT frees the id.
    private func refuseUpload(_ requestID: UInt64, begin: UploadBegin?, code: ErrorCode, reason: String,
                              policyVersion: Int, withTexts: Bool = true) {
        feedState.refused.insert(requestID)
        guard let peer = verifiedPeer else { return }
        let fields = RequestFields(purpose: "", legalBasis: withTexts ? begin?.legalBasis ?? "" : "",
                                   reference: withTexts ? begin?.reference ?? "" : "", timeZone: "")
        let record = AuditRecord(timeMicros: RequestClock.now().wallMicros, kind: .upload, partner: peer.name,
                                 certificateSHA256: peer.fingerprint, requestID: requestID, fields: fields,
                                 valueCount: Int(begin?.recordCount ?? 0), decision: .refused, code: code.name,
                                 policyVersion: policyVersion, latencyMicros: 0,
                                 feed: .upload(id: begin?.uploadID, format: begin?.format.name ?? "",
                                               flags: begin.map { OpenUpload.flagNames($0.flags) } ?? []))
        auditNow(record, answer: .error(ErrorMessage(requestID: requestID, code: code, reason: ErrorMessage.truncatedReason(reason))))
    }

    /// An open upload refused before its COMMIT (a malformed chunk, the order rules, the
    /// timeout): discarded whole.
    func discardUpload(_ requestID: UInt64, _ upload: OpenUpload, code: ErrorCode, reason: String) {
        feedState.open.removeValue(forKey: requestID)
        feedState.refused.insert(requestID)
        shared.feeds?.release(upload.begin.uploadID)
        answerUpload(requestID, upload, code: code, reason: reason)
    }

    /// A request-level ERROR for `upload`, audited with its counts so far.
    private func answerUpload(_ requestID: UInt64, _ upload: OpenUpload, code: ErrorCode, reason: String,
                              started: RequestClock? = nil) {
        var record = uploadRecord(requestID, upload, decision: .refused, code: code.name, started: started)
        record.feed = .upload(id: upload.begin.uploadID, format: upload.begin.format.name, flags: upload.flagNames,
                              rejected: upload.rejected)
        auditNow(record, answer: .error(ErrorMessage(requestID: requestID, code: code, reason: ErrorMessage.truncatedReason(reason))))
    }

    private func uploadRecord(_ requestID: UInt64, _ upload: OpenUpload, decision: AuditRecord.Decision, code: String,
                              started: RequestClock?) -> AuditRecord {
        let now = RequestClock.now()
        let latency = started.map { (now.monotonicNanos &- $0.monotonicNanos) / 1000 } ?? 0
        return AuditRecord(timeMicros: now.wallMicros, kind: .upload, partner: partnerName,
                           certificateSHA256: verifiedPeer?.fingerprint ?? [], requestID: requestID,
                           fields: RequestFields(purpose: "", legalBasis: upload.begin.legalBasis,
                                                 reference: upload.begin.reference, timeZone: ""),
                           valueCount: Int(upload.begin.recordCount), countsByType: upload.countsByType,
                           unknownTypeCount: upload.unknownTypeCount, refusedValues: upload.refusedByCode,
                           decision: decision, code: code, policyVersion: upload.policyVersion, latencyMicros: latency)
    }

    // MARK: Timeouts and closing

    /// Refuses every open upload without an UPLOAD_RECORDS or UPLOAD_COMMIT for the upload
    /// timeout (`upload_state`); the ids stay in flight until their COMMITs.
    func checkUploadTimeouts(now: Double) {
        for (requestID, upload) in feedState.open where now - upload.lastActivity >= limits.uploadTimeout {
            let seconds = Int(limits.uploadTimeout.rounded(.up))
            shared.log.info("upload_timeout", [("partner", partnerName), ("request_id", String(requestID))])
            discardUpload(requestID, upload, code: .uploadState, reason: UploadStateFault.timedOut(seconds: seconds).description)
        }
    }

    /// The connection ended: every upload not yet committed is discarded (nothing of it was
    /// stored); committed ones are applied and audited all the same.
    func discardOpenUploads() {
        for upload in feedState.open.values { shared.feeds?.release(upload.begin.uploadID) }
        feedState.open.removeAll()
        feedState.refused.removeAll()
        feedState.checker = nil
    }
}

extension OpenUpload {
    static func flagNames(_ flags: UploadFlags) -> [String] {
        var names: [String] = []
        if flags.contains(.defanged) { names.append("defanged") }
        if flags.contains(.strict) { names.append("strict") }
        return names
    }
}
