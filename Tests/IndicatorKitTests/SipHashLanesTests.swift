import Foundation
import Testing
@testable import IndicatorKit

/// The four-lane SipHash-2-4-128 kernel (`CHubSipHash`, AVX2 with a portable fallback) must
/// give libsodium's `crypto_shorthash_siphashx24` bit for bit: the published vectors, every
/// length 0…300 in every lane beside other lengths, every mix of word counts 1…6 over the four
/// lanes, and whole batches (sorted into groups by the kernel). Each check runs both the AVX2
/// code (when this CPU has it; else the request falls back to the portable code) and the
/// portable code.
@Suite("SipHash, four lanes")
struct SipHashLanesTests {
    typealias Generator = IDNATestSupport.Generator

    /// (k0, k1) of 16 key bytes.
    static func halves(_ key: [UInt8]) -> (UInt64, UInt64) {
        key.withUnsafeBytes {
            (UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self)),
             UInt64(littleEndian: $0.loadUnaligned(fromByteOffset: 8, as: UInt64.self)))
        }
    }

    /// libsodium's digest as (lo, hi).
    static func sodium(_ key: [UInt8], _ message: [UInt8]) -> (UInt64, UInt64) {
        let digest = SipHashTests.sodium(key, message).withUnsafeBytes { IndicatorDigest(bytes: $0.baseAddress!) }
        return (digest.lo, digest.hi)
    }

    static func words(_ message: [UInt8]) -> [UInt64] {
        message.withUnsafeBytes { SipHash.words($0.baseAddress, count: $0.count) }
    }

    /// The four lanes hashed together (AVX2 or portable), as given.
    static func lanes(_ key: [UInt8], _ messages: [[UInt8]], avx2: Bool) -> [(UInt64, UInt64)] {
        let (k0, k1) = halves(key)
        let words = messages.map { Self.words($0) }
        let storage = words.map { message -> UnsafeMutablePointer<UInt64> in
            let pointer = UnsafeMutablePointer<UInt64>.allocate(capacity: message.count)
            pointer.initialize(from: message, count: message.count)
            return pointer
        }
        defer { storage.forEach { $0.deallocate() } }
        return SipHashLanes.digest4(
            k0: k0, k1: k1, storage.map { UnsafePointer($0) }, counts: words.map { UInt32($0.count) }, avx2: avx2)
    }

    /// A batch through `SipHashLanes.digest`; nil messages are skipped (count 0) and must
    /// leave their digest slots alone.
    static func batch(_ key: [UInt8], _ messages: [[UInt8]?], avx2: Bool) -> [(UInt64, UInt64)] {
        let (k0, k1) = halves(key)
        var words = [UInt64]()
        var firsts = [UInt32]()
        var counts = [UInt32]()
        for message in messages {
            firsts.append(UInt32(words.count))
            guard let message else { counts.append(0); continue }
            let messageWords = Self.words(message)
            words += messageWords
            counts.append(UInt32(messageWords.count))
        }
        words.append(0)  // never empty
        var digests = [UInt64](repeating: 0x5EED, count: 2 * messages.count + 1)
        digests.withUnsafeMutableBufferPointer { out in
            SipHashLanes.digest(
                k0: k0, k1: k1, words: words, wordFirsts: firsts, wordCounts: counts, count: messages.count,
                avx2: avx2, into: out.baseAddress!)
        }
        return (0..<messages.count).map { (digests[2 * $0], digests[2 * $0 + 1]) }
    }

    static func equal(_ a: (UInt64, UInt64), _ b: (UInt64, UInt64)) -> Bool { a.0 == b.0 && a.1 == b.1 }

    @Test("the 64 published SipHash-2-4-128 vectors (reference vectors.h), scalar, four lanes and batch")
    func publishedVectors() throws {
        let text = String(decoding: try IDNATestSupport.fixture("siphash-2-4-128-vectors.tsv"), as: UTF8.self)
        var expected = [(length: Int, digest: (UInt64, UInt64))]()
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            let fields = line.split(separator: "\t")
            let hex = Array(fields[1].utf8)
            let bytes = (0..<16).map { UInt8(String(decoding: hex[2 * $0..<2 * $0 + 2], as: UTF8.self), radix: 16)! }
            let digest = bytes.withUnsafeBytes { IndicatorDigest(bytes: $0.baseAddress!) }
            expected.append((Int(fields[0])!, (digest.lo, digest.hi)))
        }
        try #require(expected.count == 64 && expected.enumerated().allSatisfy { $0.offset == $0.element.length })
        let key = [UInt8](0..<16)
        let (k0, k1) = Self.halves(key)
        let messages = (0..<64).map { [UInt8](0..<UInt8($0)) }
        for (length, digest) in expected {
            let scalar = messages[length].withUnsafeBytes {
                SipHash.hash128(k0: k0, k1: k1, $0.baseAddress ?? UnsafeRawPointer(bitPattern: 8)!, count: length)
            }
            #expect(Self.equal(scalar, digest), "scalar, length \(length)")
        }
        for avx2 in [true, false] {
            // Four consecutive lengths per group: lanes of 1, 2 or 3 different word counts.
            for first in 0..<64 {
                let group = (0..<4).map { (first + $0 * 3) % 64 }
                let got = Self.lanes(key, group.map { messages[$0] }, avx2: avx2)
                for lane in 0..<4 {
                    #expect(Self.equal(got[lane], expected[group[lane]].digest), "avx2 \(avx2), length \(group[lane])")
                }
            }
            let got = Self.batch(key, messages, avx2: avx2)
            for length in 0..<64 {
                #expect(Self.equal(got[length], expected[length].digest), "batch, avx2 \(avx2), length \(length)")
            }
        }
    }

    @Test("every length 0…300 in every lane, beside random lengths, equals libsodium")
    func everyLengthInEveryLane() {
        var generator = Generator(seed: 0x51F4)
        for length in 0...300 {
            let key = (0..<16).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
            for lane in 0..<4 {
                let messages = (0..<4).map { index -> [UInt8] in
                    let count = index == lane ? length : Int(generator.next() % 301)
                    return (0..<count).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
                }
                let expected = messages.map { Self.sodium(key, $0) }
                for avx2 in [true, false] {
                    let got = Self.lanes(key, messages, avx2: avx2)
                    for index in 0..<4 {
                        #expect(Self.equal(got[index], expected[index]),
                                "length \(messages[index].count) in lane \(index), avx2 \(avx2)")
                    }
                }
            }
        }
    }

    @Test("every combination of 1…6 words over the four lanes equals libsodium")
    func everyWordCountCombination() {
        var generator = Generator(seed: 0xC0B1)
        let key = (0..<16).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
        var checked = 0
        for combination in 0..<1296 {
            let wordCounts = (0..<4).map { lane in (combination / [1, 6, 36, 216][lane]) % 6 + 1 }
            let messages = wordCounts.map { words -> [UInt8] in
                let count = 8 * (words - 1) + Int(generator.next() % 8)
                return (0..<count).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
            }
            let expected = messages.map { Self.sodium(key, $0) }
            let got = Self.lanes(key, messages, avx2: true)
            for lane in 0..<4 {
                #expect(Self.equal(got[lane], expected[lane]), "word counts \(wordCounts), lane \(lane)")
                checked += 1
            }
        }
        #expect(checked == 5184)
    }

    @Test("batches of 0…80 messages, mostly short, some skipped, equal libsodium; skipped slots untouched")
    func batches() {
        var generator = Generator(seed: 0xBA7C)
        for round in 0..<200 {
            let key = (0..<16).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
            let count = Int(generator.next() % 81)
            let messages: [[UInt8]?] = (0..<count).map { _ in
                switch generator.next() % 8 {
                case 0: return nil
                case 1: return (0..<Int(generator.next() % 301)).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
                case 2, 3: return (0..<6).map { _ in UInt8(truncatingIfNeeded: generator.next()) }  // an address
                default: return (0..<(7 + Int(generator.next() % 34))).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
                }
            }
            for avx2 in [true, false] {
                let got = Self.batch(key, messages, avx2: avx2)
                for (index, message) in messages.enumerated() {
                    let want = message.map { Self.sodium(key, $0) } ?? (0x5EED, 0x5EED)
                    #expect(Self.equal(got[index], want), "round \(round), message \(index), avx2 \(avx2)")
                }
            }
        }
    }

    @Test("one-word messages (0…7 bytes) back to back, 0…40 of them, equal libsodium")
    func oneWordMessages() {
        var generator = Generator(seed: 0x0E1D)
        for count in 0...40 {
            let key = (0..<16).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
            let (k0, k1) = Self.halves(key)
            let messages = (0..<count).map { _ in
                (0..<Int(generator.next() % 8)).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
            }
            let finals = messages.map { Self.words($0)[0] } + [0]  // never empty
            for avx2 in [true, false] {
                var digests = [UInt64](repeating: 0x5EED, count: 2 * count + 2)
                digests.withUnsafeMutableBufferPointer { out in
                    SipHashLanes.digestFinals(k0: k0, k1: k1, finals: finals, count: count, avx2: avx2, into: out.baseAddress!)
                }
                for (index, message) in messages.enumerated() {
                    #expect(Self.equal((digests[2 * index], digests[2 * index + 1]), Self.sodium(key, message)),
                            "\(count) messages, message \(index), avx2 \(avx2)")
                }
                #expect(digests[2 * count] == 0x5EED && digests[2 * count + 1] == 0x5EED, "wrote past the end")
            }
        }
    }

    @Test("the AVX2 check agrees with /proc/cpuinfo (x86-64 Linux)")
    func avx2CheckMatchesCPUInfo() throws {
        #if arch(x86_64) && os(Linux)
        let info = String(decoding: try Data(contentsOf: URL(fileURLWithPath: "/proc/cpuinfo")), as: UTF8.self)
        let flags = info.split(separator: "\n").first { $0.hasPrefix("flags") } ?? ""
        let listed = flags.split(separator: " ").contains("avx2")
        #expect(SipHashLanes.avx2Available == listed)
        #else
        #expect(SipHashLanes.avx2Available == false)
        #endif
    }

    @Test("IHUB_SCALAR_SIPHASH forces the scalar kernel; unset, empty or 0 leaves the CPU's choice")
    func kernelChoice() {
        #expect(SipHashKernel.choose(scalarSetting: nil, avx2Available: true) == .avx2)
        #expect(SipHashKernel.choose(scalarSetting: "", avx2Available: true) == .avx2)
        #expect(SipHashKernel.choose(scalarSetting: "0", avx2Available: true) == .avx2)
        #expect(SipHashKernel.choose(scalarSetting: "1", avx2Available: true) == .scalar)
        #expect(SipHashKernel.choose(scalarSetting: "yes", avx2Available: true) == .scalar)
        #expect(SipHashKernel.choose(scalarSetting: nil, avx2Available: false) == .scalar)
    }
}
