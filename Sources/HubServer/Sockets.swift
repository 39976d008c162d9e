import CHubSys
import Glibc

/// Why a socket or loop operation failed: the operation, what it was applied to, and `errno`.
public struct NetError: Error, Equatable, Sendable, CustomStringConvertible {
    public var operation: String
    public var target: String
    public var errno: Int32

    public var description: String {
        guard let text = strerror(errno) else { return "\(operation)(\(target)): errno \(errno)" }
        let message = String(cString: text)
        return "\(operation)(\(target)): \((message.first?.lowercased() ?? "") + message.dropFirst())"
    }
}

/// Thin wrappers over the socket calls the server needs: `-1` becomes a `NetError`, `EINTR`
/// is retried, and "would block" is a value (`nil`), not an error.
enum Sockets {
    @inline(__always)
    static func check(_ result: Int32, _ operation: String, _ target: String) throws(NetError) -> Int32 {
        guard result == -1 else { return result }
        throw NetError(operation: operation, target: target, errno: errno)
    }

    /// A non-blocking TCP socket listening on `host:port` (IPv4 or IPv6 literal, or
    /// `localhost`), with SO_REUSEADDR and, when `reusePort`, SO_REUSEPORT so that each event
    /// loop can own a listener on the same port and the kernel spreads connections.
    static func listen(host: String, port: UInt16, reusePort: Bool, backlog: Int32 = 1024) throws(NetError) -> Int32 {
        let target = "\(host):\(port)"
        let (family, address) = try socketAddress(host: host, port: port)
        let fd = try check(socket(family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0), "socket", target)
        var one: Int32 = 1
        _ = setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        if reusePort { _ = setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, socklen_t(MemoryLayout<Int32>.size)) }
        let bound = address.withUnsafeBytes { raw in
            bind(fd, raw.baseAddress!.assumingMemoryBound(to: sockaddr.self), socklen_t(raw.count))
        }
        do {
            _ = try check(bound, "bind", target)
            _ = try check(Glibc.listen(fd, backlog), "listen", target)
        } catch {
            Glibc.close(fd)
            throw error
        }
        return fd
    }

    /// The port a listening socket is bound to (for port 0 in tests).
    static func localPort(_ fd: Int32) -> UInt16 {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        _ = withUnsafeMutablePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        return withUnsafePointer(to: &storage) { pointer in
            pointer.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { UInt16(bigEndian: $0.pointee.sin_port) }
        }
    }

    /// `accept4` non-blocking; nil when no connection is pending.
    static func accept(_ fd: Int32) throws(NetError) -> Int32? {
        while true {
            let client = chub_accept_nonblocking(fd)
            if client >= 0 {
                var one: Int32 = 1
                _ = setsockopt(client, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
                return client
            }
            switch errno {
            case EINTR, ECONNABORTED: continue
            case EAGAIN, EWOULDBLOCK: return nil
            default: throw NetError(operation: "accept", target: "listener", errno: errno)
            }
        }
    }

    /// `read`; nil when it would block, 0 at end of stream.
    static func read(_ fd: Int32, into buffer: UnsafeMutableRawBufferPointer) throws(NetError) -> Int? {
        while true {
            let count = Glibc.read(fd, buffer.baseAddress, buffer.count)
            if count >= 0 { return count }
            switch errno {
            case EINTR: continue
            case EAGAIN, EWOULDBLOCK: return nil
            default: throw NetError(operation: "read", target: "fd \(fd)", errno: errno)
            }
        }
    }

    /// `write` (MSG_NOSIGNAL via send); nil when it would block.
    static func write(_ fd: Int32, _ bytes: UnsafeRawBufferPointer) throws(NetError) -> Int? {
        while true {
            let count = send(fd, bytes.baseAddress, bytes.count, Int32(MSG_NOSIGNAL))
            if count >= 0 { return count }
            switch errno {
            case EINTR: continue
            case EAGAIN, EWOULDBLOCK: return nil
            default: throw NetError(operation: "write", target: "fd \(fd)", errno: errno)
            }
        }
    }

    static func close(_ fd: Int32) { _ = Glibc.close(fd) }

    /// `setsockopt(SO_SNDBUF)`: caps the kernel's send buffer (which then no longer
    /// autotunes). Best effort: the kernel clamps the value to `net.core.wmem_max`.
    static func setSendBuffer(_ fd: Int32, bytes: Int) {
        var size = Int32(clamping: bytes)
        _ = setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, socklen_t(MemoryLayout<Int32>.size))
    }

    /// A sockaddr for a numeric IPv4/IPv6 host (or `localhost` → 127.0.0.1).
    static func socketAddress(host: String, port: UInt16) throws(NetError) -> (Int32, [UInt8]) {
        let name = host == "localhost" ? "127.0.0.1" : host
        var v4 = sockaddr_in()
        if inet_pton(AF_INET, name, &v4.sin_addr) == 1 {
            v4.sin_family = sa_family_t(AF_INET)
            v4.sin_port = port.bigEndian
            return (AF_INET, withUnsafeBytes(of: &v4) { Array($0) })
        }
        var v6 = sockaddr_in6()
        let inner = name.hasPrefix("[") && name.hasSuffix("]") ? String(name.dropFirst().dropLast()) : name
        if inet_pton(AF_INET6, inner, &v6.sin6_addr) == 1 {
            v6.sin6_family = sa_family_t(AF_INET6)
            v6.sin6_port = port.bigEndian
            return (AF_INET6, withUnsafeBytes(of: &v6) { Array($0) })
        }
        throw NetError(operation: "resolve", target: host, errno: EINVAL)
    }
}
