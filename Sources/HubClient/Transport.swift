import Glibc
import HubTLS
import HubWire

/// One TLS connection to a hub on a non-blocking socket, driven with `poll(2)`: the blocking
/// client's only I/O. It queues outgoing frames, writes what the socket takes, reads what has
/// arrived and cuts it into frames — in the same step, so a client that has many requests in
/// flight keeps reading results while it writes (docs/PROTOCOL.md, "Back-pressure").
final class Transport {
    let socket: Int32
    let tls: TLSConnection
    var decoder = FrameDecoder()
    /// Encoded frames not yet taken by TLS; `sent` bytes of it are already written.
    private(set) var outgoing: [UInt8] = []
    private var sent = 0
    /// Set when TLS asked to wait for the socket before it can write (or read) again.
    private var writeWaitsFor: Int16 = 0
    private var readWaitsFor: Int16 = Int16(POLLIN)
    private var readBuffer = [UInt8](repeating: 0, count: 1 << 16)
    private var peerClosed = false

    private init(socket: Int32, tls: TLSConnection) {
        self.socket = socket
        self.tls = tls
    }

    deinit { Glibc.close(socket) }

    /// Bytes queued and not yet written.
    var pendingBytes: Int { outgoing.count - sent }

    /// Resolves `host`, connects within `timeout` seconds and completes the TLS handshake as
    /// `serverName` within the same budget.
    static func open(host: String, port: UInt16, context: TLSClientContext, serverName: String,
                     timeout: Double) throws(ClientError) -> Transport {
        let deadline = Deadline(seconds: timeout)
        let socket = try connectSocket(host: host, port: port, deadline: deadline)
        let tls: TLSConnection
        do {
            tls = try TLSConnection(client: context, socket: socket, serverName: serverName)
        } catch {
            Glibc.close(socket)
            throw .tls(error)
        }
        let transport = Transport(socket: socket, tls: tls)
        while true {
            let progress: TLSConnection.Progress
            do { progress = try tls.handshake() } catch { throw .tls(error) }
            switch progress {
            case .complete: return transport
            case .wantRead: try transport.wait(Int16(POLLIN), until: deadline, operation: "the TLS handshake")
            case .wantWrite: try transport.wait(Int16(POLLOUT), until: deadline, operation: "the TLS handshake")
            }
        }
    }

    /// Appends a message's frame to the outgoing bytes (written by `exchange`).
    func queue(_ message: Message) throws(ClientError) {
        if sent > 0 && sent == outgoing.count {
            outgoing.removeAll(keepingCapacity: true)
            sent = 0
        }
        do { try message.encode(into: &outgoing) } catch { throw .protocolViolation(error) }
    }

    /// Writes what it can, reads what has arrived and appends complete frames to `frames`.
    /// Waits (poll) only when neither made progress; throws on timeout, on a TLS failure, on
    /// a malformed frame and when the hub has closed the connection.
    func exchange(into frames: inout [Frame], until deadline: Deadline, operation: String) throws(ClientError) {
        // Read first: a hub that refused our certificate has sent its alert and closed, and
        // writing before reading would report the reset instead of the alert's reason.
        var progressed = try receive(into: &frames)
        if !peerClosed { progressed = try flush() || progressed }
        if progressed || !frames.isEmpty { return }
        if peerClosed { throw .connectionClosed(duringRequest: true) }
        var events = readWaitsFor
        if pendingBytes > 0 { events |= writeWaitsFor == 0 ? Int16(POLLOUT) : writeWaitsFor }
        try wait(events, until: deadline, operation: operation)
    }

    /// Writes queued bytes until done or TLS must wait; true when any byte was written.
    private func flush() throws(ClientError) -> Bool {
        var wrote = false
        writeWaitsFor = 0
        while sent < outgoing.count {
            let result: TLSConnection.Transfer
            let attempt = outgoing.withUnsafeBytes { raw in
                Result { () throws(TLSError) in try tls.write(UnsafeRawBufferPointer(rebasing: raw[sent...])) }
            }
            do { result = try attempt.get() } catch { throw .tls(error) }
            switch result {
            case .bytes(let count):
                sent += count
                wrote = wrote || count > 0
            case .wantWrite:
                writeWaitsFor = Int16(POLLOUT)
                return wrote
            case .wantRead:
                writeWaitsFor = Int16(POLLIN)
                return wrote
            case .closed:
                throw .connectionClosed(duringRequest: true)
            }
        }
        if sent == outgoing.count && outgoing.count > 1 << 20 {
            outgoing = []  // do not keep a large buffer after a burst
            sent = 0
        }
        return wrote
    }

    /// Reads until TLS must wait; true when any byte arrived. A close by the hub is noted
    /// (`peerClosed`) after the frames before it have been handed out.
    private func receive(into frames: inout [Frame]) throws(ClientError) -> Bool {
        var readAny = false
        readWaitsFor = Int16(POLLIN)
        while !peerClosed {
            let result: TLSConnection.Transfer
            let attempt = readBuffer.withUnsafeMutableBytes { raw in
                Result { () throws(TLSError) in try tls.read(into: raw) }
            }
            do { result = try attempt.get() } catch { throw .tls(error) }
            switch result {
            case .bytes(let count):
                guard count > 0 else { return readAny }
                readAny = true
                let fed = readBuffer.withUnsafeBufferPointer { buffer in
                    Result { () throws(WireError) in
                        try decoder.feed(UnsafeBufferPointer(rebasing: buffer[0..<count]), into: &frames)
                    }
                }
                do { try fed.get() } catch { throw .protocolViolation(error) }
            case .wantRead:
                return readAny
            case .wantWrite:
                readWaitsFor = Int16(POLLOUT)
                return readAny
            case .closed:
                peerClosed = true
                do { try decoder.finish() } catch { throw .protocolViolation(error) }
                return readAny
            }
        }
        return readAny
    }

    /// Sends close_notify if the connection allows it; never waits long (the socket closes
    /// when the transport is released).
    func shutdown() {
        guard tls.state == .established else { return }
        let deadline = Deadline(seconds: 1)
        for _ in 0..<8 {
            guard let progress = try? tls.shutdown() else { return }
            switch progress {
            case .complete: return
            case .wantRead: try? wait(Int16(POLLIN), until: deadline, operation: "close_notify")
            case .wantWrite: try? wait(Int16(POLLOUT), until: deadline, operation: "close_notify")
            }
        }
    }

    /// `poll(2)` on the socket for `events` until the deadline; throws `timeout` when it passes.
    func wait(_ events: Int16, until deadline: Deadline, operation: String) throws(ClientError) {
        while true {
            let remaining = deadline.remainingMilliseconds
            if remaining <= 0 { throw .timeout(operation: operation, seconds: deadline.seconds) }
            var descriptor = pollfd(fd: socket, events: events, revents: 0)
            let result = poll(&descriptor, 1, remaining)
            if result > 0 { return }
            if result < 0 && errno != EINTR {
                throw .cannotConnect(host: "hub", port: 0, reason: "poll: \(ClientError.systemReason(errno))")
            }
        }
    }

    // MARK: TCP

    /// `getaddrinfo(3)` then a non-blocking `connect(2)` to each address in turn.
    private static func connectSocket(host: String, port: UInt16, deadline: Deadline) throws(ClientError) -> Int32 {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_flags = AI_NUMERICSERV
        var list: UnsafeMutablePointer<addrinfo>?
        let resolved = getaddrinfo(host, String(port), &hints, &list)
        guard resolved == 0, let first = list else {
            let reason = resolved == EAI_SYSTEM ? ClientError.systemReason(errno) : String(cString: gai_strerror(resolved))
            throw .cannotConnect(host: host, port: port, reason: "cannot resolve host: \(reason)")
        }
        defer { freeaddrinfo(list) }
        var lastReason = "no address"
        var entry: UnsafeMutablePointer<addrinfo>? = first
        while let address = entry {
            entry = address.pointee.ai_next
            let fd = Glibc.socket(address.pointee.ai_family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
            if fd < 0 {
                lastReason = "socket: \(ClientError.systemReason(errno))"
                continue
            }
            _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
            var one: Int32 = 1
            _ = setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
            if Glibc.connect(fd, address.pointee.ai_addr, address.pointee.ai_addrlen) == 0 { return fd }
            if errno == EINPROGRESS {
                var descriptor = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
                var ready: Int32 = 0
                repeat {
                    ready = poll(&descriptor, 1, max(deadline.remainingMilliseconds, 0))
                } while ready < 0 && errno == EINTR
                if ready > 0 {
                    var error: Int32 = 0
                    var length = socklen_t(MemoryLayout<Int32>.size)
                    _ = getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length)
                    if error == 0 { return fd }
                    lastReason = ClientError.systemReason(error)
                } else {
                    lastReason = "no answer within \(deadline.seconds) s"
                }
            } else {
                lastReason = ClientError.systemReason(errno)
            }
            Glibc.close(fd)
        }
        throw .cannotConnect(host: host, port: port, reason: lastReason)
    }
}

/// A point in time on `CLOCK_MONOTONIC`, `seconds` after it was made.
struct Deadline {
    let seconds: Double
    private let end: Double

    init(seconds: Double) {
        self.seconds = seconds
        end = Deadline.now() + seconds
    }

    var remainingMilliseconds: Int32 {
        let remaining = (end - Deadline.now()) * 1000
        return remaining <= 0 ? 0 : Int32(min(remaining.rounded(.up), Double(Int32.max)))
    }

    static func now() -> Double {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
    }
}
