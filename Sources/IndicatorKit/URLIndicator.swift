/// URL indicators: Safe Browsing canonicalisation, and the expressions a URL is matched by.
///
/// The rules are Google's "URLs and Hashing"
/// (https://developers.google.com/safe-browsing/v4/urls-hashing, and the newer
/// https://developers.google.com/safe-browsing/reference/URLs.and.Hashing for IPv6 hosts).
/// Decisions where sources disagree or are silent, in the order the steps run:
///
/// 1. ASCII whitespace is trimmed from both ends; tab, CR and LF are removed everywhere (their
///    escapes `%09`, `%0D`, `%0A` are kept). A raw NUL byte is refused: it is never part of a
///    real URL and truncates the value in C tools, while `%00` (same canonical form) is accepted.
/// 2. The fragment (from the first raw `#`) is removed *before* unescaping, so `%23` in a path
///    stays part of it (`http://host.com/ab%23cd` keeps `ab%23cd`).
/// 3. The rest is percent-unescaped repeatedly until no `%XY` (two hex digits) is left. Done in
///    one left-to-right pass that re-examines the last three output bytes after each decode;
///    because two escapes can never overlap, this reaches the same fixed point as repeated
///    whole-string passes, in linear time. A `%` not followed by two hex digits is a literal
///    `%` and comes out as `%25`.
/// 4. Scheme: `http`, `https` and `ftp` (case-insensitive), followed by `//` (or `\\`). `ftp` is
///    accepted because malware feeds list `ftp://` payloads and Safe Browsing's reference client
///    canonicalises them; note that the digest covers the expression without the scheme (as
///    Safe Browsing does), so `ftp://h/p`, `http://h/p` and `https://h/p` are the same
///    indicator. Any other scheme (`javascript:`, `mailto:`, `data:`, …) is refused. A value
///    without a scheme (`www.example.com/x`, `host:8080/x`, `//host/x`) gets `http://`.
/// 5. Userinfo (`user:pass@`) is dropped. *Every* port is dropped, not only the default one:
///    Safe Browsing discards the port from expressions, and its vectors expect
///    `http://www.gotaport.com:1234/` → `http://www.gotaport.com/`. A port must still be
///    decimal and at most 65535, or the URL is refused.
/// 6. Host (`URLIndicator+Host.swift`): lower case; leading/trailing dots removed and runs of
///    dots collapsed; a non-ASCII host that is valid UTF-8 goes through
///    `DomainIndicator.toASCII` (UTS #46) and is refused when that refuses it; a host that is
///    not valid UTF-8 is kept as bytes (escaped, as Safe Browsing's vectors expect for
///    `http://\x01\x80.com/`). IPv4 hosts in any legal inet_aton/WHATWG form (decimal, octal,
///    hex, 1–4 parts) become a dotted quad; a host whose last label is a number but which is
///    not a valid IPv4 address (`256.0.0.1`, `1.2.3.4.5`, `1.2.3.08`) is refused, as browsers
///    refuse it. IPv6 literals are normalised (WHATWG serialisation: lower-case hex, no leading
///    zeros, longest zero run as `::`, never dotted); IPv4-mapped (`::ffff:0:0/96`) and NAT64
///    (`64:ff9b::/96`) addresses become their IPv4 address, per the Safe Browsing reference.
/// 7. Path (`URLIndicator+Path.swift`): `\` is `/` (as browsers treat it for http(s)); `.` and
///    `..` segments resolved; runs of `/` collapsed; an empty path is `/`. The query string is
///    KEPT (as the v4 document does; Google's Go client drops it) and is not path-canonicalised.
/// 8. Bytes ≤ 0x20, ≥ 0x7F, `#` and `%` are escaped everywhere, with upper-case hex (the v4
///    document; the Go client writes lower case).
///
/// The result is idempotent: canonicalising a canonical URL returns it unchanged.
///
/// Allocation: the ASCII common case allocates nothing on the heap except the scratch buffer
/// for the unescaped URL (`withUnsafeTemporaryAllocation` of the input's length, on the stack
/// when the runtime allows it). Non-ASCII hosts (IDNA) use one more temporary buffer.
public enum URLIndicator {
    /// Canonicalises a URL indicator into `out` (the full canonical URL, scheme included).
    static func canonicalize(
        _ input: UnsafeBufferPointer<UInt8>, into out: inout ByteWriter
    ) throws(IndicatorError) -> CanonicalForm {
        guard input.count <= Canonicalizer.maxInputBytes else {
            throw .tooLong(limit: Canonicalizer.maxInputBytes)
        }
        let trimmed = Canonicalizer.trimWhitespace(input)
        guard !trimmed.isEmpty else { throw .empty }
        if let nul = trimmed.firstIndex(of: 0) {
            throw invalid("contains a NUL byte at offset \(nul) (write %00 if it is meant)")
        }
        return try withUnsafeTemporaryAllocation(of: UInt8.self, capacity: trimmed.count) {
            (scratch) throws(IndicatorError) -> CanonicalForm in
            let unescaped = unescapeRemovingFragment(trimmed, into: scratch)
            guard !unescaped.isEmpty else { throw invalid("nothing before the fragment ('#')") }
            try writeCanonical(unescaped, into: &out)
            return CanonicalForm(type: .url)
        }
    }

    /// The schemes a URL indicator may have (see the type's documentation, point 4).
    enum Scheme {
        case http, https, ftp

        var text: StaticString {
            switch self {
            case .http: "http"
            case .https: "https"
            case .ftp: "ftp"
            }
        }
    }

    /// Parses the unescaped URL and writes its canonical form.
    private static func writeCanonical(
        _ url: UnsafeBufferPointer<UInt8>, into out: inout ByteWriter
    ) throws(IndicatorError) {
        let (scheme, authorityStart) = try parseScheme(url)

        // Authority: up to the first '/', '\' or '?'.
        var authorityEnd = authorityStart
        while authorityEnd < url.count, !isAuthorityEnd(url[authorityEnd]) { authorityEnd += 1 }
        var hostStart = authorityStart
        if let at = url[authorityStart..<authorityEnd].lastIndex(of: UInt8(ascii: "@")) {
            hostStart = at + 1  // userinfo is dropped
        }
        let hostAndPort = UnsafeBufferPointer(rebasing: url[hostStart..<authorityEnd])
        let host = try splitPort(hostAndPort)

        try mapOverflow { () throws(ByteWriter.Overflow) in
            try appendStatic(scheme.text, to: &out)
            try appendStatic("://", to: &out)
        }
        try writeHost(host, scheme: scheme, into: &out)
        try writePathAndQuery(UnsafeBufferPointer(rebasing: url[authorityEnd...]), into: &out)
    }

    /// Finds the scheme and where the authority starts. A leading `name:` that is not a
    /// supported scheme is a port (`host:8080/x`) when digits follow it, and refused otherwise.
    private static func parseScheme(
        _ url: UnsafeBufferPointer<UInt8>
    ) throws(IndicatorError) -> (Scheme, Int) {
        var end = 0
        if let first = url.first, isASCIIAlpha(first) {
            end = 1
            while end < url.count, isSchemeByte(url[end]) { end += 1 }
        }
        guard end > 0, end < url.count, url[end] == UInt8(ascii: ":") else {
            // No scheme: `www.example.com/x`, or scheme-relative `//host/x`.
            let relative = url.count >= 2 && isSlash(url[0]) && isSlash(url[1])
            return (.http, relative ? 2 : 0)
        }
        let name = UnsafeBufferPointer(rebasing: url[0..<end])
        let scheme: Scheme
        if equalsIgnoringCase(name, "http") {
            scheme = .http
        } else if equalsIgnoringCase(name, "https") {
            scheme = .https
        } else if equalsIgnoringCase(name, "ftp") {
            scheme = .ftp
        } else if looksLikePort(url, after: end) {
            return (.http, 0)
        } else {
            throw invalid(
                "unsupported scheme '\(quoted(name))' (only http, https and ftp URLs are accepted)")
        }
        let rest = end + 1
        guard url.count - rest >= 2, isSlash(url[rest]), isSlash(url[rest + 1]) else {
            throw invalid("'//' expected after '\(scheme.text):'")
        }
        return (scheme, rest + 2)
    }

    /// Removes a `:port` suffix (checking it), returning the host part.
    private static func splitPort(
        _ hostAndPort: UnsafeBufferPointer<UInt8>
    ) throws(IndicatorError) -> UnsafeBufferPointer<UInt8> {
        let colon: Int?
        if hostAndPort.first == UInt8(ascii: "[") {
            guard let close = hostAndPort.firstIndex(of: UInt8(ascii: "]")) else {
                throw invalid("IPv6 host has no closing ']'")
            }
            if close + 1 == hostAndPort.count {
                colon = nil
            } else if hostAndPort[close + 1] == UInt8(ascii: ":") {
                colon = close + 1
            } else {
                throw invalid("unexpected characters after the IPv6 host's ']'")
            }
        } else {
            colon = hostAndPort.lastIndex(of: UInt8(ascii: ":"))
        }
        guard let colon else { return hostAndPort }
        let port = UnsafeBufferPointer(rebasing: hostAndPort[(colon + 1)...])
        var value = 0
        for byte in port {
            guard isASCIIDigit(byte) else {
                throw invalid("port '\(quoted(port))' is not a decimal number")
            }
            value = value * 10 + Int(byte - UInt8(ascii: "0"))
            guard value <= 65535 else { throw invalid("port \(quoted(port)) is above 65535") }
        }
        let host = UnsafeBufferPointer(rebasing: hostAndPort[..<colon])
        if host.first != UInt8(ascii: "["), host.contains(UInt8(ascii: ":")) {
            throw invalid("':' in host (an IPv6 address must be written in brackets)")
        }
        return host
    }

    /// Whether `name:` is followed by one or more digits and then the end, a path or a query.
    private static func looksLikePort(_ url: UnsafeBufferPointer<UInt8>, after colon: Int) -> Bool {
        var index = colon + 1
        while index < url.count, isASCIIDigit(url[index]) { index += 1 }
        return index > colon + 1 && (index == url.count || isAuthorityEnd(url[index]))
    }

    // MARK: - Small helpers shared by the URL files

    static func invalid(_ reason: String) -> IndicatorError { .invalid(.url, reason: reason) }

    /// Runs writer code, turning `ByteWriter.Overflow` into `IndicatorError.tooLong`.
    @inline(__always)
    static func mapOverflow<R>(
        _ body: () throws(ByteWriter.Overflow) -> R
    ) throws(IndicatorError) -> R {
        do { return try body() } catch { throw error.asIndicatorError }
    }

    @inline(__always)
    static func isAuthorityEnd(_ byte: UInt8) -> Bool {
        byte == UInt8(ascii: "/") || byte == UInt8(ascii: "\\") || byte == UInt8(ascii: "?")
    }

    @inline(__always)
    static func isSlash(_ byte: UInt8) -> Bool {
        byte == UInt8(ascii: "/") || byte == UInt8(ascii: "\\")
    }

    @inline(__always)
    static func isASCIIAlpha(_ byte: UInt8) -> Bool { (byte | 0x20) >= 0x61 && (byte | 0x20) <= 0x7A }

    @inline(__always)
    static func isASCIIDigit(_ byte: UInt8) -> Bool { byte >= 0x30 && byte <= 0x39 }

    @inline(__always)
    static func isSchemeByte(_ byte: UInt8) -> Bool {
        isASCIIAlpha(byte) || isASCIIDigit(byte) || byte == UInt8(ascii: "+")
            || byte == UInt8(ascii: "-") || byte == UInt8(ascii: ".")
    }

    @inline(__always)
    static func lowercased(_ byte: UInt8) -> UInt8 {
        (byte >= 0x41 && byte <= 0x5A) ? byte | 0x20 : byte
    }

    static func equalsIgnoringCase(_ bytes: UnsafeBufferPointer<UInt8>, _ text: StaticString) -> Bool {
        guard bytes.count == text.utf8CodeUnitCount else { return false }
        let expected = text.utf8Start
        for index in 0..<bytes.count where lowercased(bytes[index]) != expected[index] {
            return false
        }
        return true
    }

    static func appendStatic(_ text: StaticString, to out: inout ByteWriter) throws(ByteWriter.Overflow) {
        try out.append(UnsafeBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
    }

    /// A short printable rendering of untrusted bytes for error reasons: printable ASCII as
    /// is, anything else as `\xNN`, cut after 40 bytes.
    static func quoted(_ bytes: UnsafeBufferPointer<UInt8>) -> String {
        var text = ""
        for byte in bytes.prefix(40) {
            if byte >= 0x20 && byte < 0x7F && byte != UInt8(ascii: "'") && byte != UInt8(ascii: "\\") {
                text.unicodeScalars.append(Unicode.Scalar(byte))
            } else {
                let hex = String(byte, radix: 16, uppercase: true)
                text += "\\x" + (hex.count == 1 ? "0" + hex : hex)
            }
        }
        if bytes.count > 40 { text += "…" }
        return text
    }
}
