import FeedModel
import Foundation

/// Which addresses a fetch may not reach without the operator's say-so, and why: every range
/// IANA's special-purpose registries mark as not globally reachable (loopback, RFC 1918,
/// link-local, shared CGNAT space, benchmarking, documentation, protocol assignments, reserved,
/// multicast, broadcast), and the IPv6 forms that carry such an IPv4 address inside (mapped,
/// NAT64 64:ff9b::/96, 6to4 2002::/16).
public enum AddressPolicy {
    /// Why `address` is not a public internet address ("loopback", "private (RFC 1918)", ...),
    /// or nil when it is one.
    public static func restriction(ipv4 address: (UInt8, UInt8, UInt8, UInt8)) -> String? {
        let (a, b, c, d) = address
        switch (a, b, c) {
        case (0, _, _): return "unspecified (0.0.0.0/8)"
        case (10, _, _): return "private (RFC 1918)"
        case (100, 64...127, _): return "shared address space (100.64.0.0/10, carrier-grade NAT)"
        case (127, _, _): return "loopback"
        case (169, 254, _): return "link-local"
        case (172, 16...31, _): return "private (RFC 1918)"
        case (192, 0, 0): return "IETF protocol assignments (192.0.0.0/24)"
        case (192, 0, 2), (198, 51, 100), (203, 0, 113): return "documentation"
        case (192, 88, 99): return "6to4 relay anycast (192.88.99.0/24)"
        case (192, 168, _): return "private (RFC 1918)"
        case (198, 18...19, _): return "benchmarking (198.18.0.0/15)"
        case (224...239, _, _): return "multicast"
        case (255, 255, 255) where d == 255: return "broadcast"
        case (240...255, _, _): return "reserved (240.0.0.0/4)"
        default: return nil
        }
    }

    /// The same for a 16-byte IPv6 address.
    public static func restriction(ipv6 bytes: [UInt8]) -> String? {
        guard bytes.count == 16 else { return "not an IPv6 address" }
        func embedded(_ offset: Int, _ form: String) -> String? {
            let v4 = (bytes[offset], bytes[offset + 1], bytes[offset + 2], bytes[offset + 3])
            return restriction(ipv4: v4).map { "\(form) of \($0) \(v4.0).\(v4.1).\(v4.2).\(v4.3)" }
        }
        let prefix = bytes[0..<12]
        if prefix.allSatisfy({ $0 == 0 }) {
            if bytes[12..<15].allSatisfy({ $0 == 0 }) && bytes[15] <= 1 { return bytes[15] == 1 ? "loopback" : "unspecified" }
            return "IPv4-compatible (deprecated ::/96)"
        }
        if bytes[0..<10].allSatisfy({ $0 == 0 }) && bytes[10] == 0xFF && bytes[11] == 0xFF {
            return embedded(12, "IPv4-mapped form")
        }
        if bytes[0..<12].elementsEqual([0x00, 0x64, 0xFF, 0x9B, 0, 0, 0, 0, 0, 0, 0, 0]) { return embedded(12, "NAT64 form") }
        if bytes[0..<6].elementsEqual([0x00, 0x64, 0xFF, 0x9B, 0x00, 0x01]) { return "NAT64 local use (64:ff9b:1::/48)" }
        if bytes[0..<8].elementsEqual([0x01, 0x00, 0, 0, 0, 0, 0, 0]) { return "discard-only (100::/64)" }
        if bytes[0] == 0x20 && bytes[1] == 0x02 { return embedded(2, "6to4 form") }
        if bytes[0] == 0x20 && bytes[1] == 0x01 && bytes[2] <= 0x01 { return "IETF protocol assignments (2001::/23, Teredo included)" }
        if bytes[0] == 0x20 && bytes[1] == 0x01 && bytes[2] == 0x0D && bytes[3] == 0xB8 { return "documentation" }
        if (bytes[0] & 0xFE) == 0xFC { return "unique-local" }
        if bytes[0] == 0xFE && (bytes[1] & 0xC0) == 0x80 { return "link-local" }
        if bytes[0] == 0xFE && (bytes[1] & 0xC0) == 0xC0 { return "site-local (deprecated)" }
        if bytes[0] == 0xFF { return "multicast" }
        return nil
    }

    /// The restriction of a textual IPv4 or IPv6 address (as libcurl reports the connected
    /// peer); nil for a public address, a description for text that is no address at all.
    public static func restriction(of text: String) -> String? {
        guard let address = IPAddress(text) else { return "not an IP address" }
        switch address {
        case let .v4(bytes): return restriction(ipv4: (bytes[0], bytes[1], bytes[2], bytes[3]))
        case let .v6(bytes): return restriction(ipv6: bytes)
        }
    }

    public static func isPrivate(ipv4 address: (UInt8, UInt8, UInt8, UInt8)) -> Bool { restriction(ipv4: address) != nil }
    public static func isPrivate(ipv6 bytes: [UInt8]) -> Bool { restriction(ipv6: bytes) != nil }
}
