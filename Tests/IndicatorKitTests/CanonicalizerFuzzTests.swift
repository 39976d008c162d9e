import Foundation
import Testing
import IndicatorKit

/// Mutation fuzzing of every canonicaliser: valid seeds of each type, mutated byte by byte
/// (flips, insertions, deletions, splices, hostile bytes), through `Canonicalizer` with the
/// seed's type and with detection. Properties: no crash; an accepted value's canonical text
/// canonicalises to the same bytes and type (idempotence); output stays within the limits.
///
/// `make test` runs a short version; `make fuzz` sets IHUB_FUZZ_ITERATIONS to millions.
@Suite struct CanonicalizerFuzzTests {
    static let seeds: [(String, IndicatorType)] = [
        ("192.0.2.44", .ipv4), ("10.0.0.0/8", .ipv4), ("2001:db8::bad:1", .ipv6), ("::ffff:192.0.2.1", .ipv6),
        ("2001:db8::/32", .ipv6), ("phish-login.example", .domain), ("*.Bücher.de", .domain),
        ("xn--bcher-kva.example", .domain), ("HTTP://Evil.Example:80/a/../b/./c?x=1#frag", .url),
        ("http://[2001:db8::1]/%41%2541", .url), ("http://0x7f.1/", .url), ("mailto:Refunds@Scam-Mail.example", .email),
        ("DE89 3704 0044 0532 0130 00", .iban), ("+44 (0)20 7946 0999", .phone),
        ("1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2", .wallet), ("bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4", .wallet),
        ("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed", .wallet), ("44d88612fea8a8f36de82e1278abb02f", .md5),
        ("da39a3ee5e6b4b0d3255bfef95601890afd80709", .sha1),
        ("275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f", .sha256),
        (String(repeating: "ab", count: 64), .sha512), ("telegram:@Fake_Support", .handle),
    ]

    static let hostile: [[UInt8]] = [
        [0x00], [0xFF], [0xC0, 0xAF], [0xED, 0xA0, 0x80], [0xE2, 0x80, 0xAE], [0xEF, 0xBC, 0x8E], [0x25],
        [0x25, 0x32], [0x2E, 0x2E], [0x2F, 0x2F], [0x5B], [0x5D], [0x3A, 0x3A], [0x40], [0x2A, 0x2E], [0x78, 0x6E, 0x2D, 0x2D],
        Array("%%%".utf8), Array("\u{200D}".utf8), Array("ß".utf8), Array("\u{0663}".utf8),
    ]

    static var iterations: Int {
        ProcessInfo.processInfo.environment["IHUB_FUZZ_ITERATIONS"].flatMap(Int.init) ?? 30_000
    }

    @Test func mutatedSeedsKeepTheCanonicalFormProperties() throws {
        var random = SplitMix64(seed: ProcessInfo.processInfo.environment["IHUB_FUZZ_SEED"].flatMap(UInt64.init) ?? 0x1DC0FFEE)
        var accepted = 0
        for round in 0..<Self.iterations {
            let (seed, type) = Self.seeds[round % Self.seeds.count]
            var bytes = Array(seed.utf8)
            for _ in 0..<(1 + Int(random.next() % 3)) { mutate(&bytes, &random) }
            for candidate in [type, nil] as [IndicatorType?] {
                guard case .success(let (form, canonical)) = canonicalize(bytes, as: candidate) else { continue }
                accepted += 1
                #expect(canonical.count <= Canonicalizer.scratchBytes)
                let text = Canonicalizer.display(form, bytes: canonical)
                let again = canonicalize(Array(text.utf8), as: form.type)
                guard case .success(let (form2, canonical2)) = again else {
                    Issue.record("\(String(decoding: bytes, as: UTF8.self).debugDescription) → \(text.debugDescription) is not accepted again: \(again)")
                    continue
                }
                #expect(canonical2 == canonical, "\(text.debugDescription) is not a fixed point")
                #expect(form2.type == form.type && form2.prefixLength == form.prefixLength)
            }
        }
        // The property checks above must actually run on accepted values.
        #expect(accepted > Self.iterations / 10)
    }

    func canonicalize(_ bytes: [UInt8], as type: IndicatorType?) -> Result<(CanonicalForm, [UInt8]), IndicatorError> {
        do {
            var copy = bytes
            let result = try copy.withUnsafeMutableBufferPointer { (raw) throws(IndicatorError) in
                try Canonicalizer.withScratch { (out: inout ByteWriter) throws(IndicatorError) in
                    let form = try Canonicalizer.canonicalize(UnsafeBufferPointer(raw), as: type, into: &out)
                    return (form, Array(out.written))
                }
            }
            return .success(result)
        } catch {
            return .failure(error)
        }
    }

    func mutate(_ bytes: inout [UInt8], _ random: inout SplitMix64) {
        let position = bytes.isEmpty ? 0 : Int(random.next() % UInt64(bytes.count))
        switch random.next() % 6 {
        case 0 where !bytes.isEmpty: bytes[position] ^= UInt8(1 << (random.next() % 8))
        case 1: bytes.insert(UInt8(truncatingIfNeeded: random.next()), at: position)
        case 2 where !bytes.isEmpty: bytes.remove(at: position)
        case 3:
            let piece = Self.hostile[Int(random.next() % UInt64(Self.hostile.count))]
            bytes.insert(contentsOf: piece, at: position)
        case 4 where !bytes.isEmpty:
            // Duplicate a slice (repeated labels, paths, octets).
            let end = min(bytes.count, position + 1 + Int(random.next() % 8))
            bytes.insert(contentsOf: bytes[position..<end], at: position)
        default:
            let ascii = Array("./:@%[]-_*xX0129aZ ".utf8)
            if !bytes.isEmpty { bytes[position] = ascii[Int(random.next() % UInt64(ascii.count))] }
        }
    }
}


/// Inputs the fuzzer found, kept as regression tests.
@Suite struct CanonicalizerFuzzFindings {
    @Test func bracketLeftInAHostNameIsRefused() {
        let result = TypeTestSupport.canonical("http://..[://[2001:db8::1]/%41%2541", as: .url)
        #expect(result == .failure(.invalid(.url, reason: "host '[' contains '[' or ']' outside an IPv6 literal")))
    }
}
