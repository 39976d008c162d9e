/// An append-only writer over caller-owned memory, used to build canonical forms and digest
/// inputs without allocating on the lookup hot path.
///
/// The memory must outlive the writer; writers are created inside `withUnsafe…` scopes
/// (see `Canonicalizer.withScratch`). Appending past the capacity throws; it never traps.
public struct ByteWriter {
    public let base: UnsafeMutablePointer<UInt8>
    public let capacity: Int
    public private(set) var count: Int

    public init(_ buffer: UnsafeMutableBufferPointer<UInt8>) {
        precondition(buffer.baseAddress != nil || buffer.count == 0)
        self.base = buffer.baseAddress ?? UnsafeMutablePointer(bitPattern: 1)!
        self.capacity = buffer.count
        self.count = 0
    }

    /// The bytes written so far.
    public var written: UnsafeBufferPointer<UInt8> {
        UnsafeBufferPointer(start: base, count: count)
    }

    public var remaining: Int { capacity - count }

    @inline(__always)
    public mutating func append(_ byte: UInt8) throws(ByteWriter.Overflow) {
        guard count < capacity else { throw Overflow() }
        base[count] = byte
        count += 1
    }

    @inline(__always)
    public mutating func append(_ bytes: UnsafeBufferPointer<UInt8>) throws(ByteWriter.Overflow) {
        guard bytes.count <= capacity - count else { throw Overflow() }
        if let source = bytes.baseAddress, bytes.count > 0 {
            (base + count).update(from: source, count: bytes.count)
        }
        count += bytes.count
    }

    public mutating func append<S: Sequence>(contentsOf bytes: S) throws(ByteWriter.Overflow)
    where S.Element == UInt8 {
        for byte in bytes { try append(byte) }
    }

    /// Counts `byteCount` bytes that were stored directly at `base + count` as written (the
    /// canonicalisation fast path writes through the pointer). Requires `byteCount <= remaining`.
    @inline(__always)
    package mutating func commit(_ byteCount: Int) {
        precondition(byteCount >= 0 && byteCount <= capacity - count)
        count += byteCount
    }

    /// Forgets everything after the first `newCount` bytes.
    public mutating func truncate(to newCount: Int) {
        precondition(newCount >= 0 && newCount <= count)
        count = newCount
    }

    /// Overwrites an already written byte.
    public mutating func set(_ byte: UInt8, at index: Int) {
        precondition(index >= 0 && index < count)
        base[index] = byte
    }

    public subscript(index: Int) -> UInt8 {
        precondition(index >= 0 && index < count)
        return base[index]
    }

    /// Thrown when a canonical form would not fit; callers turn it into `IndicatorError.tooLong`.
    public struct Overflow: Error, Equatable, Sendable {}
}
