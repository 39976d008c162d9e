/// The fast path's two scanners, eight bytes at a time (`SWAR`): a dotted-quad IPv4 address
/// (7–15 bytes, in two words) and an LDH name (a word per 8 bytes, lower-cased, stored and —
/// for `DigestKey.canonicalDigestFast` — hashed in the same pass). Both only ever accept: any
/// doubt and they return nil, and the general path decides (`Canonicalizer+Fast.swift`).
/// Neither reads outside `p[0..<count]` nor writes outside `out[0..<count]`.
extension Canonicalizer {
    /// Strict dotted decimal `a.b.c.d` (what `IPIndicator.canonicalizeV4` accepts without a
    /// prefix length): four octets 0–255 of 1–3 digits without leading zeros. Writes 4
    /// network-order bytes and returns the address.
    ///
    /// No loop and no branch per byte: the 7–15 bytes are classified in two words (digits,
    /// dots), the shape checked on one-bit-per-byte masks (three dots, none first, last or
    /// doubled, no run of four digits, no `0` starting a longer octet), then each octet is one
    /// 4-byte load ending at its dot, masked to its digits and valued with one multiply.
    @inline(__always)
    static func fastIPv4(_ p: UnsafePointer<UInt8>, _ count: Int, _ out: UnsafeMutablePointer<UInt8>) -> UInt32? {
        guard count >= 7, count <= 15 else { return nil }
        let raw = UnsafeRawPointer(p)
        // Bytes 0..<count: lanes 0–7 in `lo`, 8–14 in `hi`; lanes past the end are zero.
        let lo = SWAR.load(raw, count: min(count, 8))
        let hi = count > 8 ? SWAR.loadEnding(raw, at: count, from: 8) : 0
        let validLo = SWAR.firstLanes(min(count, 8))
        let validHi = SWAR.firstLanes(count &- 8)
        let digitLo = SWAR.inRange(lo & ~SWAR.high, 0x30, 0x39) & ~lo & validLo
        let digitHi = SWAR.inRange(hi & ~SWAR.high, 0x30, 0x39) & ~hi & validHi
        let dotLo = SWAR.equal(lo & ~SWAR.high, 0x2E) & ~lo & validLo
        let dotHi = SWAR.equal(hi & ~SWAR.high, 0x2E) & ~hi & validHi
        let zeroLo = SWAR.equal(lo & ~SWAR.high, 0x30) & digitLo
        let zeroHi = SWAR.equal(hi & ~SWAR.high, 0x30) & digitHi
        var bad = ((digitLo | dotLo) ^ validLo) | ((digitHi | dotHi) ^ validHi)  // a byte neither digit nor dot
        // One bit per byte.
        let dots = SWAR.bits(dotLo) | SWAR.bits(dotHi) &<< 8
        let digits = SWAR.bits(digitLo) | SWAR.bits(digitHi) &<< 8
        let zeros = SWAR.bits(zeroLo) | SWAR.bits(zeroHi) &<< 8
        // Exactly three dots (clearing the lowest two set bits leaves one; no `popcnt` on
        // baseline x86-64), none first, last or next to another: every octet has a digit.
        let d1 = dots.trailingZeroBitCount
        let rest = dots & (dots &- 1)
        let d2 = rest.trailingZeroBitCount
        let third = rest & (rest &- 1)
        let d3 = third.trailingZeroBitCount
        bad |= third & (third &- 1) | (third == 0 ? 1 : 0)
        bad |= dots & (dots &>> 1 | 1 | 1 &<< UInt64(truncatingIfNeeded: count &- 1))
        // At most three digits in a row, and no '0' that starts an octet followed by a digit.
        bad |= digits & digits &>> 1 & digits &>> 2 & digits &>> 3
        bad |= zeros & (dots &<< 1 | 1) & digits &>> 1
        var address: UInt32 = 0
        Self.octet(p, count, start: 0, end: d1, into: &address, bad: &bad)
        Self.octet(p, count, start: d1 &+ 1, end: d2, into: &address, bad: &bad)
        Self.octet(p, count, start: d2 &+ 1, end: d3, into: &address, bad: &bad)
        Self.octet(p, count, start: d3 &+ 1, end: count, into: &address, bad: &bad)
        guard bad == 0 else { return nil }
        UnsafeMutableRawPointer(out).storeBytes(of: address.bigEndian, as: UInt32.self)
        return address
    }

    /// `fastIPv4` by the vector scanner (`SipHashLanes.scanIPv4`, SSSE3 in C) when `vector`,
    /// else by the Swift one out of line (so the batch loop inlines neither). Same answers.
    @inline(__always)
    static func fastIPv4(
        _ p: UnsafePointer<UInt8>, _ count: Int, _ out: UnsafeMutablePointer<UInt8>, vector: Bool
    ) -> UInt32? {
        guard vector else { return fastIPv4Outlined(p, count, out) }
        guard let address = SipHashLanes.scanIPv4(p, count) else { return nil }
        UnsafeMutableRawPointer(out).storeBytes(of: address.bigEndian, as: UInt32.self)
        return address
    }

    /// `fastIPv4`, not inlined.
    @inline(never)
    static func fastIPv4Outlined(_ p: UnsafePointer<UInt8>, _ count: Int, _ out: UnsafeMutablePointer<UInt8>) -> UInt32? {
        fastIPv4(p, count, out)
    }

    /// Values the octet `p[start..<end]` (1–3 digits once the shape is checked; `end` ≥ 1) of
    /// the `count` bytes at `p` and appends it to `address`; sets `bad` if it is over 255.
    /// The 4 bytes ending at `end` (or, for an octet ending before byte 4, the first 4 bytes
    /// shifted up) hold the digits in their top lanes: masked to them (and from ASCII to 0–9),
    /// lanes 1–3 are hundreds, tens, units. Reads only `p[0..<count]`, even for the nonsense
    /// `end` of a bad shape (whose result is then unused).
    @inline(__always)
    static func octet(
        _ p: UnsafePointer<UInt8>, _ count: Int, start: Int, end: Int, into address: inout UInt32, bad: inout UInt64
    ) {
        let from = min(max(end &- 4, 0), count &- 4)
        let loaded = UInt32(littleEndian: UnsafeRawPointer(p).loadUnaligned(fromByteOffset: from, as: UInt32.self))
        let window = loaded &<< UInt32(truncatingIfNeeded: 8 &* (4 &- (end &- from)))
        let keep = UInt32(0x0F0F_0F0F) &<< UInt32(truncatingIfNeeded: 8 &* (4 &- (end &- start)))
        let digits = window & keep
        // (100·hundreds + 10·tens + units) mod 256 in the top byte; over 255 compares as text.
        let value = (digits &* 0x64_0A01) &>> 24
        bad |= digits.byteSwapped > 0x02_0505 ? 1 : 0
        address = address &<< 8 | value
    }

    /// A name `DomainIndicator.canonicalize` accepts through its ASCII path unchanged but for
    /// lower-casing: labels of ASCII letters, digits and inner hyphens, 1–63 bytes, no two
    /// hyphens in a row (so no `xn--` label; the general path handles the rare `ab--c`), at least
    /// two labels, a last label that is not all digits, 3–253 bytes, no trailing dot. Writes the
    /// lower-cased name to `out`. With `hashing`, also feeds the message words of
    /// `prefix ‖ name` to `sip` and returns what its `finish` returns (`SipHash`: the 128-bit
    /// output; `SipWords`: (0, 0), the words stored for the four-lane kernel); without, (0, 0).
    ///
    /// With `detecting`, also refuses the two shapes of this class that `TypeDetector` gives
    /// another type: a leading `00` (phone, when the rest is digits and `-`/`.`) and a last
    /// label starting `0x` (WHATWG's hex-number rule: ipv4).
    ///
    /// Per 8 bytes: one load, lane masks for letters, digits and separators (`.`/`-`), one OR to
    /// lower-case (every accepted byte has bit 5 set once lower-cased), one store, and a SipHash
    /// block made of this word and the last two bytes of the previous one. Separators may not
    /// touch (that rules out `..`, `.-`, `-.` and `--` at once) nor start or end the name. The
    /// last label is found once, in the last 8 bytes (`NameEnd`).
    @inline(__always)
    static func fastDomain<Sink: SipAbsorber>(
        _ p: UnsafePointer<UInt8>, _ count: Int, _ out: UnsafeMutablePointer<UInt8>, detecting: Bool,
        hashing: Bool, sip: inout Sink, prefix: UInt16
    ) -> (UInt64, UInt64)? {
        let raw = UnsafeRawPointer(p)
        let target = UnsafeMutableRawPointer(out)
        let lowerCase = SWAR.broadcast(0x20)
        var carry = UInt64(prefix)  // message bytes not yet absorbed (low lanes)
        var state = NameScan()
        let fullWords = count &>> 3
        var offset = 0
        while offset < fullWords &<< 3 {
            let word = UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
            state.scan(word, valid: SWAR.high)
            let lower = word | lowerCase
            (target + offset).storeBytes(of: lower.littleEndian, as: UInt64.self)
            if hashing {
                sip.compress(carry | lower &<< 16)
                carry = lower &>> 48
            }
            offset &+= 8
        }
        let rest = count &- offset
        var tail: UInt64 = 0
        // The last min(count, 8) bytes, for the last label.
        var last: UInt64
        if count >= 8 {
            last = UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: count &- 8, as: UInt64.self))
            (target + (count &- 8)).storeBytes(of: (last | lowerCase).littleEndian, as: UInt64.self)
            if rest > 0 {
                tail = last &>> UInt64(truncatingIfNeeded: 8 &* (8 &- rest))
                state.scan(tail, valid: SWAR.firstLanes(rest))
            }
        } else {
            tail = SWAR.load(raw, count: count)
            state.scan(tail, valid: SWAR.firstLanes(count))
            SWAR.store(tail | lowerCase, to: target, count: count)
            last = tail
        }
        // No refused byte, no touching separators, none first or last.
        let firstByte = p[0]
        guard state.bad == 0, firstByte &- 0x2D >= 2, p[count &- 1] &- 0x2D >= 2 else { return nil }
        guard let lastDot = Self.lastLabel(p, count, last) else { return nil }
        if count > 63, !labelsFit(p, count) { return nil }
        if detecting {
            if firstByte == 0x30 && p[1] == 0x30 { return nil }
            if count &- lastDot > 3 && p[lastDot &+ 1] == 0x30 && p[lastDot &+ 2] | 0x20 == 0x78 { return nil }
        }
        guard hashing else { return (0, 0) }
        // The last 2 + rest message bytes: a full block and 0–1 more bytes, or 2–7 bytes.
        tail = (tail | lowerCase) & SWAR.expand(SWAR.firstLanes(rest))
        let total = UInt64(truncatingIfNeeded: count &+ 2)
        var final = carry | tail &<< 16
        if rest >= 6 {
            sip.compress(final)
            final = tail &>> 48
        }
        return sip.finish(total &<< 56 | final)
    }

    /// The index of the last dot of the checked name `p[0..<count]` if its last label is not
    /// all digits, else nil (also when there is no dot). `last` holds the last min(count, 8)
    /// bytes; the dot is nearly always among them (a last label of 7 bytes or fewer).
    @inline(__always)
    static func lastLabel(_ p: UnsafePointer<UInt8>, _ count: Int, _ last: UInt64) -> Int? {
        let base = count >= 8 ? count &- 8 : 0
        let valid = SWAR.firstLanes(count &- base)
        let separator = SWAR.inRange(last, 0x2D, 0x2E) & valid
        let dot = separator & ~(last &<< 7)  // '.' is even, '-' odd
        guard dot != 0 else { return lastLabelScalar(p, count) }
        let lane = 7 &- (dot.leadingZeroBitCount &>> 3)
        // A letter or hyphen after the dot.
        let nonDigit = (SWAR.inRange(last | SWAR.broadcast(0x20), 0x61, 0x7A) | separator) & valid
        guard (nonDigit &>> UInt64(truncatingIfNeeded: 8 &* lane)) &>> 8 != 0 else { return nil }
        return base &+ lane
    }

    /// `lastLabel` for a last label of 8 bytes or more, or no dot, a byte at a time.
    @inline(never)
    static func lastLabelScalar(_ p: UnsafePointer<UInt8>, _ count: Int) -> Int? {
        var index = count &- 1
        var allDigits = true
        while index >= 0, p[index] != 0x2E {
            if p[index] &- 0x30 >= 10 { allDigits = false }
            index &-= 1
        }
        return index >= 0 && !allDigits ? index : nil
    }

    /// Whether every label of the name `p[0..<count]` has at most 63 bytes (only names longer
    /// than 63 bytes can have a longer one).
    @inline(never)
    static func labelsFit(_ p: UnsafePointer<UInt8>, _ count: Int) -> Bool {
        var labelStart = 0
        for index in 0..<count where p[index] == 0x2E {
            if index &- labelStart > 63 { return false }
            labelStart = index &+ 1
        }
        return count &- labelStart <= 63
    }
}

/// What `Canonicalizer.fastDomain` has learnt from the words scanned so far.
struct NameScan {
    /// Non-zero once a byte is refused or two separators touch.
    var bad: UInt64 = 0
    /// Separator lanes of the previous word.
    var previousSeparators: UInt64 = 0

    /// Checks the word of name bytes (lanes outside the lane mask `valid` are zero and
    /// ignored): only letters, digits, '.' and '-', and no separator next to another. Lanes
    /// with the top bit set are refused first, so carries out of them change nothing.
    @inline(__always)
    mutating func scan(_ word: UInt64, valid: UInt64) {
        let letter = SWAR.inRange(word | SWAR.broadcast(0x20), 0x61, 0x7A)
        let digit = SWAR.inRange(word, 0x30, 0x39)
        let separator = SWAR.inRange(word, 0x2D, 0x2E)
        bad |= (word | ((letter | digit | separator) ^ valid)) & valid
        bad |= separator & (separator &<< 8 | previousSeparators &>> 56)
        previousSeparators = separator & valid
    }
}
