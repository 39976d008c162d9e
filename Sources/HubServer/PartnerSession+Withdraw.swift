import HubAudit
import HubPolicy
import HubTLS
import HubWire
import IndicatorKit
import IndicatorStore

/// WITHDRAW (docs/PROTOCOL.md, "Withdrawals (version 2)"): a source takes back its own reports,
/// of listed values (canonicalised and digested like upload records) or of one of its uploads.
/// Other sources' reports stay; "not found" is one count whatever the reason, so the answer
/// depends only on the source's own reports. Audited like every request; the answer leaves once
/// the withdrawal is in the fsync'd journal and its audit record is written.
extension PartnerSession {
    func withdraw(_ frame: Frame) {
        let requestID = frame.requestID
        session.begin(requestID)
        shared.requestBegan()
        let request: WithdrawRequest
        do {
            guard case .withdraw(let parsed) = try Message(frame: frame) else { return }
            request = parsed
        } catch {
            refuseWithdraw(requestID, target: nil, code: error.code, reason: error.description)
            return
        }
        guard let peer = verifiedPeer, let feeds = shared.feeds else { return }
        let started = RequestClock.now()
        guard peer.role == .cert else {
            refuseWithdraw(requestID, request: request, code: .operationNotAllowed,
                           reason: "only a certificate of role cert may withdraw; this one has role \(peer.role.rawValue)")
            return
        }
        guard let policy = shared.policies[partner: peer.name] else {
            refuseWithdraw(requestID, request: request, code: .operationNotAllowed, reason: "no policy for this partner")
            return
        }
        if let refusal = policy.withdrawRefusal(now: started.policy.unixSeconds) {
            refuseWithdraw(requestID, request: request, code: Self.errorCode(refusal.code), reason: refusal.reason)
            return
        }
        if QueryService.looksLikeIndicator(request.reference) {
            var blank = request
            blank.reference = ""
            refuseWithdraw(requestID, request: blank, code: .invalidField,
                           reason: "the reference reads as an indicator value; send the source's own reference there")
            return
        }
        nonisolated(unsafe) let owner = self
        switch request.target {
        case .upload(let id):
            feeds.withdraw(upload: id, partner: peer.name) { outcome in
                owner.loop.execute {
                    owner.withdrawn(request, outcome, digested: 0, refusals: [], refusedByCode: [:], started: started)
                }
            }
        case .values(let values):
            let checker = feedChecker()
            var digests: [IndicatorDigest] = []
            var refusals: [Rejection] = []
            var refusedByCode: [String: Int] = [:]
            for (index, value) in values.enumerated() {
                switch checker.digest(value.bytes, as: value.type, defanged: false) {
                case .ok(let (_, digest)): digests.append(digest)
                case .refused(let reason):
                    // Codes 1–4 only: a defanged-looking value is simply not a valid value here.
                    let code = reason == .looksDefanged ? RecordRefusal.invalidValue : reason
                    refusals.append(Rejection(index: UInt32(index), reason: code))
                    refusedByCode[code.name, default: 0] += 1
                }
            }
            let digested = digests.count
            let refused = refusals
            let byCode = refusedByCode
            guard !digests.isEmpty else {
                withdrawn(request, .success(0), digested: 0, refusals: refused, refusedByCode: byCode, started: started)
                return
            }
            feeds.withdraw(values: digests, partner: peer.name) { outcome in
                owner.loop.execute {
                    owner.withdrawn(request, outcome, digested: digested, refusals: refused, refusedByCode: byCode,
                                    started: started)
                }
            }
        }
    }

    /// The live store answered (on this loop): audit, then WITHDRAW_RESULT or ERROR.
    private func withdrawn(_ request: WithdrawRequest, _ outcome: Result<Int, FeedService.Failure>, digested: Int,
                           refusals: [Rejection], refusedByCode: [String: Int], started: RequestClock) {
        let requestID = request.requestID
        switch outcome {
        case .failure(let failure):
            var uploadID: UploadID?
            if case .upload(let id) = request.target { uploadID = id }
            let (code, reason) = Self.answer(to: failure, upload: uploadID)
            if code == .internalError { shared.log.error("withdraw_failed", [("partner", partnerName), ("reason", "\(failure)")]) }
            refuseWithdraw(requestID, request: request, code: code, reason: reason, started: started)
        case .success(let count):
            let result: WithdrawResult
            var feed: FeedAudit
            switch request.target {
            case .upload(let id):
                result = WithdrawResult(requestID: requestID, withdrawn: UInt32(count), notFound: 0)
                feed = .withdraw(target: .upload, uploadID: id, withdrawn: count)
            case .values:
                // Several values with one digest withdraw one report: the others are "not found".
                let notFound = max(0, digested - count)
                result = WithdrawResult(requestID: requestID, withdrawn: UInt32(count), notFound: UInt32(notFound),
                                        refusals: refusals)
                feed = .withdraw(target: .values, withdrawn: count, notFound: notFound, rejected: refusals.count)
            }
            var record = withdrawRecord(request, decision: .accepted, code: "", started: started)
            record.refusedValues = refusedByCode
            record.feed = feed
            shared.log.info("withdraw", [("partner", partnerName), ("request_id", String(requestID)),
                                         ("withdrawn", String(result.withdrawn)), ("not_found", String(result.notFound)),
                                         ("refused", String(refusals.count))])
            auditNow(record, answer: .withdrawResult(result))
        }
    }

    private func refuseWithdraw(_ requestID: UInt64, request: WithdrawRequest, code: ErrorCode, reason: String,
                                started: RequestClock? = nil) {
        var record = withdrawRecord(request, decision: .refused, code: code.name, started: started)
        var uploadID: UploadID?
        if case .upload(let id) = request.target { uploadID = id }
        record.feed = .withdraw(target: uploadID == nil ? .values : .upload, uploadID: uploadID)
        auditNow(record, answer: .error(ErrorMessage(requestID: requestID, code: code, reason: ErrorMessage.truncatedReason(reason))))
    }

    /// A WITHDRAW too malformed to read: refused, audited with what is known (nothing).
    private func refuseWithdraw(_ requestID: UInt64, target: FeedAudit.Target?, code: ErrorCode, reason: String) {
        let record = AuditRecord(timeMicros: RequestClock.now().wallMicros, kind: .withdraw, partner: partnerName,
                                 certificateSHA256: verifiedPeer?.fingerprint ?? [], requestID: requestID,
                                 fields: RequestFields(purpose: "", legalBasis: "", reference: "", timeZone: ""),
                                 valueCount: 0, decision: .refused, code: code.name,
                                 policyVersion: policyVersion, latencyMicros: 0,
                                 feed: .withdraw(target: target ?? .values))
        auditNow(record, answer: .error(ErrorMessage(requestID: requestID, code: code, reason: ErrorMessage.truncatedReason(reason))))
    }

    private func withdrawRecord(_ request: WithdrawRequest, decision: AuditRecord.Decision, code: String,
                                started: RequestClock?) -> AuditRecord {
        let now = RequestClock.now()
        var valueCount = 0
        var countsByType: [IndicatorType: Int] = [:]
        var unknown = 0
        if case .values(let values) = request.target {
            valueCount = values.count
            for value in values {
                if let type = value.type { countsByType[type, default: 0] += 1 } else { unknown += 1 }
            }
        }
        return AuditRecord(timeMicros: now.wallMicros, kind: .withdraw, partner: partnerName,
                           certificateSHA256: verifiedPeer?.fingerprint ?? [], requestID: request.requestID,
                           fields: RequestFields(purpose: "", legalBasis: "", reference: request.reference, timeZone: ""),
                           valueCount: valueCount, countsByType: countsByType, unknownTypeCount: unknown,
                           decision: decision, code: code, policyVersion: policyVersion,
                           latencyMicros: started.map { (now.monotonicNanos &- $0.monotonicNanos) / 1000 } ?? 0)
    }
}
