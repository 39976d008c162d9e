/// Cryptocurrency addresses: Bitcoin (BTC) and Ethereum (ETH), mainnet only.
///
/// - ETH: `0x` (or `0X`) and 40 hex digits. All-lower and all-upper hex carry no checksum and
///   are accepted; mixed case is an EIP-55 checksum and must verify (Keccak-256 of the
///   lower-case hex). Canonical: `0x` and lower-case hex.
/// - BTC base58check (`1…` P2PKH, version 0x00; `3…` P2SH, version 0x05): 25 bytes whose last
///   four are the first four of SHA-256(SHA-256(the first 21)). Base58 is case-sensitive, so
///   the canonical form is the text as given.
/// - BTC segwit (`bc1…`): bech32 for witness version 0 (BIP-173), bech32m for versions 1–16
///   (BIP-350), program length per BIP-141. Either all lower or all upper case (mixed case is
///   refused, as the BIP says). Canonical: lower case.
///
/// Testnet, signet and regtest addresses (version 0x6f / 0xc4, `tb1…`, `bcrt1…`) are refused
/// with a reason: test coins have no value, so they are not crime indicators, and accepting
/// them would let a typo'd network silently never match.
enum WalletIndicator {
    static func canonicalize(
        _ input: UnsafeBufferPointer<UInt8>, into out: inout ByteWriter
    ) throws(IndicatorError) -> CanonicalForm {
        let n = input.count
        if n >= 2, input[0] == 0x30, input[1] | 0x20 == 0x78 {
            try canonicalizeEthereum(input, into: &out)
        } else if hasSegwitPrefix(input) {
            try canonicalizeSegwit(input, into: &out)
        } else if input.allSatisfy({ $0 < 0x80 && Base58.values[Int($0)] >= 0 }) {
            try canonicalizeBase58Check(input, into: &out)
        } else {
            throw .invalid(.wallet, reason: "not a Bitcoin or Ethereum address (expected '1…' or '3…' "
                + "base58, 'bc1…' bech32, or '0x' and 40 hex digits)")
        }
        return CanonicalForm(type: .wallet)
    }

    /// `bc1`, `tb1` or `bcrt1`, any case.
    static func hasSegwitPrefix(_ p: UnsafeBufferPointer<UInt8>) -> Bool {
        func at(_ k: Int, _ c: UInt8) -> Bool { k < p.count && p[k] | 0x20 == c }
        return (at(0, 0x62) && at(1, 0x63) && at(2, 0x31))  // bc1
            || (at(0, 0x74) && at(1, 0x62) && at(2, 0x31))  // tb1
            || (at(0, 0x62) && at(1, 0x63) && at(2, 0x72) && at(3, 0x74) && at(4, 0x31))  // bcrt1
    }

    // MARK: - Ethereum

    static func canonicalizeEthereum(
        _ input: UnsafeBufferPointer<UInt8>, into out: inout ByteWriter
    ) throws(IndicatorError) {
        let hexCount = input.count - 2
        var sawLower = false
        var sawUpper = false
        for k in 2..<input.count {
            let c = input[k]
            guard ByteText.hexValue(c) != nil else {
                throw .invalid(.wallet, reason: "\(ByteText.character(input, at: k)) at position \(k + 1): "
                    + "an Ethereum address is '0x' and 40 hex digits")
            }
            if c &- 0x61 < 6 { sawLower = true }
            if c &- 0x41 < 6 { sawUpper = true }
        }
        guard hexCount == 40 else {
            throw .invalid(.wallet, reason: "an Ethereum address is '0x' and 40 hex digits, got \(hexCount)")
        }
        guard out.remaining >= 42 else { throw .tooLong(limit: Canonicalizer.maxInputBytes) }
        let start = out.count
        try ByteText.write(0x30, to: &out)
        try ByteText.write(0x78, to: &out)
        for k in 2..<input.count { try ByteText.write(ByteText.lower(input[k]), to: &out) }
        guard sawLower && sawUpper else { return }
        try verifyEIP55(input, lowerHex: UnsafeBufferPointer(start: out.base + start + 2, count: 40))
    }

    /// Checks the EIP-55 mixed-case checksum of `input` (`0x` + 40 hex): hex letter k is upper
    /// case exactly when nibble k of Keccak-256(`lowerHex`, the 40 lower-case hex characters) >= 8.
    static func verifyEIP55(
        _ input: UnsafeBufferPointer<UInt8>, lowerHex: UnsafeBufferPointer<UInt8>
    ) throws(IndicatorError) {
        let mismatch: Int = withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 32) { digest in
            Keccak.keccak256(lowerHex, into: digest.baseAddress!)
            for k in 0..<40 where input[k + 2] > 0x39 {
                let nibble = k % 2 == 0 ? digest[k / 2] >> 4 : digest[k / 2] & 0x0F
                if (nibble >= 8) != (input[k + 2] &- 0x41 < 6) { return k }
            }
            return -1
        }
        guard mismatch < 0 else {
            let c = input[mismatch + 2]
            let wanted = Character(Unicode.Scalar(c &- 0x41 < 6 ? c | 0x20 : c & ~0x20))
            throw .invalid(.wallet, reason: "mixed-case address fails its EIP-55 checksum (position "
                + "\(mismatch + 3) should be '\(wanted)'; a typo?)")
        }
    }
}
