import Foundation
import Testing
@testable import HubWire
import IndicatorKit

/// Random and mutated frames through the frame decoder and the message parser. Properties: no
/// crash; every error is a `WireError` with a code; every accepted frame re-encodes to exactly
/// the bytes it came from (the parser keeps everything and accepts one spelling per message).
///
/// IHUB_FUZZ_ITERATIONS sets the number of frames (default 1,000,000; `make fuzz` runs more),
/// IHUB_FUZZ_SEED the generator's seed.
@Suite struct WireFuzzTests {
    static var iterations: Int {
        ProcessInfo.processInfo.environment["IHUB_FUZZ_ITERATIONS"].flatMap(Int.init) ?? 1_000_000
    }

    static var seed: UInt64 {
        ProcessInfo.processInfo.environment["IHUB_FUZZ_SEED"].flatMap(UInt64.init) ?? 0x1DC0_FFEE
    }

    /// Valid frames of every type to mutate: the document's examples and small variants.
    static func seeds() throws -> [[UInt8]] {
        var seeds = try documentExamples()
        var values = QueryValues()
        try values.append("evil.example", type: .domain)
        try values.append("", type: nil)
        try values.append([0xF0, 0x9F, 0x9A, 0xA8], type: .handle)
        let messages: [Message] = [
            .query(QueryBatch(requestID: 1, fields: sampleFields, values: values)),
            .result(QueryResult(requestID: .max, entries: ResultEntries([
                .miss, .refused(.tooLong), .hit(RevealedFields(confidence: 3)),
                .hit(RevealedFields(category: .spam, expires: 5, action: .monitor)), .hit(.none),
            ]))),
            .error(ErrorMessage(code: .idleTimeout, reason: "idle for 300 s")),
            .pong(Pong(opaque: 42)),
            .hello(Hello(minVersion: 1, maxVersion: 3, software: "ISP-Prüfer 2.0")),
        ] + (try smallFeedMessages())
        for message in messages { seeds.append(try message.encoded()) }
        return seeds
    }

    /// Version 2 seeds kept small (a mutation copies its seed: big seeds slow every iteration).
    static func smallFeedMessages() throws -> [Message] {
        var chunk = UploadRecords(requestID: 5, firstIndex: 3)
        try chunk.append("evil.example", type: .domain,
                         fields: UploadFields(category: .phishing, confidence: 100, tlp: .red, action: .monitor,
                                              firstSeenDay: 20_000, lastSeenDay: 20_001, expires: 7))
        try chunk.append("", type: nil)
        var values = QueryValues()
        try values.append("x", type: .email)
        return [
            .uploadBegin(UploadBegin(requestID: 5, uploadID: sampleUploadID, recordCount: 2, format: .misp,
                                     flags: [.defanged, .strict], legalBasis: "l", reference: "r")),
            .uploadRecords(chunk),
            .uploadCommit(UploadCommit(requestID: 5, recordCount: 2)),
            .uploadResult(UploadResult(requestID: 5, uploadID: sampleUploadID, uploadNumber: 3, alreadyApplied: false,
                                       accepted: 1, duplicates: 0, rejected: 2,
                                       rejections: [Rejection(index: 0, reason: .expired), Rejection(index: 2, reason: .empty)])),
            .withdraw(WithdrawRequest(requestID: 8, reference: "t", target: .values(values))),
            .withdraw(WithdrawRequest(requestID: 9, target: .upload(sampleUploadID))),
            .withdrawResult(WithdrawResult(requestID: 8, withdrawn: 0, notFound: 1,
                                           refusals: [Rejection(index: 1, reason: .unrecognised)])),
        ]
    }

    @Test func randomAndMutatedFramesNeverCrashAndAcceptedOnesReencodeExactly() throws {
        let seeds = try Self.seeds()
        var random = SplitMix64(seed: Self.seed)
        var decoded = 0
        var accepted = 0
        var acceptedTypes = Set<MessageType>()
        var errorCodes = Set<UInt16>()
        let clock = ContinuousClock()
        let start = clock.now
        for _ in 0..<Self.iterations {
            var bytes: [UInt8]
            if random.next() % 8 == 0 {
                bytes = (0..<Int(random.next() % 48)).map { _ in UInt8(truncatingIfNeeded: random.next()) }
                if bytes.count > 4 && random.next() % 2 == 0 {
                    // Plausible header: a small length and a known type.
                    bytes[0] = UInt8(bytes.count - min(bytes.count, 16)); bytes[1] = 0; bytes[2] = 0; bytes[3] = 0
                    if bytes.count > 4 { bytes[4] = MessageType.allCases[Int(random.next() % UInt64(MessageType.allCases.count))].rawValue }
                }
            } else {
                bytes = seeds[Int(random.next() % UInt64(seeds.count))]
                for _ in 0..<(1 + Int(random.next() % 3)) { Self.mutate(&bytes, &random) }
                if bytes.count >= 16 && random.next() % 4 != 0 {
                    // Keep the length consistent so the mutation reaches the payload parser.
                    let length = UInt32(bytes.count - 16)
                    for k in 0..<4 { bytes[k] = UInt8(truncatingIfNeeded: length >> (8 * UInt32(k))) }
                }
            }
            let limit = random.next() % 16 == 0 ? WireFormat.handshakePayloadLimit : WireFormat.maxPayloadBytes
            var decoder = FrameDecoder(maxPayloadBytes: limit)
            // Mostly version 2 (every type reaches its parser), sometimes version 1.
            decoder.version = random.next() % 8 == 0 ? 1 : WireFormat.maxVersion
            var frames: [Frame] = []
            do throws(WireError) {
                if bytes.count > 1 && random.next() % 4 == 0 {
                    let cut = Int(random.next() % UInt64(bytes.count))
                    frames = try decoder.feed(Array(bytes[..<cut]))
                    frames += try decoder.feed(Array(bytes[cut...]))
                } else {
                    frames = try decoder.feed(bytes)
                }
                try decoder.finish()
            } catch {
                errorCodes.insert(error.code.rawValue)
                if !error.closesConnection { Issue.record("a decoder error must be connection-level: \(error)") }
            }
            for frame in frames {
                decoded += 1
                do throws(WireError) {
                    let message = try Message(frame: frame)
                    accepted += 1
                    acceptedTypes.insert(message.type)
                    let again = try message.encoded()
                    if again != frame.bytes {
                        Issue.record("\(frame.bytes) re-encodes as \(again)")
                    }
                } catch {
                    errorCodes.insert(error.code.rawValue)
                    // Reasons are built for a sample (string building dominates a debug run).
                    if decoded % 64 == 0 && error.description.isEmpty { Issue.record("\(error) has no reason") }
                }
            }
        }
        let elapsed = clock.now - start
        print("wire fuzz: \(Self.iterations) inputs, \(decoded) frames decoded, \(accepted) accepted, "
              + "\(errorCodes.count) distinct error codes, \(elapsed)")
        // The fuzzer must reach deep: many frames parse, of every type, and many errors occur.
        #expect(decoded > Self.iterations / 2)
        #expect(accepted > Self.iterations / 20)
        #expect(acceptedTypes == Set(MessageType.allCases))
        #expect(errorCodes.count >= 10)
    }

    static func mutate(_ bytes: inout [UInt8], _ random: inout SplitMix64) {
        let interesting: [UInt8] = [0, 1, 2, 3, 13, 14, 0x1F, 0x7F, 0x80, 0xBF, 0xC0, 0xED, 0xF4, 0xFF, 100, 101]
        let position = bytes.isEmpty ? 0 : Int(random.next() % UInt64(bytes.count))
        switch random.next() % 7 {
        case 0 where !bytes.isEmpty: bytes[position] ^= UInt8(1) << (random.next() % 8)
        case 1 where !bytes.isEmpty: bytes[position] = interesting[Int(random.next() % UInt64(interesting.count))]
        case 2: bytes.insert(UInt8(truncatingIfNeeded: random.next()), at: position)
        case 3 where !bytes.isEmpty: bytes.remove(at: position)
        case 4: bytes.removeLast(min(bytes.count, Int(random.next() % 4)))
        case 5 where bytes.count > 4:
            let length = Int(random.next() % UInt64(min(8, bytes.count - position)))
            bytes.insert(contentsOf: bytes[position..<(position + length)], at: position)
        default:
            // A field-sized overwrite: a random u16 somewhere past the header.
            if bytes.count > 18 {
                let at = 16 + Int(random.next() % UInt64(bytes.count - 17))
                bytes[at] = UInt8(truncatingIfNeeded: random.next())
                bytes[at + 1] = UInt8(truncatingIfNeeded: random.next() % 3)
            }
        }
    }
}
