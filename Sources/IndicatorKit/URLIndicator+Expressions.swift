/// The Safe Browsing expressions of a canonical URL: what a URL digest covers, and which
/// digests a queried URL is probed with.
extension URLIndicator {
    /// The part of a canonical URL the digest covers: the Safe Browsing expression, i.e. the
    /// canonical URL without `scheme://` (`http://evil.example/a?x=1` → `evil.example/a?x=1`).
    ///
    /// Everything else Safe Browsing leaves out of expressions — userinfo, port, fragment — is
    /// already gone from the canonical form, so the expression is a suffix of it (no copy).
    /// Consequently `http`, `https` and `ftp` URLs with the same host and path share a digest.
    public static func expressionBody(_ canonical: UnsafeBufferPointer<UInt8>) -> UnsafeBufferPointer<UInt8> {
        // The scheme contains no ':', so the first ':' ends it.
        guard let colon = canonical.firstIndex(of: UInt8(ascii: ":")),
            canonical.count - colon >= 3,
            canonical[colon + 1] == UInt8(ascii: "/"), canonical[colon + 2] == UInt8(ascii: "/")
        else { return canonical }
        return UnsafeBufferPointer(rebasing: canonical[(colon + 3)...])
    }

    /// Calls `body` with every Safe Browsing host-suffix / path-prefix expression of the
    /// canonical URL `canonical`, the exact expression first, each once.
    ///
    /// Hosts (at most 5): the exact host, then — unless it is an IP address — the hosts formed
    /// from its last five components by successively removing the leading one, down to two
    /// components (`a.b.c.d.e.f.g` → `c.d.e.f.g`, `d.e.f.g`, `e.f.g`, `f.g`).
    /// Paths (at most 6): the exact path with the query, the exact path without it, then the
    /// path up to and including each of its first four `/` (`/`, `/1/`, `/1/2/`, `/1/2/3/`).
    /// Host-major order, as in the Safe Browsing document's examples.
    ///
    /// Every such expression is a contiguous slice of the canonical URL (a host suffix ends
    /// where the host ends, and every path variant is a prefix of path + query), so `body`
    /// receives slices of `canonical` itself: no copy and no allocation.
    public static func forEachLookupExpression(
        _ canonical: UnsafeBufferPointer<UInt8>, _ body: (UnsafeBufferPointer<UInt8>) -> Void
    ) {
        let expression = expressionBody(canonical)
        let base = canonical.count - expression.count  // offset of the expression in `canonical`
        let slash = UInt8(ascii: "/")
        let hostEnd = base + (expression.firstIndex(of: slash) ?? expression.count)
        let queryStart = canonical[hostEnd...].firstIndex(of: UInt8(ascii: "?")) ?? canonical.count

        func emitPaths(hostStart: Int) {
            if queryStart < canonical.count {
                body(UnsafeBufferPointer(rebasing: canonical[hostStart..<canonical.count]))
            }
            body(UnsafeBufferPointer(rebasing: canonical[hostStart..<queryStart]))
            var prefixes = 0
            var index = hostEnd
            while prefixes < 4, index < queryStart {
                if canonical[index] == slash {
                    prefixes += 1
                    if index + 1 != queryStart {
                        body(UnsafeBufferPointer(rebasing: canonical[hostStart...index]))
                    }
                }
                index += 1
            }
        }

        emitPaths(hostStart: base)
        let host = UnsafeBufferPointer(rebasing: canonical[base..<hostEnd])
        guard !isIPHost(host) else { return }
        // Suffixes of 5, 4, 3, 2 components; start of the suffix after the n-th dot from the end.
        for components in stride(from: 5, through: 2, by: -1) {
            var dots = 0
            var index = hostEnd - 1
            while index >= base {
                if canonical[index] == UInt8(ascii: ".") {
                    dots += 1
                    if dots == components { break }
                }
                index -= 1
            }
            // Only a proper suffix (the exact host was done above).
            if dots == components { emitPaths(hostStart: index + 1) }
        }
    }

    /// Whether a canonical host is an IP address: a bracketed IPv6 literal or a dotted quad
    /// (canonicalisation turns every IPv4 form into one, and refuses other numeric hosts).
    static func isIPHost(_ host: UnsafeBufferPointer<UInt8>) -> Bool {
        if host.first == UInt8(ascii: "[") { return true }
        var dots = 0
        for byte in host {
            if byte == UInt8(ascii: ".") {
                dots += 1
            } else if !isASCIIDigit(byte) {
                return false
            }
        }
        return dots == 3
    }
}
