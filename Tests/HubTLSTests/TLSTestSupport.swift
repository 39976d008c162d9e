import Foundation
import Glibc
import HubTLS

/// A fresh temporary directory, removed when the value is released.
final class TemporaryDirectory {
    let path: String

    init() throws {
        path = FileManager.default.temporaryDirectory.appendingPathComponent("hubtls-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }
}

/// A data directory with a fresh PKI, and helpers to issue identities into it.
final class TestHub {
    let temp: TemporaryDirectory
    let pki: HubPKI
    var data: String { temp.path + "/data" }

    init(hostnames: [String] = ["hub.example"]) throws {
        temp = try TemporaryDirectory()
        try FileManager.default.createDirectory(atPath: temp.path + "/data", withIntermediateDirectories: false)
        pki = try HubPKI.create(dataDirectory: temp.path + "/data", hostnames: hostnames)
    }

    /// Issues `name` into `<temp>/id-<name>-<n>` and returns the directory and certificate.
    func issue(_ name: String, role: PartnerRole = .bank, days: Int = 730, now: Int64? = nil) throws -> (String, PartnerCertificate) {
        var directory = temp.path + "/id-\(name)"
        var suffix = 1
        while FileManager.default.fileExists(atPath: directory) {
            suffix += 1
            directory = temp.path + "/id-\(name)-\(suffix)"
        }
        let issued = try pki.issuePartner(name: name, role: role, days: days, identityDirectory: directory, now: now)
        return (directory, issued)
    }

    func client(_ identityDirectory: String) throws -> TLSClientContext {
        try TLSClientContext(identityDirectory: identityDirectory)
    }
}

/// The permission bits of a file.
func mode(_ path: String) throws -> Int {
    let attributes = try FileManager.default.attributesOfItem(atPath: path)
    return (attributes[.posixPermissions] as? Int) ?? -1
}

/// A connected pair of non-blocking stream sockets (`socketpair(2)`), closed on release.
final class SocketPair {
    let server: Int32
    let client: Int32
    private var open: [Bool] = [true, true]

    init() {
        var fds: [Int32] = [-1, -1]
        let result = socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &fds)
        precondition(result == 0, "socketpair failed")
        for fd in fds { _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) }
        server = fds[0]
        client = fds[1]
    }

    func closeClient() { if open[1] { Glibc.close(client); open[1] = false } }
    func closeServer() { if open[0] { Glibc.close(server); open[0] = false } }

    /// Writes raw bytes on the client end (garbage before a handshake).
    func sendRaw(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { raw in _ = send(client, raw.baseAddress, raw.count, Int32(MSG_NOSIGNAL)) }
    }

    deinit {
        closeClient()
        closeServer()
    }
}

/// Waits up to `milliseconds` for either socket to become readable or writable as requested.
func waitForSockets(_ sockets: [(Int32, TLSConnection.Progress)], milliseconds: Int32 = 20) {
    var fds = sockets.map { socket, want in
        pollfd(fd: socket, events: Int16(want == .wantWrite ? POLLOUT : POLLIN), revents: 0)
    }
    _ = poll(&fds, nfds_t(fds.count), milliseconds)
}

/// The result of driving both sides of a handshake to their ends.
struct HandshakeResult {
    var serverError: TLSError?
    var clientError: TLSError?
    var serverCompleted: Bool { serverError == nil }
}

/// Drives a server and a client connection over `pair` with a small poll loop until each side
/// has completed or failed (bounded: a stuck handshake is a test failure, not a hang).
func driveHandshake(server: TLSConnection?, client: TLSConnection?, pair: SocketPair) -> HandshakeResult {
    var result = HandshakeResult()
    var serverDone = server == nil
    var clientDone = client == nil
    var serverWant = TLSConnection.Progress.wantRead
    var clientWant = TLSConnection.Progress.wantRead
    for _ in 0..<500 where !(serverDone && clientDone) {
        if !serverDone, let server {
            do {
                serverWant = try server.handshake()
                serverDone = serverWant == .complete
            } catch {
                result.serverError = error
                serverDone = true
            }
        }
        if !clientDone, let client {
            do {
                clientWant = try client.handshake()
                clientDone = clientWant == .complete
            } catch {
                result.clientError = error
                clientDone = true
            }
        }
        var waits: [(Int32, TLSConnection.Progress)] = []
        if !serverDone { waits.append((pair.server, serverWant)) }
        if !clientDone { waits.append((pair.client, clientWant)) }
        if !waits.isEmpty { waitForSockets(waits) }
    }
    if !serverDone { result.serverError = .invalidState(operation: "test: server handshake did not finish", state: "stuck") }
    if !clientDone { result.clientError = .invalidState(operation: "test: client handshake did not finish", state: "stuck") }
    return result
}

/// Reads on `connection` until it fails or the peer closes; returns the error, if any.
/// In TLS 1.3 the client finishes its handshake before the hub has checked its certificate,
/// so a refusal reaches the client as an alert on its first read.
func readUntilFailure(_ connection: TLSConnection, socket: Int32) -> TLSError? {
    var buffer = [UInt8](repeating: 0, count: 4096)
    for _ in 0..<200 {
        do {
            let transfer = try buffer.withUnsafeMutableBytes { raw in try connection.read(into: raw) }
            switch transfer {
            case .closed: return nil
            case .wantRead: waitForSockets([(socket, .wantRead)])
            case .wantWrite: waitForSockets([(socket, .wantWrite)])
            case .bytes: continue
            }
        } catch {
            return (error as? TLSError) ?? .invalidState(operation: "test: \(error)", state: "unexpected error type")
        }
    }
    return .invalidState(operation: "test: no failure seen", state: "stuck")
}

/// Establishes a connection between `client` and `server` contexts; throws on failure.
func connect(_ server: TLSServerContext, _ client: TLSClientContext, serverName: String = "localhost")
    throws -> (SocketPair, TLSConnection, TLSConnection, HandshakeResult) {
    let pair = SocketPair()
    let serverConnection = try TLSConnection(server: server, socket: pair.server)
    let clientConnection = try TLSConnection(client: client, socket: pair.client, serverName: serverName)
    let result = driveHandshake(server: serverConnection, client: clientConnection, pair: pair)
    return (pair, serverConnection, clientConnection, result)
}

/// Moves `bytes` from `writer` to `reader` with both sockets non-blocking; returns what was
/// read and how many times the writer had to wait for the socket (`wantWrite`).
func transfer(_ bytes: [UInt8], from writer: TLSConnection, writerSocket: Int32,
              to reader: TLSConnection, readerSocket: Int32) throws -> (received: [UInt8], writeWaits: Int) {
    var sent = 0
    var received: [UInt8] = []
    var waits = 0
    var buffer = [UInt8](repeating: 0, count: 65536)
    var idle = 0
    while received.count < bytes.count {
        var progressed = false
        // Write until the socket is full (want-write) or everything is sent, then drain.
        writing: while sent < bytes.count {
            let result = try bytes.withUnsafeBytes { raw in
                try writer.write(UnsafeRawBufferPointer(rebasing: raw[sent...]))
            }
            switch result {
            case .bytes(let count):
                sent += count
                progressed = progressed || count > 0
            case .wantWrite:
                waits += 1
                break writing
            case .wantRead, .closed:
                break writing
            }
        }
        while true {
            let result = try buffer.withUnsafeMutableBytes { raw in try reader.read(into: raw) }
            guard case .bytes(let count) = result, count > 0 else { break }
            received.append(contentsOf: buffer[0..<count])
            progressed = true
        }
        if !progressed {
            idle += 1
            if idle > 1000 { break }
            waitForSockets([(writerSocket, .wantWrite), (readerSocket, .wantRead)], milliseconds: 5)
        } else {
            idle = 0
        }
    }
    return (received, waits)
}
