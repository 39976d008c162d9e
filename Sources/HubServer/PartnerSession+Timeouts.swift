import HubWire

/// The per-connection timers (docs/PROTOCOL.md, "Timeouts"): handshake, HELLO, partial frame,
/// write stall, open uploads and idle — checked every `SessionLimits.tick` on the session's loop.
extension PartnerSession {
    func armTimer() {
        timer = loop.schedule(after: limits.tick) { [weak self] in self?.checkTimeouts() }
    }

    func checkTimeouts() {
        guard phase != .closed else { return }
        let now = Monotonic.now()
        switch phase {
        case .handshaking where now - acceptedAt >= limits.handshakeTimeout:
            shared.log.warn("handshake_timeout", [])
            close(event: nil)
            return
        case .awaitingHello where now - handshakeDoneAt >= limits.helloTimeout:
            timeout(.helloTimeout, "no complete HELLO within \(Int(limits.helloTimeout)) s of the TLS handshake")
            return
        default: break
        }
        if let stalledSince, now - stalledSince >= limits.writeStallTimeout {
            shared.log.warn("write_stalled", [("partner", partnerName)])
            close(event: nil)
            return
        }
        if let partialSince, now - partialSince >= limits.frameTimeout, phase == .established || phase == .awaitingHello {
            timeout(.frameTimeout, "a frame was not completed within \(Int(limits.frameTimeout)) s of its first byte")
            return
        }
        if phase == .established, !feedState.open.isEmpty { checkUploadTimeouts(now: now) }
        if phase == .established, session.inFlight.isEmpty, frames.isEmpty, now - lastFrameAt >= limits.idleTimeout {
            timeout(.idleTimeout, "nothing received for \(Int(limits.idleTimeout)) s")
            return
        }
        armTimer()
    }

    func timeout(_ code: ErrorCode, _ reason: String) {
        shared.log.info(code.name, [("partner", partnerName)])
        sendErrorAndClose(code, reason)
        if phase != .closed { armTimer() }  // a write stall still closes a closing session
    }
}
