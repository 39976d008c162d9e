import BenchSupport
import Glibc
import HubTLS
import HubWire
import IndicatorKit

/// The hub's QUERY frames for a pool of values, encoded once (request id 1; each send copies
/// the frame and writes its own id into the header), shared by every connection.
struct HubRequestPool {
    var bytes: [UInt8] = []
    var offsets: [Int] = [0]
    var valuesPerBatch: Int

    init(_ queries: QuerySet, batch: Int, fields: RequestFields) throws(BenchFailure) {
        valuesPerBatch = batch
        for first in stride(from: 0, to: queries.count - batch + 1, by: batch) {
            var values = QueryValues()
            do {
                for index in first..<(first + batch) {
                    try values.append(Array(queries.value(index)), type: queries.types[index])
                }
                try Message.query(QueryBatch(requestID: 1, fields: fields, values: values)).encode(into: &bytes)
            } catch {
                throw BenchFailure("encoding a QUERY: \(error)")
            }
            offsets.append(bytes.count)
        }
    }

    var count: Int { offsets.count - 1 }
}

/// A partner connection to the hub: mutual TLS 1.3 on a blocking socket, HELLO/WELCOME, then
/// pipelined QUERYs with increasing request ids; RESULTs are checked to come back in order.
final class HubConnection: PipelinedConnection {
    let fd: Int32
    let tls: TLSConnection
    let pool: HubRequestPool
    var decoder = FrameDecoder()
    var next: Int
    var nextID: UInt64 = 1
    var expectedID: UInt64 = 1
    var out: [UInt8] = []
    var readBuffer = [UInt8](repeating: 0, count: 1 << 16)
    var frames: [Frame] = []

    init(port: UInt16, context: TLSClientContext, pool: HubRequestPool, start: Int) throws(BenchFailure) {
        fd = try connectLoopback(port: port)
        self.pool = pool
        next = start % pool.count
        do {
            tls = try TLSConnection(client: context, socket: fd, serverName: "127.0.0.1")
            while try tls.handshake() != .complete {}
        } catch {
            Glibc.close(fd)
            throw BenchFailure("TLS handshake with the hub: \(error)")
        }
        do { try Message.hello(Hello(software: "e2ebench/1")).encode(into: &out) } catch {
            throw BenchFailure("HELLO: \(error)")
        }
        try write()
        while frames.isEmpty { try read() }
        let welcome: Message
        do { welcome = try Message(frame: frames.removeFirst()) } catch { throw BenchFailure("WELCOME: \(error)") }
        guard case .welcome(let hello) = welcome else { throw BenchFailure("the hub answered HELLO with \(welcome)") }
        guard Int(hello.maxBatchValues) >= pool.valuesPerBatch else {
            throw BenchFailure("the hub allows batches of \(hello.maxBatchValues), the benchmark sends \(pool.valuesPerBatch)")
        }
        decoder.maxPayloadBytes = WireFormat.maxPayloadBytes
    }

    func send(count: Int) throws(BenchFailure) {
        for _ in 0..<count {
            let start = out.count
            out.append(contentsOf: pool.bytes[pool.offsets[next]..<pool.offsets[next + 1]])
            withUnsafeBytes(of: nextID.littleEndian) { id in
                for index in 0..<8 { out[start + WireFormat.HeaderOffset.requestID + index] = id[index] }
            }
            nextID += 1
            next = next + 1 == pool.count ? 0 : next + 1
        }
        try write()
    }

    func receive() throws(BenchFailure) -> (answers: Int, checks: Int, hits: Int) {
        while frames.isEmpty { try read() }
        var answers = 0
        var checks = 0
        var hits = 0
        for frame in frames {
            let message: Message
            do { message = try Message(frame: frame) } catch { throw BenchFailure("a frame from the hub: \(error)") }
            switch message {
            case .result(let result):
                guard result.requestID == expectedID else {
                    throw BenchFailure("RESULT \(result.requestID) arrived where \(expectedID) was expected")
                }
                expectedID += 1
                answers += 1
                for entry in result.entries {
                    checks += 1
                    switch entry {
                    case .hit: hits += 1
                    case .miss: break
                    case .refused(let refusal): throw BenchFailure("the hub refused a benchmark value: \(refusal)")
                    }
                }
            case .ping(let ping):
                do { try Message.pong(Pong(answering: ping)).encode(into: &out) } catch { throw BenchFailure("\(error)") }
                try write()
            case .error(let error):
                throw BenchFailure("the hub refused request \(error.requestID): \(error.code): \(error.reason)")
            default:
                throw BenchFailure("unexpected \(message.type) from the hub")
            }
        }
        frames.removeAll(keepingCapacity: true)
        return (answers, checks, hits)
    }

    private func write() throws(BenchFailure) {
        var done = 0
        while done < out.count {
            let result: TLSConnection.Transfer
            do {
                result = try out.withUnsafeBytes { (raw) throws(TLSError) in
                    try tls.write(UnsafeRawBufferPointer(rebasing: raw[done...]))
                }
            } catch {
                throw BenchFailure("writing to the hub: \(error)")
            }
            switch result {
            case .bytes(let count): done += count
            case .wantRead, .wantWrite: continue
            case .closed: throw BenchFailure("the hub closed the connection")
            }
        }
        out.removeAll(keepingCapacity: true)
    }

    private func read() throws(BenchFailure) {
        let result: TLSConnection.Transfer
        do {
            result = try readBuffer.withUnsafeMutableBytes { (raw) throws(TLSError) in try tls.read(into: raw) }
        } catch {
            throw BenchFailure("reading from the hub: \(error)")
        }
        switch result {
        case .bytes(let count):
            do {
                try readBuffer.withUnsafeBufferPointer { (all) throws(WireError) in
                    try decoder.feed(UnsafeBufferPointer(rebasing: all[0..<count]), into: &frames)
                }
            } catch {
                throw BenchFailure("a malformed frame from the hub: \(error)")
            }
        case .wantRead, .wantWrite: return
        case .closed: throw BenchFailure("the hub closed the connection")
        }
    }

    func close() {
        _ = try? tls.shutdown()
        Glibc.close(fd)
    }
}
