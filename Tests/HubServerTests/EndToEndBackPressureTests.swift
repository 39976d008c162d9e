import Foundation
import Glibc
import HubServer
import HubTLS
import HubWire
import IndicatorKit
import Testing

/// A client that pipelines queries and never reads its answers (docs/PROTOCOL.md,
/// "Back-pressure"): the hub must stop reading from it once its answers back up (so the
/// client's own writes stall), must not buffer more than about `highWater` bytes for it, must
/// close it after the write-stall timeout — and must keep answering everyone else meanwhile.
@Suite struct EndToEndBackPressureTests {
    static let highWater = 64 << 10
    static let lowWater = 16 << 10
    static let maxInFlight = 8
    static let batch = 1000

    static let ceiling = 64 << 20
    /// A RESULT of `batch` hits with all four fields revealed: 9 bytes per value.
    static let resultBytes = WireFormat.headerSize + 4 + 9 * batch

    /// Pipelines QUERY frames of `batch` listed domains without reading anything, until the
    /// hub has taken no byte for a second while its output for us is past the high-water mark
    /// (it stopped reading from us), or until it closes the connection. Checks the good partner
    /// once while the hub is holding the client back. Returns the bytes written and the
    /// number of QUERY frames started.
    static func floodUntilThrottled(_ client: RawClient, _ hub: EndToEndHub, _ good: inout GoodPartner) throws
        -> (written: Int, sent: UInt64) {
        let template = try RawFrames.query(id: 1, Array(repeating: (IndicatorType.domain, Listed.domain), count: batch))
        var nextID: UInt64 = 1
        func refill() -> [UInt8] {
            var buffer: [UInt8] = []
            for _ in 0..<4 {
                var frame = template
                RawFrames.setRequestID(nextID, in: &frame)
                nextID += 1
                buffer += frame
            }
            return buffer
        }
        var buffer = refill()
        var offset = 0
        var written = 0
        var lastProgress = monotonicSeconds()
        var checkedDuring = false
        let started = monotonicSeconds()
        flooding: while written < ceiling && monotonicSeconds() - started < 30 {
            let count: Int
            do {
                count = try client.sendSome(buffer, from: offset, timeout: 0.1)
            } catch {
                break flooding  // the hub closed the connection (write stall)
            }
            // Answers are held for us: past the high-water mark, or past the low-water mark
            // after an in-flight pause (reading resumes only below the low-water mark, which
            // a client that never reads never lets it reach).
            let backedUp = hub.server.shared.peakPendingOutput > lowWater
            if backedUp && !checkedDuring {
                checkedDuring = true
                good.check("while a client is not reading")
            }
            if count == 0 {
                if backedUp && monotonicSeconds() - lastProgress >= 1 { break }
                continue
            }
            lastProgress = monotonicSeconds()
            offset += count
            written += count
            if offset == buffer.count {
                buffer = refill()
                offset = 0
            }
        }
        #expect(checkedDuring, "the hub's output never backed up")
        return (written, nextID - 1)
    }

    static func limits(writeStall: Double) -> SessionLimits {
        var limits = testLimits(writeStall: writeStall)
        limits.highWater = highWater
        limits.lowWater = lowWater
        limits.maxInFlight = maxInFlight
        // Without a cap the kernel would take megabytes of answers off the hub's hands first.
        limits.socketSendBuffer = 32 << 10
        return limits
    }

    @Test func clientThatNeverReadsIsThrottledBoundedAndClosed() throws {
        // The stall timeout must outlast a slow audit sync on a loaded machine: until eight
        // answers are out, the hub's output cannot pass the high-water mark, and a shorter
        // stall limit could close the client first (seen with fdatasync at hundreds of ms).
        let hub = try EndToEndHub(limits: Self.limits(writeStall: 5))
        var good = try GoodPartner(hub)

        // Small socket buffers on the client too, so the kernel holds little on its behalf.
        let client = try RawClient(port: hub.port, context: try hub.context(Partner.flood),
                                   receiveBuffer: 8 << 10, sendBuffer: 16 << 10)
        let welcome = try client.hello()
        #expect(welcome.maxInFlight == UInt32(Self.maxInFlight))
        let (written, sent) = try Self.floodUntilThrottled(client, hub, &good)
        let resultBytes = Self.resultBytes
        #expect(written < Self.ceiling, "the hub kept reading \(written) bytes from a client that reads nothing")
        let peak = hub.server.shared.peakPendingOutput
        // It stopped because its output backed up (past the high-water mark, or past the
        // low-water mark while the in-flight limit had paused reading)…
        #expect(peak > Self.lowWater, "reading stopped before any output backed up (peak \(peak))")
                // …and it holds no more than the mark plus the answers to requests it had already taken
        // (at most `maxInFlight` in flight and the few frames of the last 64 KiB read).
        let bound = Self.highWater + (Self.maxInFlight + 8) * resultBytes
        #expect(peak <= bound, "the hub buffered \(peak) bytes for one client (bound \(bound)) after \(written) bytes sent")

        #expect(hub.log.await("write_stalled", containing: ["partner=\(Partner.flood)"]) != nil,
                "the non-reading client was not closed for its write stall")
        #expect(waitUntil { hub.sessions == 1 }, "the stalled session is still open")
        // The client sees its connection end (after whatever answers were already in its socket).
        var end = RawClient.Event.timeout
        _ = waitUntil {
            end = client.next(timeout: 1)
            if case .frame = end { return false }
            return true
        }
        #expect(end != .timeout, "the client never saw the connection end")
        good.check("after the stalled client was closed")
        #expect(hub.server.shared.peakPendingOutput <= bound)

        let trail = try finish(hub, good: good)
        let flood = trail.of(Partner.flood)
        #expect(!flood.isEmpty)
        #expect(flood.allSatisfy { $0.decision == "accepted" && $0.values == Self.batch && $0.hits == Self.batch })
        // Far fewer batches were answered than were sent: the rest were never read.
        #expect(UInt64(flood.count) < sent)
    }

    /// A non-reading client that sends a few batches and half-closes its side (shutdown
    /// SHUT_WR): the hub reads everything, then holds the answers back and stops reading — and
    /// must then not be woken over and over by the end of stream it is not reading.
    @Test func halfClosedClientThatNeverReadsDoesNotSpinTheLoop() throws {
        var limits = Self.limits(writeStall: 3)
        limits.highWater = 16 << 10
        limits.lowWater = 4 << 10
        let hub = try EndToEndHub(limits: limits)
        var good = try GoodPartner(hub)
        let client = try RawClient(port: hub.port, context: try hub.context(Partner.flood),
                                   receiveBuffer: 8 << 10, sendBuffer: 16 << 10)
        _ = try client.hello()
        // One batch at a time, each sent only once the previous one is answered, until the
        // answers back up: the hub has then read everything (the end of stream will reach it
        // at once) and has stopped reading.
        var answered = 0
        while hub.server.shared.peakPendingOutput <= limits.highWater && answered < 200 {
            try client.send(try RawFrames.query(id: UInt64(answered + 1),
                                                Array(repeating: (IndicatorType.domain, Listed.domain), count: Self.batch)))
            answered += 1
            let done = waitUntil { hub.log.lines("query", containing: ["partner=\(Partner.flood)"]).count == answered }
            try #require(done, "batch \(answered) was not answered")
        }
        #expect(hub.server.shared.peakPendingOutput > limits.highWater, "the output never backed up")
        _ = shutdown(client.fd, Int32(SHUT_WR))
        #expect(hub.sessions == 2, "the session closed before the measurement")
        // Idle but for its timers (every 20 ms) the loop wakes some 25 times in half a second;
        // a loop woken by every epoll_wait for the end of stream wakes tens of thousands of times.
        let before = hub.server.loopWakeups
        let window = monotonicSeconds()
        usleep(500_000)  // the measurement window (nothing to wait for: the point is that nothing happens)
        let wakeups = hub.server.loopWakeups - before
        let seconds = monotonicSeconds() - window
        #expect(Double(wakeups) < 400 * seconds, "the loop woke \(wakeups) times in \(seconds) s with nothing to do")
        good.check("next to a half-closed, non-reading client")
        #expect(hub.log.await("write_stalled", containing: ["partner=\(Partner.flood)"]) != nil)
        try finish(hub, good: good)
    }
}
