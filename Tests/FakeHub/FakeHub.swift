import Foundation
import Glibc
public import HubTLS
public import HubWire
import IndicatorKit

/// A fake hub for client tests: a thread accepting on a loopback port with a real TLS 1.3
/// server context, speaking just enough of docs/PROTOCOL.md — HELLO → WELCOME (or a
/// connection-level ERROR), QUERY → RESULT or a request-level ERROR, PING → PONG. It holds
/// queries until the client has `maxInFlight` of them in flight (or goes quiet for 10 ms) and
/// then answers them in REVERSE order, so clients must match results by request id. It
/// records what it saw (most requests in flight at once, breaches of the advertised limits)
/// for the tests to check.
public final class FakeHub: @unchecked Sendable {
    /// What the fake hub answers.
    public struct Behaviour: Sendable {
        public var welcome: Welcome
        /// The answer for one value (given as text).
        public var answer: @Sendable (String) -> ResultEntry
        /// A request-level ERROR for the whole batch, or nil to answer it.
        public var refuse: @Sendable (QueryBatch) -> ErrorMessage?
        /// Sent instead of WELCOME (then the connection is closed).
        public var connectionError: ErrorMessage?
        public var reverseOrder: Bool
        /// Uploads and withdrawals (version 2): only partners with this role may send them;
        /// the others get `operation_not_allowed`, as a hub answers a bank.
        public var uploadRole: PartnerRole
        /// Closes the connection without an answer after this many UPLOAD_RECORDS chunks, on
        /// the first `dropUploads` uploads (a lost connection mid-upload).
        public var dropAfterChunks: Int
        public var dropUploads: Int
        /// The first this many COMMITs are answered `upload_in_progress` (an earlier attempt
        /// still being applied).
        public var busyCommits = 0

        public init(welcome: Welcome = Welcome(reveal: .all, maxBatchValues: 3, maxInFlight: 2,
                                               policyVersion: 7, partner: "bank-a"),
                    answer: @escaping @Sendable (String) -> ResultEntry = FakeHub.standardAnswer,
                    refuse: @escaping @Sendable (QueryBatch) -> ErrorMessage? = { _ in nil },
                    connectionError: ErrorMessage? = nil, reverseOrder: Bool = true,
                    uploadRole: PartnerRole = .cert, dropAfterChunks: Int = 1, dropUploads: Int = 0) {
            self.welcome = welcome
            self.answer = answer
            self.refuse = refuse
            self.connectionError = connectionError
            self.reverseOrder = reverseOrder
            self.uploadRole = uploadRole
            self.dropAfterChunks = dropAfterChunks
            self.dropUploads = dropUploads
        }
    }

    /// `hit…` → a hit revealing every field; `bad…` → refused `invalid_value`; else a miss.
    public static let standardAnswer: @Sendable (String) -> ResultEntry = { value in
        if value.hasPrefix("hit") {
            return .hit(RevealedFields(category: .phishing, confidence: 90, expires: 1_767_225_600, action: .block))
        }
        if value.hasPrefix("bad") { return .refused(.invalidValue) }
        return .miss
    }

    public let port: UInt16
    private let listener: Int32
    private let context: TLSServerContext
    let behaviour: Behaviour
    let lock = NSLock()
    /// Applied uploads by id: their owner, content and first answer (the fake's "store").
    var _uploads: [UploadID: AppliedUpload] = [:]
    var _uploadsDropped = 0
    var _busyAnswered = 0
    var _nextUploadNumber: UInt32 = 1
    var _uploadFrames: [MessageType] = []
    private var stopped = false
    private var _maxInFlightSeen = 0
    private var _queries = 0
    private var _violations: [String] = []
    private var _handshakeErrors: [TLSError] = []
    private var _partners: [String] = []

    /// Starts listening on 127.0.0.1 (a free port) and accepting on a thread.
    public init(context: TLSServerContext, behaviour: Behaviour = Behaviour()) throws {
        self.context = context
        self.behaviour = behaviour
        let (fd, port) = try FakeHub.listen()
        listener = fd
        self.port = port
        Thread { [self] in acceptLoop() }.start()
    }

    deinit { stop() }

    /// Stops accepting (the accept thread closes the listener within 50 ms) and ends every
    /// connection's thread soon after.
    public func stop() { locked { stopped = true } }

    public var maxInFlightSeen: Int { locked { _maxInFlightSeen } }
    public var queriesReceived: Int { locked { _queries } }
    public var violations: [String] { locked { _violations } }
    public var handshakeErrors: [TLSError] { locked { _handshakeErrors } }
    /// The partner names of the verified client certificates, one per connection.
    public var partners: [String] { locked { _partners } }

    private var isStopped: Bool { locked { stopped } }

    func locked<T>(_ body: () -> T) -> T {
        lock.lock()
        defer { lock.unlock() }
        return body()
    }

    func note(_ violation: String) { locked { _violations.append(violation) } }

    /// A port nothing listens on (bound, then closed): connecting to it is refused.
    public static func unusedPort() throws -> UInt16 {
        let (fd, port) = try listen()
        Glibc.close(fd)
        return port
    }

    private static func listen() throws -> (Int32, UInt16) {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw POSIXError(.EMFILE) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, Glibc.listen(fd, 64) == 0 else {
            Glibc.close(fd)
            throw POSIXError(.EADDRINUSE)
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        return (fd, UInt16(bigEndian: address.sin_port))
    }

    private func acceptLoop() {
        defer { Glibc.close(listener) }
        while !isStopped {
            var descriptor = pollfd(fd: listener, events: Int16(POLLIN), revents: 0)
            guard poll(&descriptor, 1, 50) > 0 else { continue }
            let fd = accept(listener, nil, nil)
            if fd < 0 { continue }
            _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
            Thread { [self] in
                serve(fd)
                Glibc.close(fd)
            }.start()
        }
    }

    // MARK: One connection

    private func serve(_ fd: Int32) {
        guard let tls = try? TLSConnection(server: context, socket: fd) else { return }
        while true {
            do {
                switch try tls.handshake() {
                case .complete:
                    locked { _partners.append(tls.peer?.name ?? "?") }
                    run(FakeConnection(fd: fd, tls: tls))
                    return
                case .wantRead: _ = FakeConnection.wait(fd, Int16(POLLIN), 100)
                case .wantWrite: _ = FakeConnection.wait(fd, Int16(POLLOUT), 100)
                }
            } catch {
                locked { _handshakeErrors.append(error) }
                return
            }
            if isStopped { return }
        }
    }

    private func run(_ connection: FakeConnection) {
        var welcomed = false
        var feeds = FeedConnectionState(role: connection.tls.peer?.role)
        var held: [QueryBatch] = []
        var inFlight = 0
        let welcome = behaviour.welcome
        while !isStopped {
            guard let (frames, ended) = connection.read() else { return }
            for frame in frames {
                guard let message = try? Message(frame: frame, maxBatchValues: Int(welcome.maxBatchValues)) else {
                    note("unparsable \(frame.type) frame")
                    return
                }
                switch message {
                case .hello:
                    if let error = behaviour.connectionError {
                        connection.send(.error(error))
                        connection.close()
                        return
                    }
                    connection.send(.welcome(welcome))
                    connection.decoder.maxPayloadBytes = Int(welcome.maxPayloadBytes)
                    connection.decoder.version = welcome.version
                    welcomed = true
                case .uploadBegin, .uploadRecords, .uploadCommit, .withdraw:
                    guard feeds.handle(message, hub: self, connection: connection) else {
                        connection.close()
                        return
                    }
                case .query(let query):
                    if !welcomed { note("QUERY before WELCOME") }
                    inFlight += 1
                    let total = inFlight
                    locked {
                        _queries += 1
                        _maxInFlightSeen = max(_maxInFlightSeen, total)
                    }
                    if total > Int(welcome.maxInFlight) { note("\(total) requests in flight, limit \(welcome.maxInFlight)") }
                    if query.values.count > Int(welcome.maxBatchValues) { note("batch of \(query.values.count)") }
                    held.append(query)
                case .ping(let ping):
                    connection.send(.pong(Pong(answering: ping)))
                case .error(let error):
                    note("client sent ERROR \(error.code.name): \(error.reason)")
                    return
                default:
                    note("unexpected \(message.type) from the client")
                }
            }
            // Answer when the client has filled its window or has gone quiet.
            if !held.isEmpty && (inFlight >= Int(welcome.maxInFlight) || frames.isEmpty) {
                for query in behaviour.reverseOrder ? held.reversed() : held {
                    connection.send(answer(query))
                }
                inFlight -= held.count
                held.removeAll()
            }
            if ended { return }
        }
    }

    private func answer(_ query: QueryBatch) -> Message {
        if let refusal = behaviour.refuse(query) {
            return .error(ErrorMessage(requestID: query.requestID, code: refusal.code, reason: refusal.reason))
        }
        var entries = ResultEntries()
        for value in query.values {
            entries.append(behaviour.answer(String(decoding: value.bytes, as: UTF8.self)))
        }
        return .result(QueryResult(requestID: query.requestID, entries: entries))
    }
}
