#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An IPv4 or IPv6 address: its 4 or 16 bytes in network order.
///
/// Made from text (``init(_:)``), from bytes (``init(bytes:)``) or from the socket address a
/// connection is about to use (``init(socketAddress:length:)``); ``kind`` tells whether a download
/// may connect to it.
public struct IPAddress: Sendable, Hashable, CustomStringConvertible {
    /// 4 bytes (IPv4) or 16 bytes (IPv6), network order.
    public let bytes: [UInt8]

    /// An address from its 4 (IPv4) or 16 (IPv6) bytes in network order; nil for any other count.
    public init?(bytes: [UInt8]) {
        guard bytes.count == 4 || bytes.count == 16 else { return nil }
        self.bytes = bytes
    }

    /// Parses dotted-quad IPv4 (`"127.0.0.1"`) or IPv6 text (`"::1"`, `"[::1]"`,
    /// `"::ffff:127.0.0.1"`) with `inet_pton`: strict, so `"0x7f.1"` or `"127.1"` is nil, as is a
    /// host name or an IPv6 zone (`"fe80::1%eth0"`).
    public init?(_ text: String) {
        var text = Substring(text)
        if text.hasPrefix("[") && text.hasSuffix("]") { text = text.dropFirst().dropLast() }
        var v4 = in_addr()
        var v6 = in6_addr()
        if inet_pton(AF_INET, String(text), &v4) == 1 {
            bytes = withUnsafeBytes(of: &v4) { Array($0) }
        } else if inet_pton(AF_INET6, String(text), &v6) == 1 {
            bytes = withUnsafeBytes(of: &v6) { Array($0) }
        } else {
            return nil
        }
    }

    /// The address of a `sockaddr_in` or `sockaddr_in6` of `length` bytes; nil for another
    /// family or a length too short for its family.
    public init?(socketAddress: UnsafePointer<sockaddr>, length: Int) {
        let family = Int32(socketAddress.pointee.sa_family)
        if family == AF_INET, length >= MemoryLayout<sockaddr_in>.size {
            var address = UnsafeRawPointer(socketAddress).loadUnaligned(as: sockaddr_in.self).sin_addr
            bytes = withUnsafeBytes(of: &address) { Array($0) }
        } else if family == AF_INET6, length >= MemoryLayout<sockaddr_in6>.size {
            var address = UnsafeRawPointer(socketAddress).loadUnaligned(as: sockaddr_in6.self).sin6_addr
            bytes = withUnsafeBytes(of: &address) { Array($0) }
        } else {
            return nil
        }
    }

    /// True for IPv4.
    public var isIPv4: Bool { bytes.count == 4 }

    /// The canonical text (`inet_ntop`): `"127.0.0.1"`, `"::1"`, `"::ffff:127.0.0.1"`.
    public var description: String {
        var text = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN) + 1)
        let family = isIPv4 ? AF_INET : AF_INET6
        let ok = bytes.withUnsafeBytes { inet_ntop(family, $0.baseAddress, &text, socklen_t(text.count)) } != nil
        guard ok else { return bytes.map(String.init).joined(separator: ".") }
        return String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Why a download may not connect here, or nil for a public unicast address.
    ///
    /// IPv4: 0/8 (0.0.0.0 unspecified), 10/8, 172.16/12, 192.168/16 (private), 100.64/10 (shared,
    /// carrier-grade NAT), 127/8 (loopback), 169.254/16 (link-local), the documentation, benchmarking
    /// and IETF special-purpose blocks, 224/4 (multicast), 240/4 (reserved), 255.255.255.255
    /// (broadcast), and the cloud metadata addresses (169.254.169.254, 169.254.170.2,
    /// 100.100.100.200, 168.63.129.16). IPv6: `::`, `::1`, fc00::/7 (unique local), fe80::/10,
    /// fec0::/10, ff00::/8, the documentation and special-purpose blocks, anything outside
    /// 2000::/3, the metadata addresses fd00:ec2::254 and fd20:ce::254; an IPv4-mapped
    /// (`::ffff:a.b.c.d`), IPv4-compatible (`::a.b.c.d`), NAT64 (`64:ff9b::a.b.c.d`) or 6to4
    /// (`2002:AABB:CCDD::`) address is judged by the IPv4 address inside it.
    public var kind: AddressKind? {
        isIPv4 ? Self.kind(v4: bytes[0], bytes[1], bytes[2], bytes[3]) : Self.kind(v6: bytes)
    }

    /// Cloud metadata services (AWS, GCP, Azure, Oracle: 169.254.169.254; AWS ECS: 169.254.170.2;
    /// Alibaba: 100.100.100.200; Azure's host endpoint: 168.63.129.16, a public-looking address).
    static let metadataV4: Set<[UInt8]> = [[169, 254, 169, 254], [169, 254, 170, 2], [100, 100, 100, 200], [168, 63, 129, 16]]
    /// AWS's IPv6 instance metadata (fd00:ec2::254) and GCP's (fd20:ce::254).
    static let metadataV6: Set<[UInt8]> = [
        [0xfd, 0x00, 0x0e, 0xc2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x02, 0x54],
        [0xfd, 0x20, 0x00, 0xce, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x02, 0x54],
    ]

    static func kind(v4 a: UInt8, _ b: UInt8, _ c: UInt8, _ d: UInt8) -> AddressKind? {
        if metadataV4.contains([a, b, c, d]) { return .metadata }
        switch (a, b, c) {
        case (0, _, _): return a == 0 && b == 0 && c == 0 && d == 0 ? .unspecified : .reserved  // "this network"
        case (10, _, _), (172, 16...31, _), (192, 168, _): return .privateNetwork
        case (100, 64...127, _): return .sharedAddressSpace
        case (127, _, _): return .loopback
        case (169, 254, _): return .linkLocal
        case (192, 0, 0), (192, 0, 2), (192, 88, 99), (198, 18...19, _), (198, 51, 100), (203, 0, 113):
            return .reserved  // IETF assignments, documentation, 6to4 relays, benchmarking
        case (224...239, _, _): return .multicast
        case (255, 255, 255) where d == 255: return .broadcast
        case (240...255, _, _): return .reserved
        default: return nil
        }
    }

    static func kind(v6 b: [UInt8]) -> AddressKind? {
        if metadataV6.contains(b) { return .metadata }
        let zeros = { (range: Range<Int>) in b[range].allSatisfy { $0 == 0 } }
        if zeros(0..<16) { return .unspecified }
        if zeros(0..<15) && b[15] == 1 { return .loopback }
        if zeros(0..<10) && b[10] == 0xff && b[11] == 0xff { return kind(v4: b[12], b[13], b[14], b[15]) }  // ::ffff:a.b.c.d
        if zeros(0..<12) { return kind(v4: b[12], b[13], b[14], b[15]) ?? .reserved }  // ::a.b.c.d (deprecated)
        if b[0...3] == [0x00, 0x64, 0xff, 0x9b] && zeros(4..<12) { return kind(v4: b[12], b[13], b[14], b[15]) }  // NAT64
        if b[0...3] == [0x00, 0x64, 0xff, 0x9b] && b[4...5] == [0x00, 0x01] { return .privateNetwork }  // local NAT64
        if b[0] == 0x20 && b[1] == 0x02 { return kind(v4: b[2], b[3], b[4], b[5]) }  // 6to4
        if b[0] == 0xff { return .multicast }
        if b[0] == 0xfe && b[1] & 0xc0 == 0x80 { return .linkLocal }
        if b[0] == 0xfe && b[1] & 0xc0 == 0xc0 { return .reserved }  // site-local (deprecated)
        if b[0] & 0xfe == 0xfc { return .privateNetwork }  // unique local
        if b[0] & 0xe0 != 0x20 { return .reserved }  // not global unicast (100::/64 discard among them)
        if b[0] == 0x20 && b[1] == 0x01 && b[2] & 0xfe == 0 { return .reserved }  // 2001::/23: Teredo, ORCHID, ...
        if b[0...3] == [0x20, 0x01, 0x0d, 0xb8] { return .reserved }  // documentation
        if b[0] == 0x3f && b[1] == 0xff && b[2] & 0xf0 == 0 { return .reserved }  // documentation (3fff::/20)
        return nil
    }
}

/// Why an address is not for downloads: each kind of address that is not public unicast.
public enum AddressKind: String, Sendable, CaseIterable {
    /// 127/8, ::1 (this machine).
    case loopback
    /// RFC 1918 (10/8, 172.16/12, 192.168/16), fc00::/7 (unique local), local-use NAT64.
    case privateNetwork = "private"
    /// 100.64/10, the carrier-grade NAT shared address space.
    case sharedAddressSpace = "shared"
    /// 169.254/16, fe80::/10.
    case linkLocal = "link-local"
    /// A cloud instance metadata service (169.254.169.254, fd00:ec2::254, ...).
    case metadata
    /// 0.0.0.0, :: (on Linux, connecting there reaches this machine).
    case unspecified
    /// 224/4, ff00::/8.
    case multicast
    /// 255.255.255.255.
    case broadcast
    /// Every other special-purpose block: 0/8, 240/4, documentation, benchmarking, deprecated forms.
    case reserved

    /// "a loopback address", "a private address", …
    public var phrase: String {
        switch self {
        case .loopback: "a loopback address"
        case .privateNetwork: "a private address"
        case .sharedAddressSpace: "a shared (carrier-grade NAT) address"
        case .linkLocal: "a link-local address"
        case .metadata: "a cloud metadata address"
        case .unspecified: "an unspecified address"
        case .multicast: "a multicast address"
        case .broadcast: "a broadcast address"
        case .reserved: "a reserved (special-purpose) address"
        }
    }
}
