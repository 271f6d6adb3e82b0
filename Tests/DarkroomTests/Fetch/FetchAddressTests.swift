import DarkroomFetch
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// The address rules of DarkroomFetch, without a network: text and socket addresses.
@Suite struct FetchAddressTests {
    /// Every refused range, with addresses at its edges, and the public neighbours that pass.
    static let cases: [(String, AddressKind?)] = [
        // IPv4
        ("0.0.0.0", .unspecified), ("0.1.2.3", .reserved),
        ("10.0.0.0", .privateNetwork), ("10.255.255.255", .privateNetwork), ("11.0.0.1", nil), ("9.255.255.255", nil),
        ("172.16.0.1", .privateNetwork), ("172.31.255.255", .privateNetwork), ("172.15.255.255", nil), ("172.32.0.0", nil),
        ("192.168.0.1", .privateNetwork), ("192.168.255.255", .privateNetwork), ("192.169.0.1", nil),
        ("100.64.0.0", .sharedAddressSpace), ("100.127.255.255", .sharedAddressSpace), ("100.63.255.255", nil), ("100.128.0.0", nil),
        ("127.0.0.1", .loopback), ("127.255.255.254", .loopback), ("127.0.0.2", .loopback),
        ("169.254.0.1", .linkLocal), ("169.254.255.255", .linkLocal),
        ("169.254.169.254", .metadata), ("169.254.170.2", .metadata), ("100.100.100.200", .metadata), ("168.63.129.16", .metadata),
        ("192.0.0.8", .reserved), ("192.0.2.1", .reserved), ("198.18.0.1", .reserved), ("198.19.255.255", .reserved),
        ("198.51.100.7", .reserved), ("203.0.113.9", .reserved), ("192.88.99.1", .reserved),
        ("224.0.0.1", .multicast), ("239.255.255.255", .multicast),
        ("240.0.0.1", .reserved), ("255.255.255.254", .reserved), ("255.255.255.255", .broadcast),
        ("8.8.8.8", nil), ("1.1.1.1", nil), ("93.184.216.34", nil), ("223.255.255.255", nil),
        // IPv6
        ("::", .unspecified), ("::1", .loopback), ("[::1]", .loopback),
        ("fc00::1", .privateNetwork), ("fd12:3456::1", .privateNetwork), ("fdff:ffff::1", .privateNetwork),
        ("fe80::1", .linkLocal), ("febf::1", .linkLocal), ("fec0::1", .reserved),
        ("ff02::1", .multicast), ("ff0e::1", .multicast),
        ("fd00:ec2::254", .metadata), ("fd20:ce::254", .metadata), ("fd00:ec2::253", .privateNetwork),
        ("::ffff:127.0.0.1", .loopback), ("::ffff:7f00:1", .loopback), ("::ffff:10.1.2.3", .privateNetwork),
        ("::ffff:169.254.169.254", .metadata), ("::ffff:0.0.0.0", .unspecified), ("::ffff:100.64.0.1", .sharedAddressSpace),
        ("::ffff:8.8.8.8", nil),
        ("::127.0.0.1", .loopback), ("::169.254.169.254", .metadata), ("::8.8.8.8", .reserved),
        ("64:ff9b::127.0.0.1", .loopback), ("64:ff9b::8.8.8.8", nil), ("64:ff9b:1::1", .privateNetwork),
        ("2002:7f00:1::", .loopback), ("2002:a9fe:a9fe::1", .metadata), ("2002:808:808::1", nil),
        ("2001:db8::1", .reserved), ("2001::1", .reserved), ("3fff::1", .reserved), ("100::1", .reserved),
        ("4000::1", .reserved), ("::2", .reserved),
        ("2606:4700:4700::1111", nil), ("2a00:1450:4001::1", nil), ("2001:4860:4860::8888", nil),
    ]

    @Test(arguments: cases)
    func classifiesText(_ text: String, _ expected: AddressKind?) throws {
        let address = try #require(IPAddress(text), "\(text) parses")
        #expect(address.kind == expected, "\(text)")
    }

    /// The same through a sockaddr, as libcurl hands it to the socket check.
    @Test(arguments: cases)
    func classifiesSocketAddresses(_ text: String, _ expected: AddressKind?) throws {
        let address = try #require(IPAddress(text))
        var storage = sockaddr_storage()
        let length: Int
        if address.isIPv4 {
            var a = sockaddr_in()
            a.sin_family = sa_family_t(AF_INET)
            a.sin_port = UInt16(80).bigEndian
            withUnsafeMutableBytes(of: &a.sin_addr) { $0.copyBytes(from: address.bytes) }
            length = MemoryLayout<sockaddr_in>.size
            withUnsafeBytes(of: a) { raw in withUnsafeMutableBytes(of: &storage) { $0.copyMemory(from: raw) } }
        } else {
            var a = sockaddr_in6()
            a.sin6_family = sa_family_t(AF_INET6)
            a.sin6_port = UInt16(80).bigEndian
            withUnsafeMutableBytes(of: &a.sin6_addr) { $0.copyBytes(from: address.bytes) }
            length = MemoryLayout<sockaddr_in6>.size
            withUnsafeBytes(of: a) { raw in withUnsafeMutableBytes(of: &storage) { $0.copyMemory(from: raw) } }
        }
        let fromSocket = withUnsafePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { IPAddress(socketAddress: $0, length: length) }
        }
        #expect(fromSocket == address)
        #expect(fromSocket?.kind == expected, "\(text)")
        // Too short for its family, or another family: no address (the socket check refuses it).
        let short = withUnsafePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { IPAddress(socketAddress: $0, length: length - 1) }
        }
        #expect(short == nil)
    }

    @Test func textIsStrictAndCanonical() {
        for text in ["localhost", "127.1", "0x7f.0.0.1", "017700000001", "2130706433", "fe80::1%eth0", "1.2.3.4.5", "", "::ffff:1.2.3"] {
            #expect(IPAddress(text) == nil, "\(text)")
        }
        #expect(IPAddress("::FFFF:127.0.0.1")?.description == "::ffff:127.0.0.1")
        #expect(IPAddress("0:0:0:0:0:0:0:1")?.description == "::1")
        #expect(IPAddress("010.000.000.001") == nil || IPAddress("010.000.000.001")?.kind == .privateNetwork)
        #expect(IPAddress(bytes: [1, 2, 3]) == nil)
        #expect(IPAddress(bytes: [8, 8, 4, 4])?.description == "8.8.4.4")
    }

    @Test func policyAllowsOnlyTheListedAddresses() throws {
        let loopback = try #require(IPAddress("127.0.0.1"))
        var policy = FetchPolicy(maxBytes: 1)
        #expect(policy.refusal(of: loopback) == .loopback)
        policy.allowedPrivateAddresses = [loopback]
        #expect(policy.refusal(of: loopback) == nil)
        #expect(policy.refusal(of: try #require(IPAddress("127.0.0.2"))) == .loopback)
        #expect(policy.refusal(of: try #require(IPAddress("::1"))) == .loopback)
        #expect(policy.refusal(of: try #require(IPAddress("::ffff:127.0.0.1"))) == .loopback)
        #expect(policy.refusal(of: try #require(IPAddress("8.8.8.8"))) == nil)
    }

    @Test func urlsMustBeHTTPOrHTTPS() throws {
        #expect(try FetchPolicy.checkURL("http://example.com/a.png") == "http")
        #expect(try FetchPolicy.checkURL("HTTPS://example.com/a.png") == "https")
        for (url, scheme) in [("file:///etc/passwd", "file"), ("ftp://example.com/a", "ftp"), ("gopher://example.com:70/_x", "gopher"),
                              ("dict://example.com", "dict"), ("FILE:///x", "file"), ("data:image/png;base64,AAAA", "data")] {
            #expect(throws: FetchError.schemeNotAllowed(url: url, scheme: scheme)) { try FetchPolicy.checkURL(url) }
        }
        for url in ["http://example.com/a b", "http://example.com/\u{0}x", "http://ex\u{e4}mple.com/", "//example.com/x", "example.com", ":x"] {
            #expect(throws: FetchError.self) { try FetchPolicy.checkURL(url) }
            #expect((try? FetchPolicy.checkURL(url)) == nil)
        }
        let message = FetchError.addressRefused(url: "http://127.0.0.1:8080/x", hop: nil, address: try #require(IPAddress("127.0.0.1")),
                                                kind: .loopback).message
        #expect(message == "http://127.0.0.1:8080/x: refused: 127.0.0.1 is a loopback address (downloads may not reach private, "
                + "loopback, link-local or metadata addresses)")
    }
}
