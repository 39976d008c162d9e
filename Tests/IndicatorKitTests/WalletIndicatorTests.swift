import Testing
@testable import IndicatorKit

@Suite("WalletIndicator")
struct WalletIndicatorTests {
    typealias S = TypeTestSupport

    static func hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef")
        return String(bytes.flatMap { [digits[Int($0 >> 4)], digits[Int($0 & 0x0F)]] })
    }

    // MARK: Keccak-256

    @Test("Keccak-256 (original padding): empty string and Solidity function selectors")
    func keccakVectors() {
        #expect(Self.hex(Keccak.keccak256([])) == "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470")
        // Function selectors are the first four bytes of Keccak-256 of the signature.
        #expect(Self.hex(Keccak.keccak256(Array("transfer(address,uint256)".utf8))).hasPrefix("a9059cbb"))
        #expect(Self.hex(Keccak.keccak256(Array("balanceOf(address)".utf8))).hasPrefix("70a08231"))
    }

    /// The same permutation with SHA3 padding must give FIPS 202 SHA3-256 (values from
    /// CPython's hashlib.sha3_256), including the block-boundary and multi-block cases.
    @Test("the permutation also yields SHA3-256 with the SHA3 domain bits", arguments: [
        ("", "a7ffc6f8bf1ed76651c14756a061d662f580ff4de43b49fa82d80a4b80f8434a"),
        (String(repeating: "a", count: 135), "8094bb53c44cfb1e67b7c30447f9a1c33696d2463ecc1d9c92538913392843c9"),
        (String(repeating: "a", count: 136), "3fc5559f14db8e453a0a3091edbd2bc25e11528d81c66fa570a4efdcc2695ee1"),
        (String(repeating: "abc", count: 100), "26fb4fd7881f77c4c67694021204c5fcb0eb222e62aa6fe6e21e096ad58b6dc4"),
    ])
    func sha3(message: String, digest: String) {
        var out = [UInt8](repeating: 0, count: 32)
        Array(message.utf8).withUnsafeBufferPointer { input in
            out.withUnsafeMutableBufferPointer { Keccak.sponge256(input, domain: 0x06, into: $0.baseAddress!) }
        }
        #expect(Self.hex(out) == digest)
    }

    // MARK: Ethereum

    @Test("EIP-55 examples verify and canonicalise to lower case", arguments: [
        "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
        "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359",
        "0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB",
        "0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb",
    ])
    func eip55(address: String) {
        let lower = "0x" + address.dropFirst(2).lowercased()
        #expect(S.accepted(address, as: .wallet) == lower)
        #expect(S.accepted(address, as: nil) == lower)
        #expect(S.accepted(lower, as: .wallet) == lower)  // no checksum: accepted
        #expect(S.accepted("0x" + address.dropFirst(2).uppercased(), as: .wallet) == lower)
        // Flipping the case of any one letter breaks the checksum.
        let chars = Array(address)
        for k in 2..<chars.count where chars[k].isLetter {
            var flipped = chars
            flipped[k] = Character(chars[k].isUppercase ? chars[k].lowercased() : chars[k].uppercased())
            let reason = S.reason(String(flipped), as: .wallet)
            #expect(reason == "mixed-case address fails its EIP-55 checksum (position \(k + 1) should be "
                + "'\(chars[k])'; a typo?)")
        }
    }

    @Test("Ethereum refusals", arguments: [
        ("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAe", "an Ethereum address is '0x' and 40 hex digits, got 39"),
        ("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAedd", "an Ethereum address is '0x' and 40 hex digits, got 41"),
        ("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeg", "'g' at position 42: an Ethereum address is '0x' and 40 hex digits"),
        ("0x", "an Ethereum address is '0x' and 40 hex digits, got 0"),
    ])
    func ethereumRefused(input: String, reason: String) {
        #expect(S.reason(input, as: .wallet) == reason)
    }

    // MARK: Bitcoin base58check

    @Test("base58check mainnet addresses are kept as given", arguments: [
        "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa",  // P2PKH
        "1BgGZ9tcN4rm9KBzDn7KprQz87SZ26SAMH",  // P2PKH of hash160 751e76e8…3bd6
        "3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy",  // P2SH
        "3CNHUhP3uyB9EUtRLsmvFUmvGdjGdkTxJw",  // P2SH of hash160 751e76e8…3bd6
        "1111111111111111111114oLvT2",  // all-zero hash160
    ])
    func base58Accepted(address: String) {
        #expect(S.accepted(address, as: .wallet) == address)
        #expect(S.accepted(address, as: nil) == address)
    }

    @Test("base58check refusals", arguments: [
        ("1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNb", "base58check checksum does not verify (a typo?)"),
        ("1a1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa", "decodes to more than 25 bytes; a base58check address is 25"),
        ("mrCDrCybB6J1vRfbwM5hemdJz73FwDBC8r", "testnet address (version byte 0x6F): only Bitcoin mainnet is accepted"),
        ("2N3vVYSK5XRgVSGWy21PnsRmBUywSQNdCsf", "testnet address (version byte 0xC4): only Bitcoin mainnet is accepted"),
        ("LVuDpNCSSj6pQ7t9Pv6d6sUkLKoqDEVUnJ", "version byte 0x30 is not a Bitcoin mainnet address (P2PKH 0x00, P2SH 0x05)"),
        ("13RJa7YdZQz3JHotw6gx1sco2AAPDrMZM", "decodes to 24 bytes; a base58check address is 25"),
        ("1p8KevEo5z2dqhHVZQ6v6D6s8PRnAtbespV", "decodes to more than 25 bytes; a base58check address is 25"),
        ("1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNaNa", "36 characters: a base58 Bitcoin address has 26 to 35"),
        ("1A1zP1eP5QG", "11 characters: a base58 Bitcoin address has 26 to 35"),
        ("1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfN0", "not a Bitcoin or Ethereum address (expected '1…' or '3…' base58, 'bc1…' bech32, or '0x' and 40 hex digits)"),
        ("zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz", "base58check checksum does not verify (a typo?)"),
        ("zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz", "decodes to more than 25 bytes; a base58check address is 25"),
    ])
    func base58Refused(input: String, reason: String) {
        #expect(S.reason(input, as: .wallet) == reason)
    }

    @Test("every single-character change of a base58check address is refused")
    func base58Substitutions() {
        let address = Array("1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa")
        let alphabet = Array("123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz")
        for k in address.indices {
            for c in alphabet where c != address[k] {
                var changed = address
                changed[k] = c
                #expect(S.accepted(String(changed), as: .wallet) == nil, "\(String(changed))")
            }
        }
    }

    // MARK: Bitcoin segwit (BIP-173 / BIP-350 test vectors)

    @Test("bech32 / bech32m checksums of the BIPs' generic test strings", arguments: [
        ("A12UEL5L", Bech32.Variant.bech32),
        ("a12uel5l", .bech32),
        ("an83characterlonghumanreadablepartthatcontainsthenumber1andtheexcludedcharactersbio1tt5tgs", .bech32),
        ("abcdef1qpzry9x8gf2tvdw0s3jn54khce6mua7lmqqqxw", .bech32),
        ("split1checkupstagehandshakeupstreamerranterredcaperred2y9e3w", .bech32),
        ("?1ezyfcl", .bech32),
        ("A1LQFN3A", .bech32m),
        ("a1lqfn3a", .bech32m),
        ("an83characterlonghumanreadablepartthatcontainsthetheexcludedcharactersbioandnumber11sg7hg6", .bech32m),
        ("abcdef1l7aum6echk45nj3s0wdvt2fg8x9yrzpqzd3ryx", .bech32m),
        ("11llllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllludsr8", .bech32m),
        ("split1checkupstagehandshakeupstreamerranterredcaperredlc445v", .bech32m),
        ("?1v759aa", .bech32m),
    ])
    func bech32Checksums(text: String, variant: Bech32.Variant) {
        let bytes = Array(text.lowercased().utf8)
        let separator = bytes.lastIndex(of: 0x31)!
        bytes.withUnsafeBufferPointer { #expect(Bech32.verify($0, separator: separator) == variant) }
        // One substitution in the data part is always caught.
        var changed = bytes
        changed[separator + 1] = changed[separator + 1] == 0x71 ? 0x70 : 0x71
        changed.withUnsafeBufferPointer { #expect(Bech32.verify($0, separator: separator) == nil) }
    }

    @Test("valid mainnet segwit addresses canonicalise to lower case", arguments: [
        "BC1QW508D6QEJXTDG4Y5R3ZARVARY0C5XW7KV8F3T4",
        "bc1pw508d6qejxtdg4y5r3zarvary0c5xw7kw508d6qejxtdg4y5r3zarvary0c5xw7kt5nd6y",
        "BC1SW50QGDZ25J",
        "bc1zw508d6qejxtdg4y5r3zarvaryvaxxpcs",
        "bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqzk5jj0",
    ])
    func segwitAccepted(address: String) {
        #expect(S.accepted(address, as: .wallet) == address.lowercased())
        #expect(S.accepted(address, as: nil) == address.lowercased())
    }

    @Test("invalid segwit addresses are refused with the BIPs' reasons", arguments: [
        ("tb1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3q0sl5k7",
         "'tb1…' is a Bitcoin test network address: only mainnet ('bc1…') is accepted"),
        ("bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080",
         "'bcrt1…' is a Bitcoin test network address: only mainnet ('bc1…') is accepted"),
        ("tc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vq5zuyut",
         "not a Bitcoin or Ethereum address (expected '1…' or '3…' base58, 'bc1…' bech32, or '0x' and 40 hex digits)"),
        ("bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqh2y7hd",
         "witness version 1 must use the bech32m checksum, not bech32 (BIP-350)"),
        ("BC1S0XLXVLHEMJA6C4DQV22UAPCTQUPFHLXM9H8Z3K2E72Q4K9HCZ7VQ54WELL",
         "witness version 16 must use the bech32m checksum, not bech32 (BIP-350)"),
        ("bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kemeawh",
         "witness version 0 must use the bech32 checksum, not bech32m (BIP-350)"),
        ("bc1p38j9r5y49hruaue7wxjce0updqjuyyx0kh56v8s25huc6995vvpql3jow4",
         "'o' at position 60 is not a bech32 character"),
        ("BC130XLXVLHEMJA6C4DQV22UAPCTQUPFHLXM9H8Z3K2E72Q4K9HCZ7VQ7ZWS8R",
         "witness version 17 does not exist (0–16)"),
        ("bc1pw5dgrnzv", "witness program length 1: BIP-141 allows 2 to 40 bytes"),
        ("bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7v8n0nx0muaewav253zgeav",
         "witness program length 41: BIP-141 allows 2 to 40 bytes"),
        ("BC1QR508D6QEJXTDG4Y5R3ZARVARYV98GJ9P", "a version 0 witness program is 20 or 32 bytes, not 16"),
        ("tb1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vq47Zagq",
         "mixed upper and lower case is not allowed in a bech32 address (BIP-173)"),
        ("bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7v07qwwzcrf",
         "the witness program has invalid padding (BIP-173)"),
        ("bc1gmk9yu", "too short for a segwit address (a witness version, a program and a 6-character checksum follow 'bc1')"),
        ("bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t5", "bech32 checksum does not verify (a typo?)"),
        ("bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t 4", "' ' at position 42: not allowed in a bech32 address"),
    ])
    func segwitRefused(input: String, reason: String) {
        #expect(S.reason(input, as: .wallet) == reason)
        #expect(S.refusedAs(input, as: .wallet) == .wallet)
    }

    @Test("canonical bytes are the canonical text")
    func bytes() throws {
        let result = try Canonicalizer.canonical("BC1QW508D6QEJXTDG4Y5R3ZARVARY0C5XW7KV8F3T4", as: .wallet)
        #expect(result.bytes == Array("bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4".utf8))
        #expect(result.form == CanonicalForm(type: .wallet))
    }
}
