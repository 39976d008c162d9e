/// The constants of the wire protocol, in one place. The protocol itself — the frame header,
/// every message's layout, version negotiation, request ids, limits, timeouts and every error
/// code — is specified in docs/PROTOCOL.md; change both together, and bump the version when the
/// bytes change.
public enum WireFormat {
    /// The versions this implementation speaks (HELLO carries the client's range; the hub picks
    /// the highest version in both ranges).
    public static let minVersion: UInt16 = 1
    public static let maxVersion: UInt16 = 2
    /// The first version with feed uploads and withdrawals (UPLOAD_BEGIN … WITHDRAW_RESULT).
    public static let feedVersion: UInt16 = 2

    /// The first 8 bytes of every HELLO and WELCOME payload: ASCII `IHUBWIRE`.
    public static let magic: [UInt8] = Array("IHUBWIRE".utf8)
    /// The magic read as a little-endian u64, for a one-load comparison.
    static let magicWord: UInt64 = 0x4552_4957_4255_4849

    /// Every frame starts with a 16-byte header: u32 payload length, u8 type, u8 flags (zero),
    /// u16 reserved (zero), u64 request id.
    public static let headerSize = 16

    /// Frame header field offsets (all integers little-endian).
    public enum HeaderOffset {
        public static let payloadLength = 0  // u32
        public static let type = 4           // u8
        public static let flags = 5          // u8, zero in version 1
        public static let reserved = 6       // u16, zero
        public static let requestID = 8      // u64
    }

    // MARK: Limits

    /// Payload limit for the first frame each side receives (HELLO; WELCOME or ERROR), so that
    /// garbage is refused after 16 bytes.
    public static let handshakePayloadLimit = 4096
    /// Largest payload of any later frame (4 MiB). A hub may advertise less in WELCOME.
    public static let maxPayloadBytes = 4 * 1024 * 1024
    /// Most values in one QUERY (and entries in one RESULT). A hub may advertise less.
    public static let maxBatchValues = 10_000
    /// Longer values are refused per value (`too_long`); the u16 length allows up to 65,535.
    /// Equals `Canonicalizer.maxInputBytes`.
    public static let maxValueBytes = 4096
    /// The u16 length field's limit: the longest value a QUERY can carry at all.
    public static let maxEncodableValueBytes = Int(UInt16.max)
    /// Purpose, legal basis, reference and time zone (`RequestFields.maxFieldBytes`).
    public static let maxFieldBytes = 256
    /// Client software name (HELLO) and partner name (WELCOME): 1 to this many bytes.
    public static let maxNameBytes = 256
    /// ERROR reasons: 0 to this many bytes.
    public static let maxReasonBytes = 1024
    /// Requests in flight per connection unless the hub advertises otherwise.
    public static let defaultMaxInFlight = 128
    /// The largest in-flight limit a WELCOME may advertise.
    public static let maxInFlightLimit = 65_535

    // MARK: Feed limits (version 2)

    /// Most records one upload may declare (the hub holds an upload until COMMIT: atomic).
    public static let maxUploadRecords = 1_000_000
    /// Most records in one UPLOAD_RECORDS frame.
    public static let maxChunkRecords = 10_000
    /// Uploads open (UPLOAD_BEGIN sent, UPLOAD_COMMIT not yet) at once per connection.
    public static let maxOpenUploads = 1
    /// Most rejections an UPLOAD_RESULT lists (the count covers them all).
    public static let maxListedRejections = 10_000
    /// Most values in one WITHDRAW.
    public static let maxWithdrawValues = 10_000
    /// UPLOAD_BEGIN's legal basis and reference, WITHDRAW's reference: 0 to this many bytes.
    public static let maxUploadTextBytes = 256
    /// The largest upload number (24 bits, docs/LIVE-UPDATES.md).
    public static let maxUploadNumber: UInt32 = 0xFF_FFFF

    // MARK: Timeouts (seconds)

    /// From TCP accept to the end of the TLS handshake.
    public static let tlsHandshakeTimeout = 10
    /// From the end of the TLS handshake to a complete HELLO; also the client's wait for WELCOME.
    public static let helloTimeout = 10
    /// From a frame's first byte to its last.
    public static let frameTimeout = 30
    /// No frame received and nothing in flight (advertised in WELCOME).
    public static let defaultIdleTimeout = 300
    /// From sending a PING to its PONG.
    public static let pongTimeout = 30
    /// A hub that cannot write to a client for this long closes the connection.
    public static let writeStallTimeout = 60
    /// An open upload with no UPLOAD_RECORDS or UPLOAD_COMMIT for this long is discarded.
    public static let uploadIdleTimeout = 60

    // MARK: Message layouts

    /// Fixed part of a HELLO payload: magic, min version, max version, software length.
    static let helloFixedBytes = 14
    /// Fixed part of a WELCOME payload, up to and including the partner name length.
    static let welcomeFixedBytes = 42
    /// PING and PONG payloads.
    static let pingBytes = 8
    /// Fixed part of an ERROR payload: code, reason length.
    static let errorFixedBytes = 4
    /// Fixed part of a QUERY payload, before the four text fields.
    static let queryFixedBytes = 16
    /// Each QUERY value: type byte and u16 length before its bytes.
    static let valueHeaderBytes = 3
    /// Fixed part of a RESULT payload: the entry count.
    static let resultFixedBytes = 4

    /// Fixed part of UPLOAD_BEGIN: upload id, record count, format, flags, two text lengths,
    /// reserved.
    static let uploadBeginFixedBytes = 28
    /// Fixed part of UPLOAD_RECORDS: first record index, record count.
    static let uploadRecordsFixedBytes = 8
    /// Each record: type, field mask, value length.
    static let recordHeaderBytes = 4
    /// UPLOAD_COMMIT: the record count.
    static let uploadCommitBytes = 4
    /// Fixed part of UPLOAD_RESULT, before the listed rejections.
    static let uploadResultFixedBytes = 40
    /// Each listed rejection: record index (u32), refusal code (u8).
    static let rejectionBytes = 5
    /// Fixed part of WITHDRAW: kind, reserved, reference length.
    static let withdrawFixedBytes = 4
    /// Fixed part of WITHDRAW_RESULT, before the listed refusals.
    static let withdrawResultFixedBytes = 12

    /// RESULT entry status bytes.
    enum Status {
        static let miss: UInt8 = 0
        static let hit: UInt8 = 1
        static let refused: UInt8 = 2
    }

    /// The highest `IndicatorType` raw value of protocol version 1; a value's type byte is 0
    /// (detect) or 1 through this.
    static let maxIndicatorTypeByte: UInt8 = 13
}
