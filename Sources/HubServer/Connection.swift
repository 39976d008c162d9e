/// What a connection does with the bytes it receives. Called on the connection's loop.
public protocol ConnectionDelegate: AnyObject {
    /// New bytes arrived. The delegate consumes what it can from `connection.input` (removing
    /// it) and may `send` answers.
    func received(on connection: Connection)
    /// The connection closed (peer hang-up, error, idle timeout or `close`); `reason` says why.
    func closed(_ connection: Connection, reason: Connection.CloseReason)
}

/// A non-blocking TCP connection on one event loop, with an input buffer, an output queue and
/// back-pressure: while more than `highWater` bytes wait to be written, the connection stops
/// reading (the kernel's buffers and TCP flow control then slow the peer down), and resumes
/// below `lowWater`. A peer that never reads therefore cannot make the hub buffer without bound.
/// A peer that sends nothing for `idleTimeout` seconds, or that stops reading for
/// `writeStallTimeout` seconds while output waits, is disconnected.
public final class Connection: EventHandler {
    public enum CloseReason: Equatable, Sendable {
        case peerClosed
        case idleTimeout
        case writeStalled
        case error(NetError)
        case local
    }

    public struct Limits: Sendable {
        public var highWater = 1 << 20
        public var lowWater = 256 << 10
        public var maxInput = 8 << 20
        public var idleTimeout = 300.0
        public var writeStallTimeout = 60.0
        public init() {}
    }

    public let fd: Int32
    public let loop: EventLoop
    public let limits: Limits
    public weak var delegate: (any ConnectionDelegate)?
    /// Bytes received and not yet consumed by the delegate.
    public var input: [UInt8] = []
    /// Largest number of bytes ever waiting to be written (tests check back-pressure with it).
    public private(set) var peakPendingOutput = 0

    private var output: [UInt8] = []
    private var outputStart = 0
    private var token: EventLoop.Token?
    private var reading = true
    private var isClosed = false
    private var lastActivity = Monotonic.now()
    private var stalledSince: Double?
    private var idleTimer: TimerHeap.ID?
    private static let readChunk = 64 << 10

    /// Takes ownership of `fd` and registers it on `loop` (call on the loop's thread).
    public init(fd: Int32, loop: EventLoop, limits: Limits = Limits(), delegate: any ConnectionDelegate) throws(NetError) {
        self.fd = fd
        self.loop = loop
        self.limits = limits
        self.delegate = delegate
        token = try loop.register(fd, interest: .read, handler: self)
        armIdleTimer()
    }

    public var pendingOutput: Int { output.count - outputStart }
    public var closedAlready: Bool { isClosed }

    /// Queues `bytes` and writes what the socket takes now.
    public func send(_ bytes: [UInt8]) {
        guard !isClosed else { return }
        output.append(contentsOf: bytes)
        peakPendingOutput = max(peakPendingOutput, pendingOutput)
        flush()
    }

    /// Closes the connection (pending output is dropped).
    public func close(_ reason: CloseReason = .local) {
        guard !isClosed else { return }
        isClosed = true
        if let token { loop.deregister(token) }
        if let idleTimer { loop.cancel(idleTimer) }
        delegate?.closed(self, reason: reason)  // before the peer can see the close
        Sockets.close(fd)
    }

    // MARK: EventHandler

    public func readable(_ loop: EventLoop) {
        guard !isClosed, reading else { return }
        var total = 0
        while reading, !isClosed {
            input.reserveCapacity(input.count + Self.readChunk)
            let attempt: Result<Int?, NetError> = withUnsafeTemporaryAllocation(byteCount: Self.readChunk, alignment: 16) { buffer in
                Result { () throws(NetError) -> Int? in
                    guard let count = try Sockets.read(fd, into: buffer) else { return nil }
                    input.append(contentsOf: UnsafeRawBufferPointer(rebasing: buffer[0..<count]))
                    return count
                }
            }
            let got: Int?
            switch attempt {
            case .success(let count): got = count
            case .failure(let error):
                close(.error(error))
                return
            }
            guard let count = got else { break }  // would block
            if count == 0 {
                close(.peerClosed)
                return
            }
            total += count
            lastActivity = Monotonic.now()
            if input.count > limits.maxInput { break }
            if total >= 4 * Self.readChunk { break }  // be fair to other connections
        }
        if total > 0 { delegate?.received(on: self) }
        updateInterest()
    }

    public func writable(_ loop: EventLoop) {
        flush()
    }

    public func hangup(_ loop: EventLoop) {
        close(.peerClosed)
    }

    // MARK: Internals

    private func flush() {
        while pendingOutput > 0, !isClosed {
            let start = outputStart
            let attempt: Result<Int?, NetError> = output.withUnsafeBytes { raw in
                Result { () throws(NetError) -> Int? in
                    try Sockets.write(fd, UnsafeRawBufferPointer(rebasing: raw[start...]))
                }
            }
            let written: Int?
            switch attempt {
            case .success(let count): written = count
            case .failure(let error):
                close(.error(error))
                return
            }
            guard let count = written else { break }
            outputStart += count
            stalledSince = nil
        }
        if pendingOutput == 0 {
            output.removeAll(keepingCapacity: output.capacity <= 4 * limits.highWater)
            outputStart = 0
            stalledSince = nil
        } else {
            if outputStart > limits.highWater {  // compact the consumed prefix
                output.removeFirst(outputStart)
                outputStart = 0
            }
            if stalledSince == nil { stalledSince = Monotonic.now() }
        }
        updateInterest()
    }

    /// Reads while output is below the high-water mark (resuming below low water) and input
    /// below its limit; asks for write readiness while output waits.
    private func updateInterest() {
        guard !isClosed, let token else { return }
        if reading, pendingOutput > limits.highWater || input.count > limits.maxInput {
            reading = false
        } else if !reading, pendingOutput <= limits.lowWater, input.count <= limits.maxInput {
            reading = true
        }
        var interest: EventLoop.Interest = []
        if reading { interest.insert(.read) }
        if pendingOutput > 0 { interest.insert(.write) }
        loop.modify(token, interest: interest)
    }

    /// Resumes reading after the delegate consumed buffered input (call after removing bytes
    /// from `input` outside `received`).
    public func inputConsumed() {
        updateInterest()
    }

    private func armIdleTimer() {
        let interval = min(limits.idleTimeout, limits.writeStallTimeout) / 2
        idleTimer = loop.schedule(after: max(0.05, interval)) { [weak self] in self?.checkTimeouts() }
    }

    private func checkTimeouts() {
        guard !isClosed else { return }
        let now = Monotonic.now()
        if let stalledSince, now - stalledSince >= limits.writeStallTimeout {
            close(.writeStalled)
            return
        }
        if pendingOutput == 0, now - lastActivity >= limits.idleTimeout {
            close(.idleTimeout)
            return
        }
        armIdleTimer()
    }
}

/// Accepts connections on a listening socket registered with one loop, handing each accepted
/// descriptor to `accepted` (on the same loop).
public final class Acceptor: EventHandler {
    /// What the listener reports to its owner (for the log).
    public enum Event: Sendable {
        /// `accept` failed (`error`: the descriptor limit, no memory, …) and the listener stops
        /// being watched for `seconds`, so that a level-triggered listener with connections
        /// waiting does not wake its loop over and over: the first failure of a streak only.
        case paused(NetError, seconds: Double)
        /// A connection was accepted again after `failures` failed attempts.
        case resumed(failures: Int)
    }

    /// The first pause after a failed `accept`; each further failure in a row doubles it, up to
    /// `maxPause`. Connections wait in the kernel's backlog meanwhile.
    public static let firstPause = 0.05
    public static let maxPause = 1.0

    public let fd: Int32
    public let port: UInt16
    private var token: EventLoop.Token?
    private let accepted: (Int32) -> Void
    private let report: (Event) -> Void
    private let accept: (Int32) throws(NetError) -> Int32?
    /// Failed `accept` calls since the last success.
    private var failures = 0
    private var resumeTimer: TimerHeap.ID?

    /// Listens on `host:port` (port 0: any free port) with SO_REUSEPORT, on `loop`.
    public convenience init(host: String, port: UInt16, loop: EventLoop, report: @escaping (Event) -> Void = { _ in },
                            accepted: @escaping (Int32) -> Void) throws(NetError) {
        let fd = try Sockets.listen(host: host, port: port, reusePort: true)
        try self.init(listening: fd, loop: loop, report: report, accept: { (fd) throws(NetError) in try Sockets.accept(fd) },
                      accepted: accepted)
    }

    /// A listener on the listening socket `fd` (owned from here on), taking connections with
    /// `accept` (tests give one that fails).
    init(listening fd: Int32, loop: EventLoop, report: @escaping (Event) -> Void,
         accept: @escaping (Int32) throws(NetError) -> Int32?, accepted: @escaping (Int32) -> Void) throws(NetError) {
        self.fd = fd
        self.port = Sockets.localPort(fd)
        self.accepted = accepted
        self.report = report
        self.accept = accept
        do {
            token = try loop.register(fd, interest: .read, handler: self)
        } catch {
            Sockets.close(fd)
            throw error
        }
    }

    public func readable(_ loop: EventLoop) {
        while true {
            let client: Int32?
            do {
                client = try accept(fd)
            } catch {
                pause(loop, error)
                return
            }
            guard let client else { return }
            if failures > 0 {
                report(.resumed(failures: failures))
                failures = 0
            }
            accepted(client)
        }
    }

    /// Stops watching the listener for a while after a failed `accept`, then watches it again.
    private func pause(_ loop: EventLoop, _ error: NetError) {
        guard let token else { return }
        failures += 1
        let seconds = min(Self.firstPause * Double(1 << min(failures - 1, 10)), Self.maxPause)
        if failures == 1 { report(.paused(error, seconds: seconds)) }
        loop.modify(token, interest: [])
        resumeTimer = loop.schedule(after: seconds) { [weak self, weak loop] in
            guard let self, let loop, let token = self.token else { return }
            self.resumeTimer = nil
            loop.modify(token, interest: .read)
        }
    }

    public func writable(_ loop: EventLoop) {}
    public func hangup(_ loop: EventLoop) {}

    public func close(_ loop: EventLoop) {
        if let resumeTimer { loop.cancel(resumeTimer) }
        resumeTimer = nil
        if let token { loop.deregister(token) }
        token = nil
        Sockets.close(fd)
    }
}
