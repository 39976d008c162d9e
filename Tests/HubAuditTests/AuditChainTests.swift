import Testing
@testable import HubAudit
import IndicatorKit

@Suite struct AuditChainTests {
    static func record(_ index: Int, decision: AuditRecord.Decision = .accepted) -> AuditRecord {
        AuditRecord(
            timeMicros: 1_795_000_000_000_000 + UInt64(index) * 1_000, partner: "bank-a",
            certificateSHA256: [UInt8](repeating: UInt8(index & 0xFF), count: 32), requestID: UInt64(index),
            fields: RequestFields(purpose: "payment-screening", legalBasis: "gdpr-6-1-f", reference: "TX-\(index)",
                                  priority: .urgent, timeZone: "Europe/Berlin"),
            valueCount: 3, countsByType: [.iban: 2, .email: 1], refusedValues: ["invalid_value": 1],
            hitDigests: decision == .accepted ? [IndicatorDigest(lo: 0x0102030405060708, hi: 0x1112131415161718)] : [],
            decision: decision, code: decision == .refused ? "purpose_not_allowed" : "", policyVersion: 7,
            latencyMicros: 42)
    }

    static func chain(_ count: Int) -> [[UInt8]] {
        var head = AuditChain.Head.genesis
        var lines: [[UInt8]] = []
        for index in 1...count {
            let sealed = AuditChain.seal(record(index, decision: index % 3 == 0 ? .refused : .accepted), after: head)
            lines.append(sealed.line)
            head = sealed.head
        }
        return lines
    }

    @Test func goldenLine() {
        let line = String(decoding: AuditChain.seal(Self.record(1), after: .genesis).line, as: UTF8.self)
        let expectedBody = #"{"seq":1,"time":"2026-11-18T11:06:40.001000Z","kind":"query","partner":"bank-a","cert":"0101010101010101010101010101010101010101010101010101010101010101","request_id":1,"purpose":"payment-screening","legal_basis":"gdpr-6-1-f","reference":"TX-1","priority":"urgent","time_zone":"Europe/Berlin","values":3,"counts":{"email":1,"iban":2},"refused_values":{"invalid_value":1},"hits":1,"hit_digests":["08070605040302011817161514131211"],"decision":"accepted","code":"","policy_version":7,"latency_us":42,"recovered_bytes":0,"prev":"0000000000000000000000000000000000000000000000000000000000000000""#
        #expect(line.hasPrefix(expectedBody + #","hash":""#))
        #expect(line.hasSuffix("\"}\n"))
        #expect(line.utf8.count == expectedBody.utf8.count + 9 + 64 + 2 + 1)
    }

    @Test func aChainVerifiesAndEveryAlterationIsCaught() throws {
        let lines = Self.chain(6)
        let bytes = lines.flatMap { $0 }
        let head = try AuditChain.verify(segment: bytes, file: "000001.log", after: .genesis)
        #expect(head.seq == 6)

        // Flip every byte of record 4 in turn (except its LF): always caught at line 4 or earlier.
        let start = lines[0..<3].reduce(0) { $0 + $1.count }
        for offset in 0..<(lines[3].count - 1) {
            var altered = bytes
            altered[start + offset] ^= 0x01
            #expect(throws: AuditChain.Break.self) {
                try AuditChain.verify(segment: altered, file: "000001.log", after: .genesis)
            }
        }
    }

    @Test func removedReorderedAndTornRecordsAreNamed() throws {
        let lines = Self.chain(4)
        func verify(_ parts: [[UInt8]]) -> AuditChain.Break? {
            do {
                _ = try AuditChain.verify(segment: parts.flatMap { $0 }, file: "000001.log", after: .genesis)
                return nil
            } catch {
                return error
            }
        }
        #expect(verify([lines[0], lines[2], lines[3]])?.line == 2)
        #expect(verify([lines[0], lines[2], lines[3]])?.reason.contains("\"seq\" is not 2") == true)
        #expect(verify([lines[1], lines[0]])?.line == 1)
        var torn = lines
        torn[3].removeLast(10)
        #expect(verify(torn)?.reason.hasPrefix("last line has no LF") == true)
        #expect(verify(torn)?.line == 4)
        #expect(verify(lines) == nil)
    }

    @Test func aForgedRecordWithAFreshHashBreaksAtPrev() throws {
        var lines = Self.chain(3)
        // Re-seal record 2 with different content after a made-up head: hash valid, prev wrong.
        var forged = Self.record(2)
        forged.fields.reference = "FORGED"
        lines[1] = AuditChain.seal(forged, after: AuditChain.Head(seq: 1, hash: String(repeating: "a", count: 64))).line
        #expect(throws: AuditChain.Break(file: "s", line: 2, reason: "\"prev\" does not match the previous record's hash: the chain is broken here")) {
            try AuditChain.verify(segment: lines.flatMap { $0 }, file: "s", after: .genesis)
        }
    }

    @Test func controlCharactersAndQuotesAreEscaped() throws {
        var record = Self.record(1)
        record.fields.reference = "a\"b\\c\u{01}\n,\"prev\":\"x"
        let line = AuditChain.seal(record, after: .genesis).line
        let text = String(decoding: line, as: UTF8.self)
        #expect(text.contains(#""reference":"a\"b\\c\u0001\u000a,\"prev\":\"x""#))
        #expect(line.filter { $0 == 0x0A }.count == 1)
        _ = try AuditChain.verify(segment: line, file: "s", after: .genesis)
    }

    /// The body is written into memory sized by `bodyBound` up front: a record whose every
    /// string needs the longest escapes, with the largest counts, must still fit (a wrong
    /// bound traps) and seal into a verifiable line.
    @Test func theWorstCaseRecordFitsItsBound() throws {
        var record = Self.record(1)
        let controls = String(repeating: "\u{01}", count: 256)
        record.partner = controls
        record.fields = RequestFields(purpose: controls, legalBasis: controls, reference: controls,
                                      priority: .critical, timeZone: controls)
        record.code = controls
        record.requestID = .max
        record.valueCount = .max
        record.latencyMicros = .max
        record.policyVersion = .max
        record.unknownTypeCount = .max
        for type in IndicatorType.allCases { record.countsByType[type] = .max }
        for index in 0..<20 { record.refusedValues[controls + String(index)] = .max }
        record.hitDigests = (0..<100).map { IndicatorDigest(lo: UInt64($0), hi: .max) }
        var buffer: [UInt8] = []
        let body = record.body(seq: .max, prev: AuditFormat.genesis, recoveredBytes: .max)
        #expect(body.count <= record.bodyBound(prevHex: 64))
        #expect(body.count > 256 * 6 * 6)
        var prev = Array(AuditFormat.genesis.utf8)
        AuditChain.seal(record, seq: 1, prevHex: &prev, recoveredBytes: 0, appendingTo: &buffer)
        _ = try AuditChain.verify(segment: buffer, file: "s", after: .genesis)
    }

    @Test func segmentNames() {
        #expect(AuditFormat.segmentName(42) == "000042.log")
        #expect(AuditFormat.segmentNumber("000042.log") == 42)
        #expect(AuditFormat.segmentNumber("42.log") == nil)
        #expect(AuditFormat.segmentNumber("00004x.log") == nil)
    }
}
