import Foundation

/// HTTP dates (RFC 9110 IMF-fixdate, plus the obsolete RFC 850 and asctime forms) and
/// `Retry-After` values.
public enum HTTPDate {
    private static let formats = ["EEE, dd MMM yyyy HH:mm:ss zzz", "EEEE, dd-MMM-yy HH:mm:ss zzz", "EEE MMM d HH:mm:ss yyyy"]

    /// The instant an HTTP date names, or nil.
    public static func parse(_ text: String) -> Date? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        for format in formats {
            let formatter = DateFormatter()
            formatter.locale = Locale(identifier: "en_US_POSIX")
            formatter.timeZone = TimeZone(identifier: "GMT")
            formatter.dateFormat = format
            if let date = formatter.date(from: trimmed) { return date }
        }
        return nil
    }

    /// `Retry-After` is either a number of seconds or an HTTP date.
    public static func retryAfter(_ value: String, now: Date) -> Date? {
        let trimmed = value.trimmingCharacters(in: .whitespaces)
        if let seconds = Int(trimmed) { return seconds >= 0 ? now.addingTimeInterval(TimeInterval(seconds)) : nil }
        return parse(trimmed)
    }

    /// IMF-fixdate, as sent in headers.
    public static func format(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss 'GMT'"
        return formatter.string(from: date)
    }
}

/// Which addresses a URL from content may not reach: loopback, private (RFC 1918), link-local,
/// carrier-grade NAT, unspecified, multicast and broadcast IPv4; loopback, unspecified,
/// link-local, unique-local and multicast IPv6, and IPv4-mapped forms of the IPv4 ranges.
public enum AddressPolicy {
    public static func isPrivate(ipv4 address: (UInt8, UInt8, UInt8, UInt8)) -> Bool {
        let (a, b, _, _) = address
        switch a {
        case 0, 10, 127: return true
        case 100 where (64...127).contains(b): return true
        case 169 where b == 254: return true
        case 172 where (16...31).contains(b): return true
        case 192 where b == 168: return true
        case 224...255: return true
        default: return false
        }
    }

    public static func isPrivate(ipv6 bytes: [UInt8]) -> Bool {
        guard bytes.count == 16 else { return true }
        if bytes.allSatisfy({ $0 == 0 }) { return true }  // ::
        if bytes[0..<15].allSatisfy({ $0 == 0 }) && bytes[15] == 1 { return true }  // ::1
        if bytes[0] == 0xFE && (bytes[1] & 0xC0) == 0x80 { return true }  // fe80::/10
        if (bytes[0] & 0xFE) == 0xFC { return true }  // fc00::/7
        if bytes[0] == 0xFF { return true }  // multicast
        if bytes[0..<10].allSatisfy({ $0 == 0 }) && bytes[10] == 0xFF && bytes[11] == 0xFF {  // ::ffff:a.b.c.d
            return isPrivate(ipv4: (bytes[12], bytes[13], bytes[14], bytes[15]))
        }
        return false
    }
}
