internal import COpenSSL

/// OpenSSL's thread-local error queue, drained into the messages of `TLSError` and `PKIError`.
enum OpenSSLErrors {
    /// One queued error: the library and reason codes and OpenSSL's reason text.
    struct Entry {
        var library: Int32
        var reason: Int32
        var text: String
    }

    /// Removes every queued error and returns them, oldest first.
    static func drain() -> [Entry] {
        var entries: [Entry] = []
        while true {
            let code = ERR_get_error()
            if code == 0 { break }
            let reason = COpenSSL_ERR_GET_REASON(code)
            let text = ERR_reason_error_string(code).map { String(cString: $0) } ?? "error \(reason)"
            entries.append(Entry(library: COpenSSL_ERR_GET_LIB(code), reason: reason, text: text))
        }
        return entries
    }

    /// Drains the queue into the reason texts.
    static func reasons() -> [String] { drain().map(\.text) }

    /// Throws `PKIError.openSSL` for `operation` unless `ok`.
    static func check(_ ok: Bool, _ operation: String) throws(PKIError) {
        if !ok { throw .openSSL(operation: operation, reasons: reasons()) }
    }

    /// Clears any stale errors before a call whose failure we are about to interpret.
    static func clear() { ERR_clear_error() }
}
