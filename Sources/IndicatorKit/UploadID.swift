/// The 16 random bytes a client chooses to name one upload (docs/PROTOCOL.md, "Uploads";
/// docs/LIVE-UPDATES.md). A retry sends the same id, so the hub answers it with the first answer
/// instead of applying the upload twice. Shared by the wire protocol and the store's journal, so
/// both name an upload the same way. All zero is not an id a client may send.
public struct UploadID: Hashable, Sendable, CustomStringConvertible {
    /// Bytes 0–7 and 8–15, little-endian (how the journal and the upload index store it).
    public let low: UInt64
    public let high: UInt64

    public init(low: UInt64, high: UInt64) {
        self.low = low
        self.high = high
    }

    /// nil unless exactly 16 bytes, not all zero.
    public init?(bytes: some Collection<UInt8>) {
        guard bytes.count == 16, bytes.contains(where: { $0 != 0 }) else { return nil }
        var low: UInt64 = 0
        var high: UInt64 = 0
        for (index, byte) in bytes.enumerated() {
            if index < 8 { low |= UInt64(byte) << (8 * index) } else { high |= UInt64(byte) << (8 * (index - 8)) }
        }
        self.init(low: low, high: high)
    }

    /// 32 hex digits (either case), as `ihub push --upload-id` and `ihub withdraw --upload` take it.
    public init?(hex: String) {
        let digits = Array(hex.utf8)
        guard digits.count == 32 else { return nil }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(16)
        for pair in stride(from: 0, to: 32, by: 2) {
            guard let high = Self.nibble(digits[pair]), let low = Self.nibble(digits[pair + 1]) else { return nil }
            bytes.append(high << 4 | low)
        }
        self.init(bytes: bytes)
    }

    /// A fresh id from the system's random source.
    public static func random() -> UploadID {
        var generator = SystemRandomNumberGenerator()
        while true {
            let id = UploadID(low: generator.next(), high: generator.next())
            if id.low != 0 || id.high != 0 { return id }
        }
    }

    /// The 16 bytes in wire order.
    public var bytes: [UInt8] {
        (0..<16).map { index in UInt8(truncatingIfNeeded: (index < 8 ? low >> (8 * index) : high >> (8 * (index - 8)))) }
    }

    /// Lower-case hex, 32 digits, in wire order.
    public var hex: String {
        let digits = Array("0123456789abcdef".utf8)
        return String(decoding: bytes.flatMap { [digits[Int($0 >> 4)], digits[Int($0 & 15)]] }, as: UTF8.self)
    }

    public var description: String { hex }

    private static func nibble(_ c: UInt8) -> UInt8? {
        switch c {
        case 0x30...0x39: c - 0x30
        case 0x61...0x66: c - 0x61 + 10
        case 0x41...0x46: c - 0x41 + 10
        default: nil
        }
    }
}
