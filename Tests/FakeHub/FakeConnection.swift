import Glibc
import HubTLS
import HubWire

/// The fake hub's side of one established connection: blocking-style reads and writes with
/// `poll(2)` around the non-blocking `TLSConnection`.
final class FakeConnection {
    let fd: Int32
    let tls: TLSConnection
    var decoder = FrameDecoder()
    private var buffer = [UInt8](repeating: 0, count: 1 << 16)

    init(fd: Int32, tls: TLSConnection) {
        self.fd = fd
        self.tls = tls
    }

    static func wait(_ fd: Int32, _ events: Int16, _ milliseconds: Int32) -> Bool {
        var descriptor = pollfd(fd: fd, events: events, revents: 0)
        return poll(&descriptor, 1, milliseconds) > 0
    }

    /// Waits up to 10 ms for bytes, then reads everything available. nil on a failure;
    /// `ended` when the client closed.
    func read() -> (frames: [Frame], ended: Bool)? {
        var frames: [Frame] = []
        if tls.bufferedBytes == 0 { _ = Self.wait(fd, Int16(POLLIN), 10) }
        while true {
            let result: TLSConnection.Transfer
            do {
                result = try buffer.withUnsafeMutableBytes { raw in try tls.read(into: raw) }
            } catch {
                return nil
            }
            switch result {
            case .bytes(let count):
                if count == 0 { return (frames, false) }
                guard (try? buffer.withUnsafeBufferPointer({ raw in
                    try decoder.feed(UnsafeBufferPointer(rebasing: raw[0..<count]), into: &frames)
                })) != nil else { return nil }
            case .wantRead, .wantWrite: return (frames, false)
            case .closed: return (frames, true)
            }
        }
    }

    /// Writes a whole message, waiting for the socket as needed (up to about 5 s).
    func send(_ message: Message) {
        guard let bytes = try? message.encoded() else { return }
        var sent = 0
        var waits = 0
        while sent < bytes.count && waits < 500 {
            let result = try? bytes.withUnsafeBytes { raw in try tls.write(UnsafeRawBufferPointer(rebasing: raw[sent...])) }
            switch result {
            case .bytes(let count)?: sent += count
            case .wantWrite?: waits += 1; _ = Self.wait(fd, Int16(POLLOUT), 10)
            case .wantRead?: waits += 1; _ = Self.wait(fd, Int16(POLLIN), 10)
            default: return
            }
        }
    }

    func close() {
        _ = try? tls.shutdown()
    }
}
