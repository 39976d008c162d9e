import Foundation
import Glibc
import Testing
@testable import HubServer

/// A listener whose `accept` fails (the descriptor limit: EMFILE) while connections wait: the
/// listening socket stays readable (epoll is level-triggered), so an acceptor that dropped the
/// error and returned was woken again at once, a busy loop at 100 % of a core until a
/// descriptor was freed. It now stops watching the listener for a pause that doubles while the
/// failures go on, reports the first failure and the recovery, and then takes the connection.
@Suite struct AcceptorBackOffTests {
    /// `accept` that fails with EMFILE `failing` times, then accepts for real.
    final class FailingAccept: @unchecked Sendable {
        private let lock = NSLock()
        private var left: Int
        private(set) var calls = 0
        init(failing: Int) { left = failing }

        func accept(_ fd: Int32) throws(NetError) -> Int32? {
            let fail = lock.withLock { () -> Bool in
                calls += 1
                guard left > 0 else { return false }
                left -= 1
                return true
            }
            if fail { throw NetError(operation: "accept", target: "listener", errno: EMFILE) }
            return try Sockets.accept(fd)
        }
    }

    @Test func aFailingAcceptPausesTheListenerInsteadOfSpinning() throws {
        let loop = try EventLoop()
        let done = DispatchSemaphore(value: 0)
        let thread = Thread {
            loop.run()
            done.signal()
        }
        thread.start()
        defer {
            loop.execute { loop.stop() }
            done.wait()
        }
        let failing = FailingAccept(failing: 4)
        let events = NSLock()
        nonisolated(unsafe) var reported: [Acceptor.Event] = []
        nonisolated(unsafe) var accepted: [Int32] = []
        let ready = DispatchSemaphore(value: 0)
        nonisolated(unsafe) var acceptor: Acceptor?
        loop.execute {
            let listener = try! Sockets.listen(host: "127.0.0.1", port: 0, reusePort: false)
            acceptor = try? Acceptor(listening: listener, loop: loop,
                                     report: { event in events.withLock { reported.append(event) } },
                                     accept: { (fd) throws(NetError) in try failing.accept(fd) },
                                     accepted: { fd in events.withLock { accepted.append(fd) } })
            ready.signal()
        }
        ready.wait()
        let port = try #require(acceptor).port
        let before = loop.wakeups
        let client = try connectClient(port: port)
        defer { Glibc.close(client) }
        // Four failures pause 0.05 + 0.1 + 0.2 + 0.4 s; the fifth call accepts.
        let deadline = Date().addingTimeInterval(10)
        while events.withLock({ accepted.isEmpty }) && Date() < deadline { usleep(10_000) }
        let wakeups = loop.wakeups - before
        loop.execute { acceptor?.close(loop) }
        events.withLock {
            #expect(accepted.count == 1, "the waiting connection is taken once accept works again")
            for fd in accepted { Glibc.close(fd) }
            #expect(reported.count == 2, "\(reported)")
            if case .paused(let error, let seconds)? = reported.first {
                #expect(error.errno == EMFILE)
                #expect(seconds == Acceptor.firstPause)
            } else {
                Issue.record("first report: \(String(describing: reported.first))")
            }
            if case .resumed(let failures)? = reported.last {
                #expect(failures == 4)
            } else {
                Issue.record("last report: \(String(describing: reported.last))")
            }
        }
        // Four failures (one per pause, not one per wakeup), the connection, and the call that
        // finds no more waiting.
        #expect(failing.calls == 6)
        // One wakeup per failure and per timer, not thousands.
        #expect(wakeups < 40, "the loop woke \(wakeups) times")
    }
}
