import Testing
@testable import HubWire
import IndicatorKit

/// `QueryBatch(frame:maxBatchValues:fieldCache:)` must decode exactly what `Message(frame:)`
/// decodes, batch after batch on one connection, and refuse exactly what it refuses.
@Suite struct QueryFieldCacheTests {
    /// Decodes `frames` in order with one cache; each result next to the cache-free parser's.
    func both(_ frames: [Frame]) -> [(cached: Result<QueryBatch, WireError>, plain: Result<QueryBatch, WireError>)] {
        var cache = QueryFieldCache()
        return frames.map { frame in
            let cached = Result { () throws(WireError) in
                try QueryBatch(frame: frame, maxBatchValues: WireFormat.maxBatchValues, fieldCache: &cache)
            }
            let plain = parse(frame).map { message -> QueryBatch in
                guard case .query(let batch) = message else { preconditionFailure("not a query") }
                return batch
            }
            return (cached, plain)
        }
    }

    @Test func repeatedAndChangedFieldsDecodeAsWithoutTheCache() throws {
        var query = RawQuery()
        var frames = [query.frame(requestID: 1), query.frame(requestID: 2)]
        query.reference = Array("TX-2".utf8)
        query.priority = 2
        frames.append(query.frame(requestID: 3))
        query.purpose = Array("fraud-prevention".utf8)
        frames.append(query.frame(requestID: 4))
        query.purpose = Array("payment-screening".utf8)
        frames.append(query.frame(requestID: 5))
        let results = both(frames)
        for (cached, plain) in results {
            #expect(try cached.get() == plain.get())
        }
        #expect(try results[2].cached.get().fields.reference == "TX-2")
        #expect(try results[2].cached.get().fields.priority == .critical)
        #expect(try results[3].cached.get().fields.purpose == "fraud-prevention")
        #expect(try results[4].cached.get().fields.purpose == "payment-screening")
    }

    @Test func aBadFieldAfterGoodOnesIsRefusedWithTheSameError() {
        var query = RawQuery()
        let good = query.frame(requestID: 1)
        query.timeZone = Array("Europe/Berlin\u{7}".utf8)  // a control character
        let badZone = query.frame(requestID: 2)
        query.timeZone = Array("Europe/Berlin".utf8)
        query.legalBasis = []  // missing
        let missing = query.frame(requestID: 3)
        query.legalBasis = [0xC0, 0x80]  // overlong encoding
        query.reference = [0xFF]
        let badBoth = query.frame(requestID: 4)
        let results = both([good, badZone, good, missing, badBoth, good])
        for (cached, plain) in results {
            switch (cached, plain) {
            case (.success(let a), .success(let b)): #expect(a == b)
            case (.failure(let a), .failure(let b)): #expect(a == b)
            default: Issue.record("cached \(cached) but plain \(plain)")
            }
        }
        #expect(throws: WireError.self) { try results[1].cached.get() }
        #expect(throws: WireError.self) { try results[3].cached.get() }
        if case .failure(let error) = results[4].cached {
            // Legal basis comes before reference in the document's order.
            #expect(error == .invalidField(.legalBasis, TextRules.fault(in: [0xC0, 0x80] as [UInt8])!))
        } else {
            Issue.record("a malformed legal basis was accepted")
        }
        #expect((try? results[5].cached.get()) != nil)
    }
}
