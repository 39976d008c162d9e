internal import COpenSSL
import Glibc

/// A BIO over a connected non-blocking socket that uses `send(2)` with `MSG_NOSIGNAL` and
/// `recv(2)`. OpenSSL's own socket BIO calls `write(2)`, which raises `SIGPIPE` when the peer
/// has gone; a hostile client must not be able to kill the server that way, whatever the
/// process's signal disposition. The descriptor is borrowed: freeing the BIO never closes it.
enum SocketBIO {
    /// The method table, made once (`BIO_meth_new` is not reentrant-safe to repeat per call).
    nonisolated(unsafe) private static let method: OpaquePointer? = makeMethod()

    /// A new BIO for `socket`, or nil when OpenSSL cannot allocate one.
    static func make(socket: Int32) -> OpaquePointer? {
        guard let method, let bio = BIO_new(method) else { return nil }
        // Stored as fd + 1 so that descriptor 0 is not a null pointer.
        BIO_set_data(bio, UnsafeMutableRawPointer(bitPattern: Int(socket) + 1))
        BIO_set_init(bio, 1)
        return bio
    }

    private static func descriptor(_ bio: OpaquePointer?) -> Int32 {
        Int32(Int(bitPattern: BIO_get_data(bio)) - 1)
    }

    private static func makeMethod() -> OpaquePointer? {
        let type = BIO_get_new_index() | BIO_TYPE_SOURCE_SINK | BIO_TYPE_DESCRIPTOR
        guard let method = BIO_meth_new(type, "IndicatorHub socket") else { return nil }
        BIO_meth_set_write_ex(method) { bio, data, length, written in
            BIO_clear_flags(bio, BIO_FLAGS_READ | BIO_FLAGS_WRITE | BIO_FLAGS_IO_SPECIAL | BIO_FLAGS_SHOULD_RETRY)
            while true {
                let count = send(SocketBIO.descriptor(bio), data, length, Int32(MSG_NOSIGNAL))
                if count >= 0 {
                    written?.pointee = count
                    return 1
                }
                let code = errno
                if code == EINTR { continue }
                if code == EAGAIN || code == EWOULDBLOCK {
                    BIO_set_flags(bio, BIO_FLAGS_WRITE | BIO_FLAGS_SHOULD_RETRY)
                }
                errno = code
                return 0
            }
        }
        BIO_meth_set_read_ex(method) { bio, data, length, received in
            BIO_clear_flags(bio, BIO_FLAGS_READ | BIO_FLAGS_WRITE | BIO_FLAGS_IO_SPECIAL | BIO_FLAGS_SHOULD_RETRY)
            while true {
                let count = recv(SocketBIO.descriptor(bio), data, length, 0)
                if count > 0 {
                    received?.pointee = count
                    return 1
                }
                if count == 0 {
                    BIO_set_flags(bio, BIO_FLAGS_IN_EOF)
                    return 0
                }
                let code = errno
                if code == EINTR { continue }
                if code == EAGAIN || code == EWOULDBLOCK {
                    BIO_set_flags(bio, BIO_FLAGS_READ | BIO_FLAGS_SHOULD_RETRY)
                }
                errno = code
                return 0
            }
        }
        BIO_meth_set_ctrl(method) { bio, command, _, _ in
            switch command {
            case BIO_CTRL_FLUSH: 1
            case BIO_CTRL_EOF: BIO_test_flags(bio, BIO_FLAGS_IN_EOF) != 0 ? 1 : 0
            default: 0
            }
        }
        BIO_meth_set_create(method) { _ in 1 }
        BIO_meth_set_destroy(method) { _ in 1 }
        return method
    }
}
