import Glibc
import HubAudit
import HubPolicy
import HubTLS
import HubWire
import IndicatorKit

/// One partner connection on one event loop (docs/PROTOCOL.md, "Connection lifecycle"): the
/// non-blocking TLS handshake, then frames through a `FrameDecoder` and the `ServerSession`
/// state machine. A QUERY is decided by the loop's `QueryService`; its audit record is appended
/// and the answer is sent only once the record is appended as the audit sync mode says (written,
/// or written and synced: docs/AUDIT-LOG.md, "Writing"). In interval mode the session writes
/// the records of all the frames it handled in one pass itself, with one `write`, and then
/// sends their answers with one TLS write; in group mode the audit writer thread completes
/// them, back on this loop.
///
/// Back-pressure: at the in-flight limit, or with more than `highWater` bytes waiting to be
/// written, the session stops reading (and resumes below the limit / `lowWater`). Reading
/// resumes by reading at once, because OpenSSL may hold decrypted bytes epoll cannot see.
final class PartnerSession: EventHandler {
    enum Phase { case handshaking, awaitingHello, established, closing, closed }

    let fd: Int32
    let loop: EventLoop
    let shared: ServerShared
    let service: QueryService
    let limits: SessionLimits
    /// This loop's metrics shard (`ServerMetrics`).
    let metrics: MetricsShard
    private let tls: TLSConnection
    private let onClose: (PartnerSession) -> Void
    private var token: EventLoop.Token?
    private(set) var phase: Phase = .handshaking
    private var peer: PeerIdentity?

    private var decoder = FrameDecoder()
    var session: ServerSession
    /// Uploads open or refused on this connection (PartnerSession+Upload.swift).
    var feedState = FeedSessionState()
    /// The previous QUERY's request fields (their checked strings are reused when they repeat).
    private var fieldCache = QueryFieldCache()
    private var maxBatchValues = WireFormat.maxBatchValues
    /// Frames decoded but not handled yet (reading paused at the in-flight limit).
    var frames: [Frame] = []
    private var frameIndex = 0
    /// Interval mode: the records of the requests handled in this pass and their answers,
    /// written and sent together at the end of the pass (`commitAudits`).
    private var pendingRecords: [AuditRecord] = []
    private var pendingAnswers: [Message] = []

    private var output: [UInt8] = []
    private var outputStart = 0
    /// This session's largest output backlog so far (reported to `ServerShared` when it grows).
    private var peakOutput = 0
    /// The length of a TLS write that returned want-read/want-write: retried with the same bytes.
    private var retryLength: Int?
    private var readWantsWrite = false
    private var writeWantsRead = false
    private var readingPaused = false
    private var draining = false

    let acceptedAt = Monotonic.now()
    var handshakeDoneAt = 0.0
    var lastFrameAt = Monotonic.now()
    var partialSince: Double?
    var stalledSince: Double?
    var timer: TimerHeap.ID?

    /// Takes ownership of `fd` (an accepted socket) and registers it on `loop`.
    init(fd: Int32, loop: EventLoop, shared: ServerShared, service: QueryService, metrics: MetricsShard,
         onClose: @escaping (PartnerSession) -> Void) throws {
        self.fd = fd
        self.metrics = metrics
        self.loop = loop
        self.shared = shared
        self.service = service
        self.limits = shared.limits
        self.onClose = onClose
        // Version 2 (uploads) only when the hub has a live store to apply them to.
        session = ServerSession(versions: WireFormat.minVersion...(shared.feeds == nil ? WireFormat.minVersion : WireFormat.feedVersion))
        if let bytes = limits.socketSendBuffer { Sockets.setSendBuffer(fd, bytes: bytes) }
        tls = try TLSConnection(server: shared.tls, socket: fd)
        token = try loop.register(fd, interest: .read, handler: self)
        shared.sessionOpened()
        armTimer()
    }

    var partnerName: String { peer?.name ?? "-" }

    // MARK: EventHandler

    func readable(_ loop: EventLoop) {
        switch phase {
        case .handshaking: handshake()
        case .awaitingHello, .established, .closing:
            if writeWantsRead { flush() }
            if readWantsWrite { return }
            readRecords()
        case .closed: return
        }
    }

    func writable(_ loop: EventLoop) {
        switch phase {
        case .handshaking: handshake()
        case .awaitingHello, .established, .closing:
            if readWantsWrite {
                readWantsWrite = false
                readRecords()
            }
            flush()
        case .closed: return
        }
    }

    func hangup(_ loop: EventLoop) {
        logTruncatedFrame()
        close(event: "peer_closed")
    }

    // MARK: Handshake

    private func handshake() {
        do {
            switch try tls.handshake() {
            case .wantRead: loop.modify(token!, interest: .read)
            case .wantWrite: loop.modify(token!, interest: .write)
            case .complete:
                peer = tls.peer
                // A handshake begun before a reload finishes under the context it started
                // with; the list in force now decides.
                if let peer, let revocation = shared.tls.revocation(of: peer) {
                    revoke(revocation)
                    return
                }
                phase = .awaitingHello
                handshakeDoneAt = Monotonic.now()
                shared.log.info("connected", [("partner", partnerName), ("serial", String(peer?.serial ?? 0))])
                updateInterest()
                readRecords()  // the HELLO may already be buffered
            }
        } catch {
            metrics.handshakeFailed()
            shared.log.warn("handshake_failed", [("reason", error.description)])
            close(event: nil)
        }
    }

    // MARK: Reading

    /// Reads and handles decrypted bytes until the socket is drained (OpenSSL's buffer too) or
    /// reading is paused.
    private func readRecords() {
        handleQueuedFrames()
        let chunk = 64 << 10
        var total = 0
        reading: while phase == .awaitingHello || phase == .established, !readingPaused, !readWantsWrite {
            let outcome: Result<TLSConnection.Transfer, TLSError> = withUnsafeTemporaryAllocation(byteCount: chunk, alignment: 16) { buffer in
                let transfer: TLSConnection.Transfer
                do throws(TLSError) {
                    transfer = try tls.read(into: buffer)
                } catch {
                    return .failure(error)
                }
                if case .bytes(let count) = transfer, count > 0 {
                    decode(UnsafeBufferPointer(start: buffer.baseAddress!.assumingMemoryBound(to: UInt8.self), count: count))
                }
                return .success(transfer)
            }
            switch outcome {
            case .failure(let error):
                logTruncatedFrame()
                shared.log.warn("read_failed", [("partner", partnerName), ("reason", error.description)])
                close(event: nil)
                return
            case .success(.closed):
                logTruncatedFrame()
                close(event: "peer_closed")
                return
            case .success(.wantRead):
                updateInterest()
                return
            case .success(.wantWrite):
                readWantsWrite = true
                updateInterest()
                return
            case .success(.bytes(let count)):
                total += count
                handleQueuedFrames()
                updateInterest()
                if total >= 256 << 10 && tls.bufferedBytes == 0 { break reading }  // fairness; epoll calls again
            }
        }
        updateInterest()
    }

    /// Feeds the decoder; complete frames are queued. A decoding error is connection-level.
    private func decode(_ bytes: UnsafeBufferPointer<UInt8>) {
        guard phase != .closing else { return }
        do {
            try decoder.feed(bytes, into: &frames)
        } catch {
            fail(error)
            return
        }
        partialSince = decoder.isAtFrameBoundary ? nil : (partialSince ?? Monotonic.now())
    }

    /// The stream ended: when it ended inside a frame, says so (`truncated_frame`,
    /// docs/PROTOCOL.md: logged, as the peer is gone and cannot be sent an ERROR).
    private func logTruncatedFrame() {
        guard phase == .awaitingHello || phase == .established else { return }
        do throws(WireError) {
            try decoder.finish()
        } catch {
            shared.log.warn("protocol_error", [("partner", partnerName), ("code", error.code.name), ("reason", error.description)])
        }
    }

    /// Handles queued frames while the in-flight limit allows; in interval mode, writes the
    /// pass's audit records and sends their answers after each pass (which frees the in-flight
    /// slots, so the next pass can go on).
    private func handleQueuedFrames() {
        var pass = true
        while pass {
            while frameIndex < frames.count, phase == .awaitingHello || phase == .established {
                if session.inFlight.count >= limits.maxInFlight || draining { break }
                let frame = frames[frameIndex]
                frameIndex += 1
                lastFrameAt = Monotonic.now()
                handle(frame)
            }
            pass = commitAudits() && frameIndex < frames.count
        }
        if frameIndex == frames.count {
            frames.removeAll(keepingCapacity: frames.capacity <= 256)
            frameIndex = 0
        }
    }

    private func handle(_ frame: Frame) {
        do throws(WireError) {
            try session.admit(frame)
            switch frame.type {
            case .hello:
                guard case .hello(let hello) = try Message(frame: frame) else { return }
                try welcome(hello)
            case .query:
                let batch: QueryBatch
                do {
                    batch = try QueryBatch(frame: frame, maxBatchValues: maxBatchValues, fieldCache: &fieldCache)
                } catch where !error.closesConnection {
                    refuseMalformed(frame.requestID, error)
                    return
                }
                query(batch)
            case .ping:
                guard case .ping(let ping) = try Message(frame: frame) else { return }
                send(.pong(Pong(answering: ping)))
            case .pong:
                _ = try Message(frame: frame)
            case .error:
                let message = try Message(frame: frame)
                if case .error(let error) = message {
                    shared.log.info("client_error", [("partner", partnerName), ("code", error.code.name)])
                    if error.code.closesConnection { close(event: "client_closed") }
                }
            case .welcome, .result, .uploadResult, .withdrawResult:
                throw WireError.unexpectedMessage(frame.type, reason: .wrongDirection)
            case .uploadBegin, .uploadRecords, .uploadCommit, .withdraw:
                // Version 2 only: on a version 1 connection the decoder and `session.admit`
                // refuse these before they get here.
                try handleFeed(frame)
            }
        } catch {
            fail(error)
        }
    }

    private func welcome(_ hello: Hello) throws(WireError) {
        guard let peer else { return }
        guard let policy = shared.policies[partner: peer.name] else {
            sendErrorAndClose(.notAuthorised, "no policy allows partner \(peer.name) to connect")
            return
        }
        let version = try session.accept(hello)
        var reveal: RevealMask = []
        for field in policy.reveals { reveal.insert(QueryService.revealBit(field)) }
        maxBatchValues = max(1, min(policy.maxBatch, WireFormat.maxBatchValues))
        let message = Welcome(version: version, reveal: reveal, maxPayloadBytes: UInt32(limits.maxPayloadBytes),
                              maxBatchValues: UInt32(maxBatchValues), maxInFlight: UInt32(limits.maxInFlight),
                              idleTimeoutSeconds: UInt32(max(1, limits.idleTimeout.rounded(.up))),
                              allowedTypes: IndicatorTypeSet(policy.types), policyVersion: UInt64(policy.version),
                              partner: peer.name)
        send(.welcome(message))
        decoder.maxPayloadBytes = limits.maxPayloadBytes
        decoder.version = version
        phase = .established
        shared.log.info("hello", [("partner", peer.name), ("software", hello.software), ("version", String(version)),
                                  ("policy_version", String(policy.version))])
    }

    // MARK: Requests

    private func query(_ batch: QueryBatch) {
        guard let peer else { return }
        session.begin(batch.requestID)
        shared.requestBegan()
        let outcome = service.answer(batch, from: peer, policies: shared.policies, clock: .now())
        audit(outcome.record, answer: outcome.answer)
    }

    /// A QUERY whose payload is malformed: a request-level ERROR, audited like any refusal.
    private func refuseMalformed(_ requestID: UInt64, _ error: WireError) {
        guard let peer else { return }
        session.begin(requestID)
        shared.requestBegan()
        let fields = RequestFields(purpose: "", legalBasis: "", reference: "", timeZone: "")
        let clock = RequestClock.now()
        let record = AuditRecord(timeMicros: clock.wallMicros, partner: peer.name, certificateSHA256: peer.fingerprint,
                                 requestID: requestID, fields: fields, valueCount: 0, decision: .refused,
                                 code: error.code.name,
                                 policyVersion: Int(shared.policies[partner: peer.name]?.version ?? 0), latencyMicros: 0)
        audit(record, answer: .error(error.errorMessage(requestID: requestID)))
    }

    /// Appends the record; the answer is sent once it is appended. Interval mode: queued for
    /// `commitAudits` at the end of this pass. Group mode: from the writer's completion, on
    /// this loop.
    func audit(_ record: AuditRecord, answer: Message) {
        if shared.audit.writesInline {
            pendingRecords.append(record)
            pendingAnswers.append(answer)
            return
        }
        let requestID = record.requestID
        nonisolated(unsafe) let owner = self
        let log = shared.log
        shared.audit.append(record) { result in
            var answer = answer
            if case .failure(let error) = result {
                log.error("audit_failed", [("reason", error.description)])
                answer = .error(ErrorMessage(requestID: requestID, code: .internalError,
                                             reason: "the request could not be audited; it was not answered"))
            }
            let reply = answer
            owner.loop.execute { owner.complete(requestID, reply, record: record) }
        }
    }

    /// Audits and answers at once, also outside a read pass (an upload or withdrawal answered
    /// from the live store's completion, on this loop): interval mode writes what is queued now.
    func auditNow(_ record: AuditRecord, answer: Message) {
        audit(record, answer: answer)
        if shared.audit.writesInline { _ = commitAudits() }
    }

    /// Interval mode: writes the records of this pass's requests (one `write`, on this loop),
    /// encodes their answers and sends them with one flush. Returns whether there were any.
    private func commitAudits() -> Bool {
        guard !pendingRecords.isEmpty else { return false }
        let written = shared.audit.write(pendingRecords)
        if case .failure(let error) = written {
            shared.log.error("audit_failed", [("reason", error.description)])
        }
        shared.requestsEnded(pendingRecords.count)
        for (record, answer) in zip(pendingRecords, pendingAnswers) {
            let requestID = record.requestID
            if case .failure = written {
                let refusal = Message.error(ErrorMessage(requestID: requestID, code: .internalError,
                                                         reason: "the request could not be audited; it was not answered"))
                encodeAnswer(requestID, refusal, record: record)
            } else {
                encodeAnswer(requestID, answer, record: record)
            }
        }
        pendingRecords.removeAll(keepingCapacity: pendingRecords.capacity <= 1024)
        pendingAnswers.removeAll(keepingCapacity: pendingAnswers.capacity <= 1024)
        guard phase != .closed else { return true }
        flush()
        if draining && phase != .closed { finishDraining() }
        return true
    }

    /// Group mode: the writer's completion for one request, on this loop.
    private func complete(_ requestID: UInt64, _ answer: Message, record: AuditRecord) {
        shared.requestsEnded(1)
        encodeAnswer(requestID, answer, record: record)
        // The other answers of the same audit group are queued on the loop right behind this
        // one: flush them all with one write, then read on, once per group.
        guard phase != .closed, !completionsPending else { return }
        completionsPending = true
        nonisolated(unsafe) let owner = self
        loop.execute { owner.completionsDone() }
    }

    /// Ends request `requestID` and encodes its answer into the output (sent by the next flush).
    private func encodeAnswer(_ requestID: UInt64, _ answer: Message, record: AuditRecord) {
        metrics.record(record, answer: answer)  // decided and audited, whether or not it can still be sent
        guard phase != .closed else { return }
        // Every answered request is in flight until here (a refused upload's id too, even when
        // its COMMIT arrived before this ERROR: ServerSession.commit keeps it).
        session.finish(requestID)
        do {
            try answer.encode(into: &output)
        } catch {
            shared.log.error("encode_failed", [("partner", partnerName), ("reason", error.description)])
        }
        if shared.logQueries && record.kind == .query {
            shared.log.info("query", [("partner", record.partner), ("request_id", String(requestID)),
                                  ("values", String(record.valueCount)), ("hits", String(record.hitDigests.count)),
                                  ("decision", record.decision.rawValue), ("code", record.code.isEmpty ? "-" : record.code),
                                  ("latency_us", String(record.latencyMicros))])
        }
    }

    /// Set while a `completionsDone` is queued on the loop.
    private var completionsPending = false

    /// Writes the answers `complete` encoded, then continues reading (or draining).
    private func completionsDone() {
        completionsPending = false
        guard phase != .closed else { return }
        flush()
        guard phase != .closed else { return }
        if draining {
            finishDraining()
        } else {
            handleQueuedFrames()
            updateInterest()
            if !readingPaused && (phase == .established) { readRecords() }
        }
    }

    // MARK: Writing

    private func send(_ message: Message) {
        guard phase != .closed else { return }
        do {
            try message.encode(into: &output)
        } catch {
            shared.log.error("encode_failed", [("partner", partnerName), ("reason", error.description)])
            return
        }
        flush()
    }

    private func flush() {
        if pendingOutput > peakOutput {
            peakOutput = pendingOutput
            shared.notePendingOutput(peakOutput)
        }
        writeWantsRead = false
        while outputStart < output.count, phase != .closed {
            let length = retryLength ?? min(output.count - outputStart, 256 << 10)
            let start = outputStart
            let attempt: Result<TLSConnection.Transfer, TLSError> = output.withUnsafeBytes { raw in
                Result { () throws(TLSError) -> TLSConnection.Transfer in
                    try tls.write(UnsafeRawBufferPointer(rebasing: raw[start..<(start + length)]))
                }
            }
            let transfer: TLSConnection.Transfer
            switch attempt {
            case .success(let value): transfer = value
            case .failure(let error):
                shared.log.warn("write_failed", [("partner", partnerName), ("reason", error.description)])
                close(event: nil)
                return
            }
            switch transfer {
            case .bytes(let count):
                retryLength = nil
                outputStart += count
                stalledSince = nil
            case .wantWrite:
                retryLength = length
            case .wantRead:
                retryLength = length
                writeWantsRead = true
            case .closed:
                close(event: "peer_closed")
                return
            }
            if retryLength != nil { break }
        }
        if outputStart == output.count {
            output.removeAll(keepingCapacity: output.capacity <= 4 * limits.highWater)
            outputStart = 0
            stalledSince = nil
            if phase == .closing { finishClose() ; return }
        } else {
            if outputStart > limits.highWater {
                output.removeFirst(outputStart)
                outputStart = 0
            }
            if stalledSince == nil { stalledSince = Monotonic.now() }
        }
        updateInterest()
    }

    private var pendingOutput: Int { output.count - outputStart }

    private func updateInterest() {
        guard phase != .closed, let token else { return }
        let atLimit = session.inFlight.count >= limits.maxInFlight || draining || phase == .closing
        let overfull = pendingOutput > (readingPaused ? limits.lowWater : limits.highWater)
        let wasPaused = readingPaused
        readingPaused = atLimit || overfull
        var interest: EventLoop.Interest = []
        if !readingPaused || writeWantsRead { interest.insert(.read) }
        if pendingOutput > 0 || readWantsWrite { interest.insert(.write) }
        loop.modify(token, interest: interest)
        if wasPaused && !readingPaused && phase == .established && tls.bufferedBytes > 0 {
            nonisolated(unsafe) let owner = self
            loop.execute { owner.readRecords() }
        }
    }

    // MARK: Errors, shutdown and closing

    /// A connection-level protocol error: ERROR with request id 0, then close.
    private func fail(_ error: WireError) {
        shared.log.warn("protocol_error", [("partner", partnerName), ("code", error.code.name), ("reason", error.description)])
        let code = error.closesConnection ? error.code : .malformedPayload
        sendErrorAndClose(code, error.description)
    }

    func sendErrorAndClose(_ code: ErrorCode, _ reason: String) {
        guard phase == .awaitingHello || phase == .established else { return }
        metrics.connectionError(code)
        send(.error(ErrorMessage(requestID: 0, code: code, reason: ErrorMessage.truncatedReason(reason))))
        phase = .closing
        frames.removeAll()
        frameIndex = 0
        if pendingOutput == 0 { finishClose() } else { updateInterest() }
    }

    /// The partner's certificate was revoked (a reload, or a handshake that straddled one):
    /// ERROR `revoked` and close at once. Batches already audited but not yet answered are
    /// dropped: a revoked partner receives nothing more.
    func revoke(_ revocation: Revocation) {
        guard phase != .closing && phase != .closed else { return }
        shared.log.warn("session_revoked", [("partner", partnerName), ("serial", String(revocation.serial)),
                                            ("revoked_at", revocation.revokedAtText)])
        let reason = "certificate serial \(revocation.serial) was revoked at \(revocation.revokedAtText)"
        if phase == .handshaking {
            close(event: nil)
        } else {
            sendErrorAndClose(.revoked, reason)
        }
    }

    /// The identity the handshake verified, once it has completed.
    var verifiedPeer: PeerIdentity? { peer }

    /// Stop taking requests, answer those in flight, then ERROR `shutting_down` and close.
    func beginShutdown() {
        switch phase {
        case .handshaking: close(event: nil)
        case .awaitingHello, .established:
            draining = true
            updateInterest()
            finishDraining()
        case .closing, .closed: return
        }
    }

    private func finishDraining() {
        guard session.inFlight.isEmpty else { return }
        sendErrorAndClose(.shuttingDown, "the hub is stopping; requests in flight were answered")
    }

    /// Sends close_notify (best effort) and closes.
    private func finishClose() {
        if tls.state == .established { _ = try? tls.shutdown() }
        close(event: nil)
    }

    func close(event: String?) {
        guard phase != .closed else { return }
        phase = .closed
        if let token { loop.deregister(token) }
        token = nil
        if let timer { loop.cancel(timer) }
        timer = nil
        Sockets.close(fd)
        discardOpenUploads()
        shared.sessionClosed()
        if let event { shared.log.info(event, [("partner", partnerName)]) }
        onClose(self)
    }
}
