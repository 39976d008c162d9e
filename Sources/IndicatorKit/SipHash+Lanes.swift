#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
internal import CHubSipHash

/// Message words kept for the four-lane SipHash kernel instead of being absorbed at once:
/// the scanner's `compress`/`finish` calls store consecutive words at `start`.
struct SipWords: SipAbsorber {
    let start: UnsafeMutablePointer<UInt64>
    var next: UnsafeMutablePointer<UInt64>

    @inline(__always)
    init(_ start: UnsafeMutablePointer<UInt64>) {
        self.start = start
        next = start
    }

    @inline(__always)
    mutating func compress(_ m: UInt64) {
        next.pointee = m
        next += 1
    }

    @inline(__always)
    mutating func finish(_ last: UInt64) -> (UInt64, UInt64) {
        compress(last)
        return (0, 0)
    }

    /// Words stored so far.
    @inline(__always)
    var count: Int { next - start }
}

/// Which SipHash code the batch digest (`DigestKey.canonicalDigestFast(_:types:range:into:)`)
/// runs. Both give the same digests, bit for bit (`SipHashLanesTests`, `FastBatchTests`).
package enum SipHashKernel: String, Sendable, CaseIterable {
    /// One value at a time, hashed in Swift in the same pass as its scan.
    case scalar
    /// The scan stores each value's message words; the C kernel (`CHubSipHash`) then hashes
    /// the batch four values at a time in AVX2 registers. Where the CPU has no AVX2 the same C
    /// entry point runs its portable one-at-a-time code (so tests can request this kernel
    /// anywhere), but `preferred` never picks it there.
    case avx2

    /// Environment variable that forces `.scalar` when set to anything but `0` or empty
    /// (MatcherBench `--scalar-siphash`; comparisons and debugging).
    package static let scalarVariable = "IHUB_SCALAR_SIPHASH"

    /// `.avx2` when the CPU has AVX2 (and the OS saves its registers) and `IHUB_SCALAR_SIPHASH`
    /// is not set, else `.scalar`. Read when a batch is created, not per value.
    package static var preferred: SipHashKernel {
        choose(scalarSetting: getenv(scalarVariable).map { String(cString: $0) }, avx2Available: SipHashLanes.avx2Available)
    }

    /// `preferred`'s rule, given the variable's value (nil: unset) and the CPU check.
    static func choose(scalarSetting: String?, avx2Available: Bool) -> SipHashKernel {
        if let setting = scalarSetting, !setting.isEmpty, setting != "0" { return .scalar }
        return avx2Available ? .avx2 : .scalar
    }
}

/// The C kernel's entry points (`CHubSipHash`; imported only here and, for the batch scan, in
/// DigestKey+BatchScan.swift).
enum SipHashLanes {
    /// Whether this CPU and OS can run the AVX2 kernel (CPUID and XGETBV, checked once).
    static var avx2Available: Bool { chub_siphash128_avx2_available() != 0 }

    /// SipHash-2-4-128 of `count` messages of pre-built words (`SipWords`): message `i` is
    /// `wordCounts[i]` words at `words + wordFirsts[i]` (0 = skip, its digest slots are left
    /// alone); its output words go to `digests[2i]`, `digests[2i + 1]`. With `avx2`, four at a
    /// time when the CPU allows, else one at a time in portable C.
    @inline(__always)
    static func digest(
        k0: UInt64, k1: UInt64, words: UnsafePointer<UInt64>, wordFirsts: UnsafePointer<UInt32>,
        wordCounts: UnsafePointer<UInt32>, count: Int, avx2: Bool, into digests: UnsafeMutablePointer<UInt64>
    ) {
        chub_siphash128_words(avx2 ? 1 : 0, k0, k1, words, wordFirsts, wordCounts, count, digests)
    }

    /// SipHash-2-4-128 of `count` one-word messages (each its final word: messages of 0–7
    /// bytes, such as an IPv4 address's `version ‖ type ‖ 4 bytes`) at `finals`, output words
    /// to `digests[2i]`, `digests[2i + 1]`: four per load, no sorting. `avx2` as in `digest`.
    @inline(__always)
    static func digestFinals(
        k0: UInt64, k1: UInt64, finals: UnsafePointer<UInt64>, count: Int, avx2: Bool,
        into digests: UnsafeMutablePointer<UInt64>
    ) {
        chub_siphash128_final_words(avx2 ? 1 : 0, k0, k1, finals, count, digests)
    }

    /// Four messages in the four lanes as given (lanes of unequal length, no sorting): for
    /// tests of the masking. `messages[i]` has `counts[i]` ≥ 1 words. Returns (lo, hi) per lane.
    static func digest4(
        k0: UInt64, k1: UInt64, _ messages: [UnsafePointer<UInt64>], counts: [UInt32], avx2: Bool
    ) -> [(UInt64, UInt64)] {
        precondition(messages.count == 4 && counts.count == 4 && counts.allSatisfy { $0 >= 1 })
        var out = [UInt64](repeating: 0, count: 8)
        let pointers: [UnsafePointer<UInt64>?] = messages.map { $0 }
        pointers.withUnsafeBufferPointer { m in
            counts.withUnsafeBufferPointer { c in
                out.withUnsafeMutableBufferPointer { o in
                    chub_siphash128_x4(avx2 ? 1 : 0, k0, k1, m.baseAddress!, c.baseAddress!, o.baseAddress!)
                }
            }
        }
        return (0..<4).map { (out[2 * $0], out[2 * $0 + 1]) }
    }
}

extension SipHashLanes {
    /// The vector IPv4 scanner (`chub_ipv4_scan_avx2`, CHubSipHash `ipv4.c`): the address when
    /// the `count` bytes at `p` are a strict dotted quad, else nil — the same answers as
    /// `Canonicalizer.fastIPv4` (tested in `VectorScannerTests`). Only where `avx2Available`.
    @inline(__always)
    static func scanIPv4(_ p: UnsafePointer<UInt8>, _ count: Int) -> UInt32? {
        let result = chub_ipv4_scan_avx2(p, count)
        return result &>> 32 != 0 ? UInt32(truncatingIfNeeded: result) : nil
    }

    /// The vector name scanner (`chub_name_scan_avx2`, CHubSipHash `name.c`) for names of
    /// 3–64 bytes: the number of message words stored at `words` (> 0), 0 when it declines
    /// (as `Canonicalizer.fastDomain` would), -1 when `count` is outside 3–64 (nothing
    /// written: the Swift scanner decides). Writes up to 16 bytes past `out + count` and up to
    /// 98 bytes at `words`. Only where `avx2Available`.
    @inline(__always)
    static func scanName(
        _ p: UnsafePointer<UInt8>, _ count: Int, detecting: Bool, prefix: UInt16, out: UnsafeMutablePointer<UInt8>,
        words: UnsafeMutablePointer<UInt64>
    ) -> Int {
        chub_name_scan_avx2(p, count, detecting ? 1 : 0, prefix, out, words)
    }
}

extension SipHash {
    /// The message words of `count` bytes at `message`: the full blocks, then the final word
    /// (what `hash128` absorbs). For tests and for callers that hash arbitrary bytes in lanes.
    static func words(_ message: UnsafeRawPointer?, count: Int) -> [UInt64] {
        var words = [UInt64]()
        words.reserveCapacity(count / 8 + 1)
        var offset = 0
        while offset + 8 <= count {
            words.append(UInt64(littleEndian: message!.loadUnaligned(fromByteOffset: offset, as: UInt64.self)))
            offset += 8
        }
        var last = UInt64(truncatingIfNeeded: count) << 56
        for k in 0..<(count - offset) {
            last |= UInt64(message!.load(fromByteOffset: offset + k, as: UInt8.self)) << UInt64(8 * k)
        }
        words.append(last)
        return words
    }
}
