import Foundation

/// An IPv4 or IPv6 address in network byte order.
public enum IPAddress: Sendable, Equatable {
    case v4([UInt8])
    case v6([UInt8])

    /// Parses dotted-quad IPv4 or any RFC 4291 IPv6 text (a zone `%eth0` is ignored).
    public init?(_ text: String) {
        let plain = text.split(separator: "%", maxSplits: 1).first.map(String.init) ?? text
        var v4 = in_addr()
        if inet_pton(AF_INET, plain, &v4) == 1 {
            self = .v4(withUnsafeBytes(of: v4) { Array($0) })
            return
        }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, plain, &v6) == 1 {
            self = .v6(withUnsafeBytes(of: v6) { Array($0) })
            return
        }
        return nil
    }

    public var bytes: [UInt8] {
        switch self {
        case let .v4(bytes), let .v6(bytes): return bytes
        }
    }
}

/// An address range the operator allows (`fetch.allowed_addresses`): `10.1.2.3`,
/// `10.1.0.0/16`, `fd00::/8`.
public struct AddressRange: Sendable, Equatable, CustomStringConvertible {
    public let network: IPAddress
    public let prefixLength: Int
    public let description: String

    /// Nil when `text` is not an address or CIDR range.
    public init?(_ text: String) {
        let parts = text.trimmingCharacters(in: .whitespaces).split(separator: "/", maxSplits: 1).map(String.init)
        guard let first = parts.first, let network = IPAddress(first) else { return nil }
        let maximum = network.bytes.count * 8
        let length = parts.count == 2 ? Int(parts[1]) : maximum
        guard let length, (0...maximum).contains(length) else { return nil }
        self.network = network
        self.prefixLength = length
        self.description = text
    }

    public func contains(_ address: IPAddress) -> Bool {
        let a = network.bytes, b = address.bytes
        guard a.count == b.count else { return false }
        var remaining = prefixLength
        for index in 0..<a.count where remaining > 0 {
            let bits = min(8, remaining)
            let mask = UInt8(truncatingIfNeeded: 0xFF << (8 - bits))
            if a[index] & mask != b[index] & mask { return false }
            remaining -= bits
        }
        return true
    }
}
