public import HubWire
import IndicatorKit
import HubTLS
import Glibc

/// A partner's connection to a hub (docs/CLIENT.md): mutual TLS 1.3 with the identity that
/// `ihub partner add` wrote, the HELLO/WELCOME handshake, then pipelined query batches.
///
/// Blocking and single-threaded: each call returns when its answers are in (a CLI and most
/// partner integrations want exactly that); inside a call, batches are pipelined up to the
/// hub's in-flight limit. One client per thread; open several for parallel work.
public final class HubClient {
    /// Timeouts and what the client tells the hub about itself.
    public struct Options: Sendable {
        /// TCP connect plus TLS handshake, seconds.
        public var connectTimeout: Double
        /// Longest wait for any progress (a byte written or read) once connected, seconds.
        public var ioTimeout: Double
        /// The name the hub's certificate must carry; nil = the host dialled.
        public var serverName: String?
        /// Sent in HELLO, logged and audited by the hub.
        public var software: String

        public init(connectTimeout: Double = 10, ioTimeout: Double = 30, serverName: String? = nil,
                    software: String = "ihub-client/0.1") {
            self.connectTimeout = connectTimeout
            self.ioTimeout = ioTimeout
            self.serverName = serverName
            self.software = software
        }
    }

    /// The hub's WELCOME: its limits for this connection (`maxBatchValues`, `maxInFlight`,
    /// `maxPayloadBytes`, `idleTimeoutSeconds`), the partner name it found in our certificate,
    /// the policy version, the fields hits may reveal (`reveal`) and the allowed types.
    public let welcome: Welcome
    let options: Options
    var transport: Transport?
    var session = ClientSession()
    var nextRequestID: UInt64 = 1
    var nextPing: UInt64 = 1

    /// The files an identity directory must hold (written by `ihub partner add`).
    public static let identityFiles = ["partner.key", "partner.crt", "ca.crt"]

    /// Connects to the hub at `host`:`port` as the partner whose identity is in
    /// `identityDirectory`, and waits for WELCOME.
    public static func connect(host: String, port: UInt16, identityDirectory: String,
                               options: Options = Options()) throws(ClientError) -> HubClient {
        let missing = identityFiles.filter { access(identityDirectory + "/" + $0, F_OK) != 0 }
        if !missing.isEmpty {
            throw .identity(directory: identityDirectory, reason: "missing " + missing.joined(separator: ", ")
                + " (written by `ihub partner add NAME --out DIR`)")
        }
        let context: TLSClientContext
        do {
            context = try TLSClientContext(identityDirectory: identityDirectory)
        } catch {
            throw .identity(directory: identityDirectory, reason: error.description)
        }
        let transport = try Transport.open(host: host, port: port, context: context,
                                           serverName: options.serverName ?? host, timeout: options.connectTimeout)
        let hello = Hello(software: options.software)
        try transport.queue(.hello(hello))
        var session = ClientSession()
        let deadline = Deadline(seconds: Double(WireFormat.helloTimeout))
        var frames: [Frame] = []
        while frames.isEmpty {
            try transport.exchange(into: &frames, until: deadline, operation: "the hub's WELCOME")
        }
        let message: Message
        do {
            try session.admit(frames[0])
            message = try Message(frame: frames[0])
        } catch {
            throw .protocolViolation(error)
        }
        switch message {
        case .welcome(let welcome):
            do { try session.accept(welcome, offered: hello) } catch {
                transport.refuse(error)
                throw .protocolViolation(error)
            }
            transport.decoder.maxPayloadBytes = WireFormat.maxPayloadBytes
            transport.decoder.version = welcome.version
            return HubClient(welcome: welcome, options: options, transport: transport, session: session,
                             leftover: Array(frames.dropFirst()))
        case .error(let error):
            throw .refusedByHub(code: error.code, reason: error.reason)
        default:
            throw .invalidUse("unreachable: admit lets only WELCOME or ERROR through")
        }
    }

    /// Frames that arrived with the WELCOME (a hub may send a PING right after it).
    var leftover: [Frame]

    private init(welcome: Welcome, options: Options, transport: Transport, session: ClientSession, leftover: [Frame]) {
        self.welcome = welcome
        self.options = options
        self.transport = transport
        self.session = session
        self.leftover = leftover
    }

    deinit { transport?.shutdown() }

    /// Sends a PING and waits for its PONG; returns the round trip in seconds. Call it at least
    /// every half of `welcome.idleTimeoutSeconds` to keep an idle connection open.
    @discardableResult
    public func ping() throws(ClientError) -> Double {
        let transport = try open()
        let opaque = nextPing
        nextPing += 1
        let start = Deadline.now()
        try transport.queue(.ping(Ping(opaque: opaque)))
        let deadline = Deadline(seconds: options.ioTimeout)
        while true {
            for message in try nextMessages(transport, deadline: deadline, operation: "PONG") {
                if case .pong(let pong) = message, pong.opaque == opaque { return Deadline.now() - start }
            }
        }
    }

    /// Sends close_notify and closes the socket. Later calls throw `invalidUse`.
    public func close() {
        transport?.shutdown()
        transport = nil
    }

    func open() throws(ClientError) -> Transport {
        guard let transport else { throw .invalidUse("the client is closed") }
        return transport
    }

    /// Reads the next frames and handles connection messages: answers PINGs, turns a
    /// connection-level ERROR into `refusedByHub` and a protocol breach into
    /// `protocolViolation` (after telling the hub, then closing). Returns the other messages.
    func nextMessages(_ transport: Transport, deadline: Deadline, operation: String) throws(ClientError) -> [Message] {
        var frames = leftover
        leftover = []
        if frames.isEmpty {
            do {
                try transport.exchange(into: &frames, until: deadline, operation: operation)
            } catch {
                self.transport = nil
                throw error
            }
        }
        var messages: [Message] = []
        for frame in frames {
            let message: Message
            do {
                try session.admit(frame)
                message = try Message(frame: frame)
                switch message {
                case .result(let result): try session.receive(result)
                case .uploadResult(let result): session.receive(result)
                case .withdrawResult(let result): session.receive(result)
                case .error(let error) where error.requestID != 0: session.receive(error)
                default: break
                }
            } catch {
                transport.refuse(error)
                self.transport = nil
                throw .protocolViolation(error)
            }
            switch message {
            case .ping(let ping): try transport.queue(.pong(Pong(answering: ping)))
            case .error(let error) where error.code.closesConnection:
                self.transport = nil
                throw .refusedByHub(code: error.code, reason: error.reason)
            default: messages.append(message)
            }
        }
        return messages
    }
}

extension Transport {
    /// Tells the hub why the client is closing (best effort), then sends close_notify.
    func refuse(_ error: WireError) {
        let message = ErrorMessage(code: error.code, reason: ErrorMessage.truncatedReason(error.description))
        if (try? queue(.error(message))) != nil {
            var ignored: [Frame] = []
            try? exchange(into: &ignored, until: Deadline(seconds: 0.2), operation: "sending ERROR")
        }
        shutdown()
    }
}
