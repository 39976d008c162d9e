import Foundation
import Testing
@testable import IndicatorKit

/// The batch kernels `chub_siphash128_words` and `chub_siphash128_final_words` (through
/// `SipHashLanes.digest` / `digestFinals`) against libsodium, aimed at how the AVX2 kernels
/// group messages: four in order per group, gathered from anywhere in the word array, lanes
/// of one length without masking and of mixed lengths with it, a last group of 1–3, skipped
/// (count-0) messages, and word arrays that are not 8-byte aligned. Slots the kernel must not
/// write (skipped messages, past the end) are checked to keep their fill value.
@Suite("SipHash batch kernels")
struct SipHashKernelTests {
    typealias Generator = IDNATestSupport.Generator
    static let fill: UInt64 = 0xF111_F111_F111_F111

    /// A random message of exactly `words` SipHash words (8(words − 1) … 8 words − 1 bytes).
    static func message(words: Int, _ generator: inout Generator) -> [UInt8] {
        let count = 8 * (words - 1) + Int(generator.next() % 8)
        return (0..<count).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
    }

    /// Runs the words kernel over `messages` (nil = skipped, count 0), their words stored in a
    /// shuffled order at byte offset `misalign` of the array; returns the digest slots, the
    /// trailing pair past the end included.
    static func words(
        _ key: [UInt8], _ messages: [[UInt8]?], misalign: Int, avx2: Bool, _ generator: inout Generator
    ) -> [UInt64] {
        let (k0, k1) = SipHashLanesTests.halves(key)
        let perMessage = messages.map { $0.map { SipHashLanesTests.words($0) } ?? [] }
        var order = Array(perMessage.indices)
        order.shuffle(using: &generator)
        var firsts = [UInt32](repeating: 0, count: messages.count)
        var flat = [UInt64]()
        for index in order {
            firsts[index] = UInt32(flat.count)
            flat += perMessage[index]
        }
        let counts = perMessage.map { UInt32($0.count) }
        var digests = [UInt64](repeating: fill, count: 2 * messages.count + 2)
        let raw = UnsafeMutableRawPointer.allocate(byteCount: 8 * flat.count + 16, alignment: 16)
        defer { raw.deallocate() }
        for (index, word) in flat.enumerated() {
            raw.storeBytes(of: word, toByteOffset: misalign + 8 * index, as: UInt64.self)
        }
        let words = UnsafePointer((raw + misalign).assumingMemoryBound(to: UInt64.self))
        digests.withUnsafeMutableBufferPointer { out in
            SipHashLanes.digest(
                k0: k0, k1: k1, words: words, wordFirsts: firsts, wordCounts: counts, count: messages.count,
                avx2: avx2, into: out.baseAddress!)
        }
        return digests
    }

    /// Checks `digests` against libsodium and the fill value of skipped and trailing slots.
    static func check(_ digests: [UInt64], _ key: [UInt8], _ messages: [[UInt8]?], _ label: String) {
        for (index, message) in messages.enumerated() {
            let want = message.map { SipHashLanesTests.sodium(key, $0) } ?? (fill, fill)
            #expect(digests[2 * index] == want.0 && digests[2 * index + 1] == want.1, "\(label), message \(index)")
        }
        #expect(digests.suffix(2).allSatisfy { $0 == fill }, "\(label): wrote past the end")
    }

    @Test("every word count 1…16, all lanes alike, 1…9 messages, aligned and not")
    func everyWordCount() {
        var generator = Generator(seed: 0x5D16)
        for wordCount in 1...16 {
            for count in 1...9 {
                let key = (0..<16).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
                let messages: [[UInt8]?] = (0..<count).map { _ in Self.message(words: wordCount, &generator) }
                for misalign in [0, 3] {
                    for avx2 in [true, false] {
                        let digests = Self.words(key, messages, misalign: misalign, avx2: avx2, &generator)
                        Self.check(digests, key, messages,
                                   "\(wordCount) words × \(count), misalign \(misalign), avx2 \(avx2)")
                    }
                }
            }
        }
    }

    @Test("mixed word counts 0…16 within groups of four (0 = skipped), 1…9 messages, aligned and not")
    func mixedWordCounts() {
        var generator = Generator(seed: 0x3A1D)
        for round in 0..<400 {
            let key = (0..<16).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
            let count = 1 + round % 9
            let messages: [[UInt8]?] = (0..<count).map { _ in
                let words = Int(generator.next() % 17)
                return words == 0 ? nil : Self.message(words: words, &generator)
            }
            let misalign = Int(generator.next() % 8)
            for avx2 in [true, false] {
                let digests = Self.words(key, messages, misalign: misalign, avx2: avx2, &generator)
                Self.check(digests, key, messages, "round \(round), misalign \(misalign), avx2 \(avx2)")
            }
        }
    }

    @Test("the bench's mix: 3–5 word names beside each other, whole groups and a short last one")
    func nameMix() {
        var generator = Generator(seed: 0x23B7)
        for count in [4, 5, 8, 13, 16, 32, 35] {
            let key = (0..<16).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
            let messages: [[UInt8]?] = (0..<count).map { _ in Self.message(words: 3 + Int(generator.next() % 3), &generator) }
            let digests = Self.words(key, messages, misalign: 0, avx2: true, &generator)
            Self.check(digests, key, messages, "\(count) names")
        }
    }

    @Test("one-word messages: 1…9 of them at every misalignment of the array")
    func finals() {
        var generator = Generator(seed: 0xF1A7)
        for count in 1...9 {
            for misalign in 0..<8 {
                let key = (0..<16).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
                let (k0, k1) = SipHashLanesTests.halves(key)
                let messages = (0..<count).map { _ in
                    (0..<Int(generator.next() % 8)).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
                }
                let raw = UnsafeMutableRawPointer.allocate(byteCount: 8 * count + 16, alignment: 16)
                defer { raw.deallocate() }
                for (index, message) in messages.enumerated() {
                    raw.storeBytes(of: SipHashLanesTests.words(message)[0], toByteOffset: misalign + 8 * index, as: UInt64.self)
                }
                let finals = UnsafePointer((raw + misalign).assumingMemoryBound(to: UInt64.self))
                for avx2 in [true, false] {
                    var digests = [UInt64](repeating: Self.fill, count: 2 * count + 2)
                    digests.withUnsafeMutableBufferPointer { out in
                        SipHashLanes.digestFinals(k0: k0, k1: k1, finals: finals, count: count, avx2: avx2, into: out.baseAddress!)
                    }
                    Self.check(digests, key, messages, "\(count) finals, misalign \(misalign), avx2 \(avx2)")
                }
            }
        }
    }
}
