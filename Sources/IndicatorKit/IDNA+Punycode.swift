/// Punycode (RFC 3492): the Bootstring encoding that turns a Unicode label into the ASCII
/// part of an A-label (`bücher` ↔ `bcher-kva`). Written from the RFC; arithmetic is done in
/// 32 bits with the overflow checks of RFC 3492 §6.4, so hostile input fails instead of trapping.
enum Punycode {
    /// Why a string could not be encoded or decoded.
    enum Failure: Error, Equatable {
        /// A byte that is neither a basic code point before the delimiter nor a base-36 digit.
        case invalidDigit(at: Int)
        /// A non-ASCII byte in the basic (copied) part.
        case nonBasic(at: Int)
        /// The input ends inside a variable-length integer.
        case truncated
        /// A 32-bit overflow (RFC 3492 §6.4): the input is too long or malformed.
        case overflow
        /// The decoded value is a basic code point, a surrogate or above U+10FFFF.
        case invalidCodePoint(UInt32)
    }

    static let base: UInt32 = 36
    static let tMin: UInt32 = 1
    static let tMax: UInt32 = 26
    static let skew: UInt32 = 38
    static let damp: UInt32 = 700
    static let initialBias: UInt32 = 72
    static let initialN: UInt32 = 0x80
    static let delimiter: UInt8 = 0x2D  // '-'

    /// RFC 3492 §6.1 bias adaptation.
    static func adapt(_ delta: UInt32, points: UInt32, first: Bool) -> UInt32 {
        var delta = first ? delta / damp : delta / 2
        delta += delta / points
        var k: UInt32 = 0
        while delta > ((base - tMin) * tMax) / 2 {
            delta /= base - tMin
            k += base
        }
        return k + (base - tMin + 1) * delta / (delta + skew)
    }

    /// The threshold t for position k (RFC 3492 §6.2/§6.3).
    @inline(__always)
    static func threshold(_ k: UInt32, bias: UInt32) -> UInt32 {
        if k <= bias { return tMin }
        if k >= bias + tMax { return tMax }
        return k - bias
    }

    /// Value of a base-36 digit (`a`–`z`/`A`–`Z` = 0–25, `0`–`9` = 26–35), or nil.
    @inline(__always)
    static func digitValue(_ byte: UInt8) -> UInt32? {
        switch byte {
        case 0x61...0x7A: UInt32(byte - 0x61)
        case 0x41...0x5A: UInt32(byte - 0x41)
        case 0x30...0x39: UInt32(byte - 0x30) + 26
        default: nil
        }
    }

    /// The lower-case ASCII digit for a value 0–35.
    @inline(__always)
    static func digitByte(_ value: UInt32) -> UInt8 {
        value < 26 ? UInt8(value) + 0x61 : UInt8(value - 26) + 0x30
    }

    /// Decodes the Punycode `input` (the part after `xn--`) into code points (RFC 3492 §6.2).
    /// Basic code points keep their case.
    static func decode(_ input: UnsafeBufferPointer<UInt8>) throws(Failure) -> [UInt32] {
        var basicCount = 0
        for index in input.indices where input[index] == delimiter { basicCount = index }
        var output: [UInt32] = []
        output.reserveCapacity(input.count)
        for index in 0..<basicCount {
            guard input[index] < 0x80 else { throw .nonBasic(at: index) }
            output.append(UInt32(input[index]))
        }
        var n = initialN
        var i: UInt32 = 0
        var bias = initialBias
        var position = basicCount > 0 ? basicCount + 1 : 0
        while position < input.count {
            let oldI = i
            var w: UInt32 = 1
            var k = base
            while true {
                guard position < input.count else { throw .truncated }
                guard let digit = digitValue(input[position]) else {
                    throw .invalidDigit(at: position)
                }
                position += 1
                guard digit <= (UInt32.max - i) / w else { throw .overflow }
                i += digit * w
                let t = threshold(k, bias: bias)
                if digit < t { break }
                guard w <= UInt32.max / (base - t) else { throw .overflow }
                w *= base - t
                guard k <= UInt32.max - base else { throw .overflow }
                k += base
            }
            let points = UInt32(output.count + 1)
            bias = adapt(i - oldI, points: points, first: oldI == 0)
            guard i / points <= UInt32.max - n else { throw .overflow }
            n += i / points
            i %= points
            guard n >= 0x80, n <= 0x10FFFF, !(0xD800...0xDFFF).contains(n) else {
                throw .invalidCodePoint(n)
            }
            output.insert(n, at: Int(i))
            i += 1
        }
        return output
    }

    /// Encodes code points as Punycode (RFC 3492 §6.3), appending the ASCII to `output`. Basic
    /// code points are copied as they are; digits are written in lower case.
    static func encode(_ input: [UInt32], into output: inout [UInt8]) throws(Failure) {
        var n = initialN
        var delta: UInt32 = 0
        var bias = initialBias
        var basicCount: UInt32 = 0
        for cp in input where cp < 0x80 {
            output.append(UInt8(cp))
            basicCount += 1
        }
        guard input.count <= Int(UInt32.max) else { throw .overflow }
        let total = UInt32(input.count)
        var handled = basicCount
        if basicCount > 0 { output.append(delimiter) }
        while handled < total {
            var m = UInt32.max
            for cp in input where cp >= n && cp < m { m = cp }
            guard m - n <= (UInt32.max - delta) / (handled + 1) else { throw .overflow }
            delta += (m - n) * (handled + 1)
            n = m
            for cp in input {
                if cp < n {
                    guard delta < UInt32.max else { throw .overflow }
                    delta += 1
                }
                if cp == n {
                    var q = delta
                    var k = base
                    while true {
                        let t = threshold(k, bias: bias)
                        if q < t { break }
                        output.append(digitByte(t + (q - t) % (base - t)))
                        q = (q - t) / (base - t)
                        k += base
                    }
                    output.append(digitByte(q))
                    bias = adapt(delta, points: handled + 1, first: handled == basicCount)
                    delta = 0
                    handled += 1
                }
            }
            guard delta < UInt32.max, n < UInt32.max else { throw .overflow }
            delta += 1
            n += 1
        }
    }
}
