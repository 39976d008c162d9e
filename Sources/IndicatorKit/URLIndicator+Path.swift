/// Path and query canonicalisation for URL indicators (step 7 of `URLIndicator`'s
/// documentation).
extension URLIndicator {
    /// Writes the canonical path and query of `rest` (the unescaped URL after its authority:
    /// empty, or starting with `/`, `\` or `?`).
    ///
    /// The path always starts with `/`; `.` segments are dropped, `..` removes the segment
    /// before it (never above the root), empty segments (runs of `/`) are dropped, and a
    /// trailing `/` is kept — also when the last segment was `.` or `..`
    /// (`/blah/..` → `/`). The query, from the first `?`, is only escaped.
    static func writePathAndQuery(
        _ rest: UnsafeBufferPointer<UInt8>, into out: inout ByteWriter
    ) throws(IndicatorError) {
        let queryStart = rest.firstIndex(of: UInt8(ascii: "?")) ?? rest.count
        try mapOverflow { () throws(ByteWriter.Overflow) in
            let pathStart = out.count
            try out.append(UInt8(ascii: "/"))
            var segmentStart = 0
            while segmentStart <= queryStart {
                var segmentEnd = segmentStart
                while segmentEnd < queryStart, !isSlash(rest[segmentEnd]) { segmentEnd += 1 }
                let segment = UnsafeBufferPointer(rebasing: rest[segmentStart..<segmentEnd])
                let isLast = segmentEnd == queryStart
                if segment.isEmpty || isDot(segment) {
                    // dropped: `//` and `/./`
                } else if isDotDot(segment) {
                    // `out` ends with '/' here; drop the segment before it, if any.
                    if out.count > pathStart + 1 {
                        var slash = out.count - 2
                        while out[slash] != UInt8(ascii: "/") { slash -= 1 }
                        out.truncate(to: slash + 1)
                    }
                } else {
                    try appendEscaped(segment, to: &out)
                    if !isLast { try out.append(UInt8(ascii: "/")) }
                }
                segmentStart = segmentEnd + 1
            }
            if queryStart < rest.count {
                try out.append(UInt8(ascii: "?"))
                try appendEscaped(UnsafeBufferPointer(rebasing: rest[(queryStart + 1)...]), to: &out)
            }
        }
    }

    @inline(__always)
    private static func isDot(_ segment: UnsafeBufferPointer<UInt8>) -> Bool {
        segment.count == 1 && segment[0] == UInt8(ascii: ".")
    }

    @inline(__always)
    private static func isDotDot(_ segment: UnsafeBufferPointer<UInt8>) -> Bool {
        segment.count == 2 && segment[0] == UInt8(ascii: ".") && segment[1] == UInt8(ascii: ".")
    }
}
