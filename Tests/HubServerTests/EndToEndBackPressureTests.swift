import Foundation
import Glibc
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
    static let maxInFlight = 8
    static let batch = 1000

    @Test func clientThatNeverReadsIsThrottledBoundedAndClosed() throws {
        var limits = testLimits(writeStall: 1.5)
        limits.highWater = Self.highWater
        limits.lowWater = 16 << 10
        limits.maxInFlight = Self.maxInFlight
        // Without a cap the kernel would take megabytes of answers off the hub's hands first.
        limits.socketSendBuffer = 32 << 10
        let hub = try EndToEndHub(limits: limits)
        var good = try GoodPartner(hub)

        // Small socket buffers on the client too, so the kernel holds little on its behalf.
        let client = try RawClient(port: hub.port, context: try hub.context(Partner.flood),
                                   receiveBuffer: 8 << 10, sendBuffer: 16 << 10)
        let welcome = try client.hello()
        #expect(welcome.maxInFlight == UInt32(Self.maxInFlight))
        // Every value is a hit with all four fields revealed: 9 bytes of RESULT per value.
        let template = try RawFrames.query(id: 1, Array(repeating: (IndicatorType.domain, Listed.domain), count: Self.batch))
        let resultBytes = WireFormat.headerSize + 4 + 9 * Self.batch
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

        // Pipeline queries without reading until the hub has stopped taking bytes for a second
        // while its output for us is past the high-water mark (it stopped reading from us), or
        // until it closes the connection for the write stall.
        var buffer = refill()
        var offset = 0
        var written = 0
        var lastProgress = monotonicSeconds()
        var checkedDuring = false
        let ceiling = 64 << 20
        let started = monotonicSeconds()
        flooding: while written < ceiling && monotonicSeconds() - started < 30 {
            let count: Int
            do {
                count = try client.sendSome(buffer, from: offset, timeout: 0.1)
            } catch {
                break flooding  // the hub closed the connection (write stall)
            }
            let backedUp = hub.server.shared.peakPendingOutput > Self.highWater
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
        #expect(written < ceiling, "the hub kept reading \(written) bytes from a client that reads nothing")
        let peak = hub.server.shared.peakPendingOutput
        // It stopped because its output backed up past the high-water mark…
        #expect(peak > Self.highWater, "reading stopped before the output reached the high-water mark (peak \(peak))")
        #expect(checkedDuring)
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
        #expect(UInt64(flood.count) < nextID - 1)
    }
}
