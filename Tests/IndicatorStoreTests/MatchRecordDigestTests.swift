import IndicatorKit
import Testing
@testable import IndicatorStore

/// `MatchRecord.digest`: the digest of the entry that matched (what the audit trail records
/// for a hit), which is the covering network's when a CIDR range matched, not the address's.
@Suite struct MatchRecordDigestTests {
    @Test func aHitCarriesTheDigestOfTheMatchingEntry() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let matcher = try Matcher(snapshot: MatcherTests.makeStore(directory), key: testKey)
        let values = ["198.51.100.7", "10.200.0.1", "11.0.0.1", "not an address"].map { Array($0.utf8) }
        var records = [MatchRecord](repeating: .refused, count: values.count)
        let storage = values.map { bytes -> UnsafeMutableBufferPointer<UInt8> in
            let buffer = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: bytes.count)
            _ = buffer.initialize(from: bytes)
            return buffer
        }
        defer { storage.forEach { $0.deallocate() } }
        let buffers = storage.map { UnsafeBufferPointer($0) }
        let types = [IndicatorType?](repeating: .ipv4, count: values.count)
        buffers.withUnsafeBufferPointer { buffers in
            types.withUnsafeBufferPointer { types in
                records.withUnsafeMutableBufferPointer { records in
                    matcher.match(buffers, types: types, now: 1000, into: records)
                }
            }
        }
        #expect(records[0].digest == digest(.ipv4, MatcherTests.v4Address))
        #expect(records[1].digest == digest(.ipv4, MatcherTests.v4Network8))
        #expect(records[1].digest != digest(.ipv4, [10, 200, 0, 1]))
        #expect(records[2].status == .miss && records[2].digest == nil)
        #expect(records[3].status == .refused && records[3].digest == nil)
    }
}
