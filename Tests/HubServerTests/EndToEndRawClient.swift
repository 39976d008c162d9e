import Foundation
import Glibc
import HubTLS
import HubWire
import IndicatorKit

/// Plain TCP to the hub, for clients that misbehave before or instead of TLS.
enum RawSocket {
    /// A connected non-blocking socket to 127.0.0.1:`port`. Buffer sizes (SO_RCVBUF,
    /// SO_SNDBUF) are set before connecting, so that TCP's window reflects them.
    static func connect(port: UInt16, receiveBuffer: Int32? = nil, sendBuffer: Int32? = nil) throws -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw EndToEndFailure("socket: errno \(errno)") }
        for (option, value) in [(SO_RCVBUF, receiveBuffer), (SO_SNDBUF, sendBuffer)] {
            guard var value else { continue }
            _ = setsockopt(fd, SOL_SOCKET, option, &value, socklen_t(MemoryLayout<Int32>.size))
        }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        _ = inet_pton(AF_INET, "127.0.0.1", &address.sin_addr)
        let connected = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard connected == 0 else {
            let code = errno
            Glibc.close(fd)
            throw EndToEndFailure("connect to 127.0.0.1:\(port): errno \(code)")
        }
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
        return fd
    }

    /// Writes all of `bytes` (bounded wait).
    static func send(_ fd: Int32, _ bytes: [UInt8], timeout: Double = 5) throws {
        var sent = 0
        let deadline = monotonicSeconds() + timeout
        while sent < bytes.count {
            let count = bytes.withUnsafeBytes { raw in
                Glibc.send(fd, raw.baseAddress! + sent, raw.count - sent, Int32(MSG_NOSIGNAL))
            }
            if count > 0 {
                sent += count
            } else if errno == EAGAIN || errno == EINTR, monotonicSeconds() < deadline {
                wait(fd, events: Int16(POLLOUT), milliseconds: 20)
            } else {
                throw EndToEndFailure("send: errno \(errno) after \(sent) of \(bytes.count) bytes")
            }
        }
    }

    /// How a plain TCP connection ended, as the client sees it.
    enum End: Equatable {
        /// The peer closed (FIN), after sending `received` bytes (a TLS alert, say).
        case closed(received: Int)
        /// The peer reset the connection.
        case reset(received: Int)
        /// Still open after the wait.
        case open
    }

    /// Reads (and discards) until the peer closes or `timeout` seconds pass.
    static func awaitClose(_ fd: Int32, timeout: Double = 10) -> End {
        var received = 0
        var buffer = [UInt8](repeating: 0, count: 4096)
        let deadline = monotonicSeconds() + timeout
        while monotonicSeconds() < deadline {
            let count = buffer.withUnsafeMutableBytes { Glibc.recv(fd, $0.baseAddress, $0.count, 0) }
            if count > 0 {
                received += count
            } else if count == 0 {
                return .closed(received: received)
            } else if errno == ECONNRESET {
                return .reset(received: received)
            } else {
                wait(fd, events: Int16(POLLIN), milliseconds: 20)
            }
        }
        return .open
    }

    static func wait(_ fd: Int32, events: Int16, milliseconds: Int32) {
        var poller = pollfd(fd: fd, events: events, revents: 0)
        _ = poll(&poller, 1, milliseconds)
    }
}

/// A test-only TLS client that can send any bytes after the handshake: built on HubTLS's
/// `TLSConnection` over a non-blocking socket, driven with `poll(2)`, every wait bounded.
final class RawClient {
    let fd: Int32
    let tls: TLSConnection
    private var decoder = FrameDecoder(maxPayloadBytes: WireFormat.maxPayloadBytes)
    private var frames: [Frame] = []

    /// What reading produced.
    enum Event: Equatable {
        case frame(Frame)
        /// close_notify from the hub.
        case closed
        /// The connection failed (an alert, a reset, an end without close_notify).
        case failed(TLSError)
        /// Nothing within the wait.
        case timeout
    }

    /// Connects and completes the client side of the handshake (in TLS 1.3 the client finishes
    /// before the hub has checked its certificate; a refusal arrives on the first read).
    init(port: UInt16, context: TLSClientContext, receiveBuffer: Int32? = nil, sendBuffer: Int32? = nil) throws {
        fd = try RawSocket.connect(port: port, receiveBuffer: receiveBuffer, sendBuffer: sendBuffer)
        do {
            tls = try TLSConnection(client: context, socket: fd, serverName: "127.0.0.1")
        } catch {
            Glibc.close(fd)
            throw error
        }
        let deadline = monotonicSeconds() + 10
        while true {
            switch try tls.handshake() {
            case .complete: return
            case .wantRead: try waitFor(Int16(POLLIN), until: deadline, "the TLS handshake")
            case .wantWrite: try waitFor(Int16(POLLOUT), until: deadline, "the TLS handshake")
            }
        }
    }

    deinit { Glibc.close(fd) }

    private func waitFor(_ events: Int16, until deadline: Double, _ what: String) throws {
        let left = deadline - monotonicSeconds()
        guard left > 0 else { throw EndToEndFailure("timed out waiting for \(what)") }
        RawSocket.wait(fd, events: events, milliseconds: Int32(min(left, 0.05) * 1000) + 1)
    }

    /// Writes all of `bytes` through TLS (bounded wait).
    func send(_ bytes: [UInt8], timeout: Double = 5) throws {
        let deadline = monotonicSeconds() + timeout
        var sent = 0
        while sent < bytes.count {
            let start = sent
            let result = try bytes.withUnsafeBytes { raw in try tls.write(UnsafeRawBufferPointer(rebasing: raw[start...])) }
            switch result {
            case .bytes(let count): sent += count
            case .wantWrite: try waitFor(Int16(POLLOUT), until: deadline, "the socket to take \(bytes.count - sent) bytes")
            case .wantRead: try waitFor(Int16(POLLIN), until: deadline, "TLS to let us write")
            case .closed: throw EndToEndFailure("the hub closed the connection while we wrote")
            }
        }
    }

    /// Writes what TLS takes of `bytes[offset...]` now, waiting at most `timeout` seconds for
    /// the socket; returns the bytes written (0: the hub is not reading). Call again with the
    /// same buffer and the new offset (TLS wants a retry with the same bytes).
    func sendSome(_ bytes: [UInt8], from offset: Int, timeout: Double) throws -> Int {
        let deadline = monotonicSeconds() + timeout
        while true {
            let result = try bytes.withUnsafeBytes { raw in try tls.write(UnsafeRawBufferPointer(rebasing: raw[offset...])) }
            switch result {
            case .bytes(let count): return count
            case .wantWrite, .wantRead:
                let left = deadline - monotonicSeconds()
                if left <= 0 { return 0 }
                RawSocket.wait(fd, events: result == .wantWrite ? Int16(POLLOUT) : Int16(POLLIN),
                               milliseconds: Int32(min(left, 0.05) * 1000) + 1)
            case .closed: throw EndToEndFailure("the hub closed the connection while we wrote")
            }
        }
    }

    /// The next frame, or how the connection ended, or `.timeout` after `timeout` seconds.
    func next(timeout: Double = 10) -> Event {
        let deadline = monotonicSeconds() + timeout
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            if !frames.isEmpty { return .frame(frames.removeFirst()) }
            let result: TLSConnection.Transfer
            do {
                result = try buffer.withUnsafeMutableBytes { raw in try tls.read(into: raw) }
            } catch {
                return .failed(error as? TLSError ?? .invalidState(operation: "test: \(error)", state: "reading"))
            }
            switch result {
            case .bytes(let count):
                do {
                    frames += try decoder.feed(Array(buffer[0..<count]))
                } catch {
                    return .failed(.invalidState(operation: "test: the hub sent a bad frame: \(error)", state: "decoding"))
                }
            case .closed: return .closed
            case .wantRead, .wantWrite:
                let left = deadline - monotonicSeconds()
                if left <= 0 { return .timeout }
                RawSocket.wait(fd, events: result == .wantWrite ? Int16(POLLOUT) : Int16(POLLIN),
                               milliseconds: Int32(min(left, 0.05) * 1000) + 1)
            }
        }
    }

    /// Sends HELLO (offering versions 1 to `maxVersion`) and returns the WELCOME.
    func hello(maxVersion: UInt16 = WireFormat.maxVersion) throws -> Welcome {
        try send(try Message.hello(Hello(maxVersion: maxVersion, software: "e2e-raw/1")).encoded())
        let event = next()
        guard case .frame(let frame) = event, case .welcome(let welcome) = try Message(frame: frame) else {
            throw EndToEndFailure("expected WELCOME, got \(event)")
        }
        decoder.version = welcome.version
        return welcome
    }

    /// The next message (a frame parsed), or nil with the event that was not a frame.
    func nextMessage(timeout: Double = 10) -> (Message?, Event) {
        let event = next(timeout: timeout)
        guard case .frame(let frame) = event else { return (nil, event) }
        return ((try? Message(frame: frame)), event)
    }

    /// Reads until a connection-level ERROR arrives and then the end of the connection:
    /// the ERROR and how the connection ended (`.closed` for close_notify).
    func awaitErrorAndClose(timeout: Double = 10) -> (error: ErrorMessage?, end: Event) {
        var error: ErrorMessage?
        let deadline = monotonicSeconds() + timeout
        while true {
            let event = next(timeout: max(0, deadline - monotonicSeconds()))
            switch event {
            case .frame(let frame):
                if case .error(let message) = try? Message(frame: frame) { error = message }
            case .closed, .failed, .timeout:
                return (error, event)
            }
        }
    }

    /// Sends close_notify (best effort).
    func closeNotify() {
        _ = try? tls.shutdown()
    }
}

/// Frames built by hand for the misbehaving clients.
enum RawFrames {
    static let fields = RequestFields(purpose: "payment-screening", legalBasis: "psd2-art-94", reference: "CASE-9",
                                      priority: .routine, timeZone: "UTC")

    /// A QUERY frame asking about `values`.
    static func query(id: UInt64, _ values: [(IndicatorType?, String)], fields: RequestFields = fields) throws -> [UInt8] {
        try Message.query(QueryBatch(requestID: id, fields: fields, values: try QueryValues(values))).encoded()
    }

    /// A QUERY of one value whose type byte is `typeByte` (14 and above are no indicator type).
    static func query(id: UInt64, typeByte: UInt8, value: String) throws -> [UInt8] {
        var frame = try query(id: id, [(.iban, value)])
        let textBytes = fields.purpose.utf8.count + fields.legalBasis.utf8.count + fields.reference.utf8.count
            + fields.timeZone.utf8.count
        let offset = WireFormat.headerSize + 16 + textBytes
        precondition(frame[offset] == IndicatorType.iban.rawValue, "the first value's type byte is not where the layout says")
        frame[offset] = typeByte
        return frame
    }

    /// A frame header with any fields (the payload is not included).
    static func header(length: UInt32, type: UInt8, requestID: UInt64 = 0) -> [UInt8] {
        var bytes: [UInt8] = []
        for shift in stride(from: 0, to: 32, by: 8) { bytes.append(UInt8(truncatingIfNeeded: length >> UInt32(shift))) }
        bytes += [type, 0, 0, 0]
        for shift in stride(from: 0, to: 64, by: 8) { bytes.append(UInt8(truncatingIfNeeded: requestID >> UInt64(shift))) }
        return bytes
    }

    /// Sets the request id of an encoded frame (header bytes 8–15).
    static func setRequestID(_ id: UInt64, in frame: inout [UInt8], at start: Int = 0) {
        for index in 0..<8 { frame[start + WireFormat.HeaderOffset.requestID + index] = UInt8(truncatingIfNeeded: id >> UInt64(8 * index)) }
    }
}
