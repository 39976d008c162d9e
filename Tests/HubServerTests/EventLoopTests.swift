import Foundation
import Glibc
import Testing
@testable import HubServer

/// An echo service on N loops (one thread each) sharing a port through SO_REUSEPORT.
final class EchoServer: ConnectionDelegate, @unchecked Sendable {
    let loops: [EventLoop]
    var acceptors: [Acceptor] = []
    var connections: [ObjectIdentifier: Connection] = [:]
    let lock = NSLock()
    var closeReasons: [Connection.CloseReason] = []
    var peakOutput = 0
    let limits: Connection.Limits
    var port: UInt16 = 0
    let stopped = DispatchGroup()
    /// When false, received bytes are kept (not echoed): the peer's input piles up.
    let echo: Bool

    init(loops count: Int, limits: Connection.Limits = Connection.Limits(), echo: Bool = true) throws {
        loops = try (0..<count).map { _ in try EventLoop() }
        self.limits = limits
        self.echo = echo
        for loop in loops {
            stopped.enter()
            let thread = Thread { [stopped] in
                loop.run()
                stopped.leave()
            }
            thread.start()
        }
        for loop in loops {
            let ready = DispatchSemaphore(value: 0)
            nonisolated(unsafe) var failure: (any Error)?
            let wanted = port
            loop.execute {
                do {
                    let acceptor = try Acceptor(host: "127.0.0.1", port: wanted, loop: loop) { [unowned self] fd in
                        guard let connection = try? Connection(fd: fd, loop: loop, limits: self.limits, delegate: self) else {
                            close(fd)
                            return
                        }
                        self.lock.withLock { self.connections[ObjectIdentifier(connection)] = connection }
                    }
                    self.lock.withLock {
                        self.acceptors.append(acceptor)
                        if self.port == 0 { self.port = acceptor.port }
                    }
                } catch {
                    failure = error
                }
                ready.signal()
            }
            ready.wait()
            if let failure { throw failure }
        }
    }

    func received(on connection: Connection) {
        guard echo else { return }
        let bytes = connection.input
        connection.input.removeAll(keepingCapacity: true)
        connection.send(bytes)
        lock.withLock { peakOutput = max(peakOutput, connection.peakPendingOutput) }
    }

    func closed(_ connection: Connection, reason: Connection.CloseReason) {
        lock.withLock {
            closeReasons.append(reason)
            peakOutput = max(peakOutput, connection.peakPendingOutput)
            connections[ObjectIdentifier(connection)] = nil
        }
    }

    func shutdown() {
        for loop in loops { loop.stop() }
        stopped.wait()
    }
}

/// A blocking client socket for tests.
func connectClient(port: UInt16) throws -> Int32 {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = port.bigEndian
    inet_pton(AF_INET, "127.0.0.1", &address.sin_addr)
    let result = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    guard result == 0 else { throw NetError(operation: "connect", target: "127.0.0.1:\(port)", errno: errno) }
    return fd
}

func writeAll(_ fd: Int32, _ bytes: [UInt8]) {
    var done = 0
    while done < bytes.count {
        let count = bytes.withUnsafeBytes { send(fd, $0.baseAddress! + done, $0.count - done, Int32(MSG_NOSIGNAL)) }
        if count <= 0 { return }
        done += count
    }
}

func readExactly(_ fd: Int32, _ count: Int) -> [UInt8] {
    var result = [UInt8](repeating: 0, count: count)
    var done = 0
    while done < count {
        let got = result.withUnsafeMutableBytes { recv(fd, $0.baseAddress! + done, count - done, 0) }
        if got <= 0 { break }
        done += got
    }
    return Array(result.prefix(done))
}

@Suite(.serialized) struct EventLoopTests {
    @Test func manyClientsAcrossTwoLoopsGetTheirBytesBack() throws {
        let server = try EchoServer(loops: 2)
        defer { server.shutdown() }
        let port = server.port
        DispatchQueue.concurrentPerform(iterations: 24) { client in
            guard let fd = try? connectClient(port: port) else {
                Issue.record("connect failed")
                return
            }
            defer { close(fd) }
            var generator = SystemRandomNumberGenerator()
            let payload = (0..<(100_000 + client * 997)).map { _ in UInt8.random(in: 0...255, using: &generator) }
            let writer = Thread { writeAll(fd, payload) }
            writer.start()
            let echoed = readExactly(fd, payload.count)
            #expect(echoed == payload, "client \(client)")
        }
        // Both loops served connections: SO_REUSEPORT spread them (24 connections, 2 listeners).
        #expect(server.acceptors.count == 2)
    }

    @Test func aClientThatNeverReadsCannotMakeTheServerBufferWithoutBound() throws {
        var limits = Connection.Limits()
        limits.highWater = 64 << 10
        limits.lowWater = 16 << 10
        limits.writeStallTimeout = 1.0
        let server = try EchoServer(loops: 1, limits: limits)
        defer { server.shutdown() }
        let fd = try connectClient(port: server.port)
        defer { close(fd) }
        // Send 32 MiB and never read the echo; the writes block once both sides' buffers fill.
        let chunk = [UInt8](repeating: 0x41, count: 1 << 20)
        var flags = fcntl(fd, F_GETFL)
        flags |= O_NONBLOCK
        _ = fcntl(fd, F_SETFL, flags)
        var sent = 0
        var lastProgress = Date()
        // Until 32 MiB are out or nothing moved for 300 ms (the server stopped reading).
        while sent < 32 << 20, Date().timeIntervalSince(lastProgress) < 0.3 {
            let count = chunk.withUnsafeBytes { send(fd, $0.baseAddress!, $0.count, Int32(MSG_NOSIGNAL)) }
            if count > 0 {
                sent += count
                lastProgress = Date()
            } else {
                usleep(10_000)
            }
        }
        #expect(sent < 32 << 20, "the server kept reading although nobody read its answers")
        // The stalled connection is dropped after the write-stall timeout.
        usleep(1_800_000)
        let reasons = server.lock.withLock { server.closeReasons }
        #expect(reasons.contains(.writeStalled))
        // Buffered output never grew past the high-water mark plus what one read round can add.
        #expect(server.peakOutput <= limits.highWater + 4 * (64 << 10))
    }

    @Test func idleConnectionsAreClosed() throws {
        var limits = Connection.Limits()
        limits.idleTimeout = 0.3
        let server = try EchoServer(loops: 1, limits: limits)
        defer { server.shutdown() }
        let fd = try connectClient(port: server.port)
        defer { close(fd) }
        var byte: UInt8 = 0
        let got = recv(fd, &byte, 1, 0)  // blocks until the server closes
        #expect(got == 0)
        #expect(server.lock.withLock { server.closeReasons } == [.idleTimeout])
    }

    @Test func timersFireInDeadlineOrderAndCancelledOnesDoNot() throws {
        let loop = try EventLoop()
        nonisolated(unsafe) var fired: [Int] = []
        let done = DispatchSemaphore(value: 0)
        let thread = Thread {
            loop.run()
            done.signal()
        }
        thread.start()
        loop.execute {
            loop.schedule(after: 0.06) { fired.append(3) }
            loop.schedule(after: 0.02) { fired.append(1) }
            let cancelled = loop.schedule(after: 0.03) { fired.append(99) }
            loop.schedule(after: 0.04) { fired.append(2) }
            loop.cancel(cancelled)
            loop.schedule(after: 0.1) { loop.stop() }
        }
        done.wait()
        #expect(fired == [1, 2, 3])
    }

    @Test func executeFromManyThreadsRunsEveryTaskOnTheLoop() throws {
        let loop = try EventLoop()
        nonisolated(unsafe) var count = 0
        nonisolated(unsafe) var offLoop = 0
        let done = DispatchSemaphore(value: 0)
        Thread { loop.run(); done.signal() }.start()
        DispatchQueue.concurrentPerform(iterations: 8) { _ in
            for _ in 0..<1000 {
                loop.execute {
                    count += 1
                    if !loop.inLoop { offLoop += 1 }
                }
            }
        }
        loop.execute { loop.stop() }
        done.wait()
        #expect(count == 8000)
        #expect(offLoop == 0)
    }

    @Test func listeningOnABadAddressIsNamed() throws {
        let loop = try EventLoop()
        #expect(throws: NetError(operation: "resolve", target: "not-an-address", errno: EINVAL)) {
            try Acceptor(host: "not-an-address", port: 0, loop: loop) { _ in }
        }
    }
}
