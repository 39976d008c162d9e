/// Bitcoin addresses: base58check (P2PKH / P2SH) and segwit (bech32 / bech32m).
extension WalletIndicator {
    /// Bytes of a base58check address: version, 20-byte hash, 4-byte checksum.
    static let base58CheckBytes = 25

    static func canonicalizeBase58Check(
        _ input: UnsafeBufferPointer<UInt8>, into out: inout ByteWriter
    ) throws(IndicatorError) {
        guard input.count >= 26 && input.count <= 35 else {
            throw .invalid(.wallet, reason: "\(input.count) characters: a base58 Bitcoin address has 26 to 35")
        }
        let valid: Result<Void, IndicatorError> = withUnsafeTemporaryAllocation(
            of: UInt8.self, capacity: base58CheckBytes + 64
        ) { scratch in
            let decoded = UnsafeMutableBufferPointer(rebasing: scratch[0..<base58CheckBytes])
            let hash = scratch.baseAddress! + base58CheckBytes
            switch Base58.decode(input, into: decoded) {
            case .success: break
            case .failure(let error): return .failure(error)
            }
            // Checksum: the first four bytes of SHA-256(SHA-256(version ‖ hash160)).
            Sodium.sha256(hash, decoded.baseAddress!, 21)
            Sodium.sha256(hash + 32, hash, 32)
            guard (0..<4).allSatisfy({ hash[32 + $0] == decoded[21 + $0] }) else {
                return .failure(.invalid(.wallet, reason: "base58check checksum does not verify (a typo?)"))
            }
            switch decoded[0] {
            case 0x00, 0x05:
                return .success(())
            case 0x6F, 0xC4:
                return .failure(.invalid(.wallet, reason: "testnet address (version byte 0x\(ByteText.hex2(decoded[0]))): "
                    + "only Bitcoin mainnet is accepted"))
            default:
                return .failure(.invalid(.wallet, reason: "version byte 0x\(ByteText.hex2(decoded[0])) is not a "
                    + "Bitcoin mainnet address (P2PKH 0x00, P2SH 0x05)"))
            }
        }
        try valid.get()
        for c in input { try ByteText.write(c, to: &out) }  // base58 is case-sensitive: kept as given
    }

    static func canonicalizeSegwit(
        _ input: UnsafeBufferPointer<UInt8>, into out: inout ByteWriter
    ) throws(IndicatorError) {
        let n = input.count
        guard n <= 90 else { throw .invalid(.wallet, reason: "\(n) characters: a bech32 string has at most 90") }
        var sawLower = false
        var sawUpper = false
        for k in 0..<n {
            let c = input[k]
            guard c >= 0x21 && c <= 0x7E else {
                throw .invalid(.wallet, reason: "\(ByteText.character(input, at: k)) at position \(k + 1): "
                    + "not allowed in a bech32 address")
            }
            if c &- 0x61 < 26 { sawLower = true }
            if c &- 0x41 < 26 { sawUpper = true }
        }
        guard !(sawLower && sawUpper) else {
            throw .invalid(.wallet, reason: "mixed upper and lower case is not allowed in a bech32 address (BIP-173)")
        }
        let start = out.count
        for c in input { try ByteText.write(ByteText.lower(c), to: &out) }
        let text = UnsafeBufferPointer(start: out.base + start, count: n)
        // `hasSegwitPrefix` let through bc1, tb1 or bcrt1; the data part has no '1' in its charset.
        guard text[0] == 0x62, text[2] == 0x31 else {
            throw .invalid(.wallet, reason: "'\(text[0] == 0x74 ? "tb1" : "bcrt1")…' is a Bitcoin test network "
                + "address: only mainnet ('bc1…') is accepted")
        }
        let separator = 2
        guard n - separator - 1 >= 7 else {
            throw .invalid(.wallet, reason: "too short for a segwit address (a witness version, a program "
                + "and a 6-character checksum follow 'bc1')")
        }
        for k in (separator + 1)..<n where Bech32.values[Int(text[k])] < 0 {
            throw .invalid(.wallet, reason: "\(ByteText.character(input, at: k)) at position \(k + 1) is not "
                + "a bech32 character")
        }
        guard let variant = Bech32.verify(text, separator: separator) else {
            throw .invalid(.wallet, reason: "bech32 checksum does not verify (a typo?)")
        }
        let version = Int(Bech32.values[Int(text[separator + 1])])
        guard version <= 16 else {
            throw .invalid(.wallet, reason: "witness version \(version) does not exist (0–16)")
        }
        let wanted: Bech32.Variant = version == 0 ? .bech32 : .bech32m
        guard variant == wanted else {
            throw .invalid(.wallet, reason: "witness version \(version) must use the \(wanted.name) checksum, "
                + "not \(variant.name) (BIP-350)")
        }
        // The program: the 5-bit groups between the version and the checksum, as bytes.
        var bits = 0
        var accumulator: UInt32 = 0
        var programBytes = 0
        for k in (separator + 2)..<(n - 6) {
            accumulator = (accumulator << 5 | UInt32(Bech32.values[Int(text[k])])) & 0xFFF
            bits += 5
            if bits >= 8 {
                bits -= 8
                programBytes += 1
            }
        }
        guard bits <= 4, accumulator & ((1 << UInt32(bits)) - 1) == 0 else {
            throw .invalid(.wallet, reason: "the witness program has invalid padding (BIP-173)")
        }
        guard programBytes >= 2 && programBytes <= 40 else {
            throw .invalid(.wallet, reason: "witness program length \(programBytes): BIP-141 allows 2 to 40 bytes")
        }
        guard version != 0 || programBytes == 20 || programBytes == 32 else {
            throw .invalid(.wallet, reason: "a version 0 witness program is 20 or 32 bytes, not \(programBytes)")
        }
    }
}

/// Bitcoin's base58 alphabet (no 0, O, I, l) and big-endian decoding into a fixed buffer.
enum Base58 {
    static let alphabet: StaticString = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"

    /// The value of an ASCII base58 character, or -1.
    static let values: [Int8] = {
        var table = [Int8](repeating: -1, count: 128)
        let chars = alphabet.utf8Start
        for k in 0..<58 { table[Int(chars[k])] = Int8(k) }
        return table
    }()

    /// Decodes `input` (base58 characters only) into exactly `out.count` bytes: each leading
    /// `1` is a zero byte, the rest is the big-endian number. Refuses text that decodes to
    /// more or fewer bytes.
    static func decode(
        _ input: UnsafeBufferPointer<UInt8>, into out: UnsafeMutableBufferPointer<UInt8>
    ) -> Result<Void, IndicatorError> {
        let size = out.count
        out.initialize(repeating: 0)
        var zeros = 0
        while zeros < input.count, input[zeros] == 0x31 { zeros += 1 }
        for c in input {
            var carry = Int(values[Int(c)])
            var k = size - 1
            while k >= 0 {
                carry += 58 * Int(out[k])
                out[k] = UInt8(truncatingIfNeeded: carry)
                carry >>= 8
                k -= 1
            }
            if carry != 0 {
                return .failure(.invalid(.wallet, reason: "decodes to more than \(size) bytes; a base58check "
                    + "address is \(size)"))
            }
        }
        var significant = size
        while significant > 0, out[size - significant] == 0 { significant -= 1 }
        let total = zeros + significant
        guard total == size else {
            return .failure(.invalid(.wallet, reason: total > size
                ? "decodes to more than \(size) bytes; a base58check address is \(size)"
                : "decodes to \(total) bytes; a base58check address is \(size)"))
        }
        return .success(())
    }
}
