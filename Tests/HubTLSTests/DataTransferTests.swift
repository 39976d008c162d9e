import Foundation
import Glibc
import HubTLS
import Testing

/// Application data after the handshake: round trips, large writes, shutdown.
@Suite struct DataTransferTests {
    @Test func bytesRoundTripBothWays() throws {
        let hub = try TestHub()
        let (directory, _) = try hub.issue("bank-a")
        let (pair, server, client, result) = try connect(try hub.pki.serverContext(), try hub.client(directory))
        try #require(result.serverError == nil && result.clientError == nil)
        for size in [1, 2, 100, 16383, 16384, 16385, 70000] {
            let message = (0..<size).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ size) }
            #expect(try transfer(message, from: client, writerSocket: pair.client, to: server, readerSocket: pair.server).received == message)
            #expect(try transfer(message, from: server, writerSocket: pair.server, to: client, readerSocket: pair.client).received == message)
        }
        #expect(server.bufferedBytes == 0)
    }

    @Test func largeWriteNeedsSeveralWantWriteCycles() throws {
        let hub = try TestHub()
        let (directory, _) = try hub.issue("isp-1", role: .isp)
        let (pair, server, client, result) = try connect(try hub.pki.serverContext(), try hub.client(directory))
        try #require(result.serverError == nil && result.clientError == nil)
        var state: UInt32 = 2_463_534_242
        let large = (0..<(4 << 20)).map { _ -> UInt8 in
            state ^= state << 13; state ^= state >> 17; state ^= state << 5   // xorshift32
            return UInt8(truncatingIfNeeded: state)
        }
        let (received, waits) = try transfer(large, from: client, writerSocket: pair.client, to: server, readerSocket: pair.server)
        #expect(received.count == large.count)
        #expect(received == large)
        #expect(waits >= 2, "the socket buffer should have filled several times, waited \(waits)")
    }

    @Test func shutdownSendsCloseNotifyThePeerReadsAsClosed() throws {
        let hub = try TestHub()
        let (directory, _) = try hub.issue("bank-a")
        let (pair, server, client, result) = try connect(try hub.pki.serverContext(), try hub.client(directory))
        try #require(result.serverError == nil && result.clientError == nil)
        #expect(try client.shutdown() == .complete)
        #expect(client.state == .closed)
        #expect(readUntilFailure(server, socket: pair.server) == nil)   // .closed, no error
        #expect(server.state == .closed)
        #expect(server.peer?.name == "bank-a")
        var buffer = [UInt8](repeating: 0, count: 8)
        #expect(try buffer.withUnsafeMutableBytes { raw in try server.read(into: raw) } == .closed)
    }

    @Test func peerVanishingWithoutCloseNotifyIsReported() throws {
        let hub = try TestHub()
        let (directory, _) = try hub.issue("bank-a")
        let (pair, server, _, result) = try connect(try hub.pki.serverContext(), try hub.client(directory))
        try #require(result.serverError == nil && result.clientError == nil)
        pair.closeClient()
        #expect(readUntilFailure(server, socket: pair.server) == .unexpectedEOF(duringHandshake: false))
        // Writing to the vanished peer is an error, not SIGPIPE.
        let bytes = [UInt8](repeating: 1, count: 10)
        #expect(throws: TLSError.self) {
            try bytes.withUnsafeBytes { raw in _ = try server.write(raw) }
        }
    }
}
