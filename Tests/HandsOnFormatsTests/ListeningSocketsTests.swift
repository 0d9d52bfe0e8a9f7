import Foundation
import HandsOnTestSupport
import Testing

@testable import HandsOnFormats

/// `/proc/PID/net/tcp` and `tcp6` of containers with no network (`--network none`), captured on Docker: busybox
/// httpd bound to 127.0.0.1:9090 and to every address, and one with a server on [::1]:9090 and on 127.0.0.2:8080 with
/// a client connected to it.
@Suite("Sockets listening in a container's namespace")
struct ListeningSocketsTests {
    static func table(_ name: String) throws -> String {
        try String(contentsOfFile: ListingFixtures.directory + "/../proc-net/\(name)", encoding: .utf8)
    }

    @Test func aServerBoundToTheLoopbackIsToldFromOneOnEveryAddress() throws {
        let loopback = try ListeningSocket.parse(table: Self.table("busybox-httpd-lo.tcp"))
        #expect(loopback.map(\.text) == ["127.0.0.1:9090"])
        #expect(loopback.allSatisfy { $0.isLoopback })
        let loopback6 = try ListeningSocket.parse(table: Self.table("busybox-httpd-lo.tcp6"))
        #expect(loopback6.isEmpty)

        let everywhere4 = try ListeningSocket.parse(table: Self.table("busybox-httpd-any.tcp"))
        #expect(everywhere4.isEmpty)
        let everywhere = try ListeningSocket.parse(table: Self.table("busybox-httpd-any.tcp6"))
        #expect(everywhere.map(\.text) == ["[::]:9090"])
        #expect(!everywhere.contains { $0.isLoopback })
    }

    @Test func otherLoopbackAddressesCountAndConnectionsAreNotListeners() throws {
        let v4 = try ListeningSocket.parse(table: Self.table("loopback6-and-connection.tcp"))
        // The connected row (state 06) is no listener.
        #expect(v4.map(\.text) == ["127.0.0.2:8080"])
        #expect(v4.allSatisfy { $0.isLoopback })
        let v6 = try ListeningSocket.parse(table: Self.table("loopback6-and-connection.tcp6"))
        #expect(v6.map(\.text) == ["[::1]:9090"])
        #expect(v6.allSatisfy { $0.isLoopback })
    }

    @Test func mappedAddressesAndGarbage() {
        let mapped = ListeningSocket(address: [UInt8](repeating: 0, count: 10) + [0xFF, 0xFF, 127, 0, 0, 1], port: 80)
        #expect(mapped.isLoopback)
        #expect(!ListeningSocket(address: [10, 0, 0, 5], port: 80).isLoopback)
        #expect(ListeningSocket.parse(table: "garbage\n 0: zz:1F90 00000000:0000 0A\n0: 0100007F 0A 0A 0A").isEmpty)
    }
}
