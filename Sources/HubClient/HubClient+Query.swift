import HubWire
public import IndicatorKit

extension HubClient {
    /// Asks the hub about `values` and returns one `Answer` per value, in the same order.
    ///
    /// The values are cut into batches of at most `batchSize` (default and ceiling: the hub's
    /// `welcome.maxBatchValues`; also kept under its `maxPayloadBytes`), and the batches are
    /// pipelined: up to `welcome.maxInFlight` are in flight at once, results are read while
    /// later batches are written, and each result is matched to its batch by request id, so
    /// the hub may answer in any order. A batch the hub refuses answers its values with
    /// `.batchRefused`; the other batches are unaffected.
    ///
    /// - Parameters:
    ///   - type: the values' indicator type; nil lets the hub detect each value's type.
    ///   - fields: purpose, legal basis, reference, priority and time zone, sent with every
    ///     batch; checked here first (`invalidUse` names the field), as the hub would.
    /// Values longer than `WireFormat.maxValueBytes` are answered `.refused(.tooLong)` here,
    /// exactly as the hub would, without being sent.
    public func query(values: [String], type: IndicatorType? = nil, fields: RequestFields,
                      batchSize: Int? = nil) throws(ClientError) -> [Answer] {
        do { try fields.validate() } catch { throw .invalidUse("request fields: \(error.description)") }
        if let batchSize, batchSize < 1 { throw .invalidUse("batch size must be at least 1 (got \(batchSize))") }
        let transport = try open()
        var planner = BatchPlanner(values: values, type: type, fields: fields, welcome: welcome, batchSize: batchSize)
        let maxInFlight = Int(welcome.maxInFlight)
        var pending: [UInt64: [Int]] = [:]
        while true {
            // Keep the pipe full, but do not buffer more than about 1 MiB of unsent queries.
            while pending.count < maxInFlight && transport.pendingBytes < 1 << 20,
                  let batch = planner.next() {
                let query = QueryBatch(requestID: nextRequestID, fields: fields, values: batch.values)
                nextRequestID += 1
                do { try session.send(query) } catch { throw .protocolViolation(error) }
                try transport.queue(.query(query))
                pending[query.requestID] = batch.indices
            }
            if pending.isEmpty { break }
            for message in try nextMessages(transport, deadline: Deadline(seconds: options.ioTimeout),
                                            operation: "\(pending.count) batch result\(pending.count == 1 ? "" : "s")") {
                switch message {
                case .result(let result):
                    guard let indices = pending.removeValue(forKey: result.requestID) else { continue }
                    for (index, entry) in zip(indices, result.entries) { planner.answers[index] = Answer(entry) }
                case .error(let error):
                    guard let indices = pending.removeValue(forKey: error.requestID) else { continue }
                    for index in indices { planner.answers[index] = .batchRefused(code: error.code, reason: error.reason) }
                default:
                    continue
                }
            }
        }
        return planner.answers.map { $0 ?? .batchRefused(code: .internalError, reason: "no answer") }
    }
}

extension Answer {
    init(_ entry: ResultEntry) {
        switch entry {
        case .miss: self = .miss
        case .hit(let fields): self = .hit(fields)
        case .refused(let refusal): self = .refused(refusal)
        }
    }
}

/// Cuts the values into batches lazily, so a million values never sit encoded in memory at
/// once: each batch has at most `limit` values and its QUERY payload stays within the hub's
/// max payload. Values too long for the protocol are answered on the spot.
struct BatchPlanner {
    /// QUERY layout sizes (docs/PROTOCOL.md, "QUERY"): the fixed part, and a value's type
    /// and length bytes.
    static let queryFixedBytes = 16
    static let valueHeaderBytes = 3

    let values: [String]
    let type: IndicatorType?
    let limit: Int
    let maxPayload: Int
    let fixedBytes: Int
    var position = 0
    var answers: [Answer?]

    init(values: [String], type: IndicatorType?, fields: RequestFields, welcome: Welcome, batchSize: Int?) {
        self.values = values
        self.type = type
        limit = max(1, min(batchSize ?? Int(welcome.maxBatchValues), Int(welcome.maxBatchValues)))
        maxPayload = Int(welcome.maxPayloadBytes)
        fixedBytes = BatchPlanner.queryFixedBytes + fields.purpose.utf8.count + fields.legalBasis.utf8.count
            + fields.reference.utf8.count + fields.timeZone.utf8.count
        answers = Array(repeating: nil, count: values.count)
    }

    /// The next batch and the input index of each of its values; nil when all are planned.
    mutating func next() -> (values: QueryValues, indices: [Int])? {
        var batch = QueryValues()
        var indices: [Int] = []
        var bytes = fixedBytes
        while position < values.count && batch.count < limit {
            let length = values[position].utf8.count
            if length > WireFormat.maxValueBytes {
                answers[position] = .refused(.tooLong)
                position += 1
                continue
            }
            let cost = BatchPlanner.valueHeaderBytes + length
            if !batch.isEmpty && bytes + cost > maxPayload { break }
            // Cannot throw: the length is within the u16 width.
            try? batch.append(values[position], type: type)
            indices.append(position)
            bytes += cost
            position += 1
        }
        return batch.isEmpty ? nil : (batch, indices)
    }
}
