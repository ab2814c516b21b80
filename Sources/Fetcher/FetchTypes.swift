import DatesAndCharsets
import FeedModel
import Foundation

/// One GET to perform.
public struct FetchRequest: Sendable, Equatable {
    public var url: String
    /// Validators from the last successful fetch, sent as If-None-Match / If-Modified-Since.
    public var etag: String?
    public var lastModified: String?
    /// `file://` is allowed only for configured feed URLs, never for URLs found in content.
    public var allowFileScheme: Bool
    /// The URL comes from feed content (an article link): only http/https, and addresses in
    /// loopback, private, link-local or unique-local ranges are refused unless the client allows
    /// private networks. Checked on every address connected, redirects included.
    public var fromContent: Bool
    /// Sent as the Accept header.
    public var accept: String
    /// A lower body limit than the client's for this request (article pages), bytes.
    public var maxBodyBytes: Int?
    /// A claim on a shared byte budget: the transfer starts only when it fits (see `ByteBudget`).
    public var ticket: ByteBudget.Ticket?

    public static let feedAccept = "application/rss+xml, application/atom+xml, application/feed+json, application/xml;q=0.9, text/xml;q=0.9, */*;q=0.8"

    public static let pageAccept = "text/html, application/xhtml+xml;q=0.9, */*;q=0.5"

    public init(url: String, etag: String? = nil, lastModified: String? = nil, allowFileScheme: Bool = false,
                fromContent: Bool = false, accept: String = FetchRequest.feedAccept, maxBodyBytes: Int? = nil,
                ticket: ByteBudget.Ticket? = nil) {
        self.maxBodyBytes = maxBodyBytes
        self.ticket = ticket
        self.url = url
        self.etag = etag
        self.lastModified = lastModified
        self.allowFileScheme = allowFileScheme && !fromContent
        self.fromContent = fromContent
        self.accept = accept
    }
}

/// One hop of a redirect chain.
public struct Redirect: Sendable, Equatable {
    public var status: Int
    public var location: String

    public init(status: Int, location: String) {
        self.status = status
        self.location = location
    }
}

/// A completed transfer. Any HTTP status is a response; only transport failures are errors.
public struct FetchResponse: Sendable, Equatable {
    /// The final HTTP status; 200 for a `file://` read.
    public var status: Int
    /// The URL of the final response, after redirects.
    public var effectiveURL: String
    /// Header fields of the final response, names lower-cased (the last of repeated fields).
    public var headers: [String: String]
    /// The decoded body (content encodings removed).
    public var body: [UInt8]
    /// The redirects followed, in order.
    public var redirects: [Redirect]
    /// The final response came from a non-public address although the first did not (possible
    /// only with `allow_private_networks`): such a move is never made permanent.
    public var movedToRestrictedAddress = false

    public var isNotModified: Bool { status == 304 }

    /// The document's base URI: its `Content-Location` (resolved against the effective URL)
    /// when the server sent one, else the effective URL (RFC 9110 8.7).
    public var baseURL: String {
        guard let location = headers["content-location"]?.trimmingCharacters(in: .whitespaces), !location.isEmpty,
              let base = URL(string: effectiveURL), let resolved = URL(string: location, relativeTo: base)?.absoluteURL,
              let scheme = resolved.scheme?.lowercased(), scheme == "http" || scheme == "https" else { return effectiveURL }
        return resolved.absoluteString
    }
    public var isSuccess: Bool { (200..<300).contains(status) }

    /// When every redirect followed was permanent (301/308), the URL the resource now lives at.
    public var permanentLocation: String? {
        guard !redirects.isEmpty, !movedToRestrictedAddress,
              redirects.allSatisfy({ $0.status == 301 || $0.status == 308 }) else { return nil }
        return effectiveURL
    }

    /// The server's `Retry-After` (seconds or an HTTP date) as an instant, if it sent one.
    public func retryAfter(now: Date = Date()) -> Date? {
        headers["retry-after"].flatMap { HTTPDate.retryAfter($0, now: now) }
    }

    /// How long the response may be reused, from `Cache-Control: max-age` (preferred) or
    /// `Expires` minus `Date`; `no-cache`/`no-store` give zero.
    public var freshnessLifetime: TimeInterval? {
        if let control = headers["cache-control"]?.lowercased() {
            for directive in control.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) {
                if directive == "no-cache" || directive == "no-store" { return 0 }
                if directive.hasPrefix("max-age="), let seconds = Int(directive.dropFirst(8)), seconds >= 0 {
                    return TimeInterval(seconds)
                }
            }
        }
        if let expires = headers["expires"] {
            guard let end = HTTPDate.parse(expires) else { return 0 }  // RFC 9111: an invalid Expires means "already expired".
            let start = headers["date"].flatMap(HTTPDate.parse) ?? Date()
            return max(0, end.timeIntervalSince(start))
        }
        return nil
    }

    public init(status: Int, effectiveURL: String, headers: [String: String], body: [UInt8], redirects: [Redirect] = []) {
        self.status = status
        self.effectiveURL = effectiveURL
        self.headers = headers
        self.body = body
        self.redirects = redirects
    }
}

/// Why a transfer failed, with the URL and what to do about it.
public struct FetchError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        case timeout
        case dns
        case connect
        case tls
        case tooManyRedirects
        /// The decoded body grew past the configured limit (bytes).
        case bodyTooLarge(limit: Int)
        case fileNotFound
        case schemeNotAllowed
        /// The connection would reach an address outside the public internet (`address`, with
        /// `reason` naming its range): a URL from content, or a redirect of a configured feed.
        case addressNotAllowed(address: String, reason: String)
        /// A redirect the client does not follow (https to http).
        case redirectRefused(String)
        /// The host asked us (429/503 with Retry-After) to wait until this instant.
        case hostBackoff(until: Date)
        case cancelled
        case transport
    }

    public var kind: Kind
    public var url: String
    public var detail: String

    public init(kind: Kind, url: String, detail: String) {
        self.kind = kind
        self.url = url
        self.detail = detail
    }

    public var description: String {
        switch kind {
        case .timeout: return "timed out fetching \(url) (\(detail)); the server is slow or unreachable, it is tried again later"
        case .dns: return "cannot resolve the host of \(url) (\(detail)); check the URL's host name"
        case .connect: return "cannot connect to \(url) (\(detail)); the server is down or refuses connections"
        case .tls: return "TLS failure for \(url) (\(detail)); the server's certificate is not trusted (add a CA bundle if it is a private CA)"
        case .tooManyRedirects: return "too many redirects or a redirect loop at \(url) (\(detail)); fix the URL to point at the final address"
        case let .bodyTooLarge(limit): return "the body of \(url) is larger than the limit of \(limit) bytes (\(detail)); raise fetch.max_body_bytes if the feed is really that large"
        case .fileNotFound: return "cannot read \(url) (\(detail)); check that the file exists"
        case .schemeNotAllowed: return "the URL scheme of \(url) is not allowed here (\(detail)); only http and https"
        case let .addressNotAllowed(address, reason):
            return "refused to fetch \(url): address not allowed (\(address) is \(reason)); if this server is meant to be reached, list it in fetch.allowed_addresses or set fetch.allow_private_networks: true"
        case let .redirectRefused(why): return "refused a redirect of \(url): \(why); fix the URL to point at the final address"
        case let .hostBackoff(until): return "not fetching \(url): the host asked to wait (Retry-After) until \(HTTPDate.format(until))"
        case .cancelled: return "the fetch of \(url) was cancelled"
        case .transport: return "fetching \(url) failed: \(detail)"
        }
    }
}

/// Client-wide settings.
public struct HTTPClientSettings: Sendable, Equatable {
    public var userAgent: String
    public var timeout: Double
    public var connectTimeout: Double
    /// Transfers slower than `lowSpeedLimit` bytes/s for `lowSpeedTime` seconds are aborted.
    public var lowSpeedLimit: Int
    public var lowSpeedTime: Int
    public var maxBodyBytes: Int
    public var maxRedirects: Int
    public var maxConnections: Int
    public var maxConnectionsPerHost: Int
    /// Minimum time between two request starts to one host (the politeness budget), seconds.
    public var hostDelay: Double
    /// Explicit proxy URL; nil uses the standard environment variables (http_proxy, ...).
    public var proxy: String?
    /// Extra CA certificates (PEM file) trusted besides the system's. Verification is always on.
    public var caBundle: String?
    /// Let URLs from content, and redirects of feeds, reach loopback and private networks
    /// (never the default).
    public var allowPrivateNetworks: Bool
    /// Non-public addresses that count as public (an intranet news server).
    public var allowedAddresses: [AddressRange]
    /// Send article pages and their robots.txt through the proxy too (the target's resolved
    /// address is still checked). Without it they go direct, so the connected peer is checked.
    public var proxyArticlePages: Bool

    public init(userAgent: String, timeout: Double = 60, connectTimeout: Double = 15, lowSpeedLimit: Int = 1024,
                lowSpeedTime: Int = 30, maxBodyBytes: Int = 16 << 20, maxRedirects: Int = 5,
                maxConnections: Int = 64, maxConnectionsPerHost: Int = 2, hostDelay: Double = 0,
                proxy: String? = nil, caBundle: String? = nil, allowPrivateNetworks: Bool = false,
                allowedAddresses: [AddressRange] = [], proxyArticlePages: Bool = false) {
        self.allowedAddresses = allowedAddresses
        self.proxyArticlePages = proxyArticlePages
        self.hostDelay = hostDelay
        self.proxy = proxy
        self.caBundle = caBundle
        self.allowPrivateNetworks = allowPrivateNetworks
        self.userAgent = userAgent
        self.timeout = timeout
        self.connectTimeout = connectTimeout
        self.lowSpeedLimit = lowSpeedLimit
        self.lowSpeedTime = lowSpeedTime
        self.maxBodyBytes = maxBodyBytes
        self.maxRedirects = maxRedirects
        self.maxConnections = maxConnections
        self.maxConnectionsPerHost = maxConnectionsPerHost
    }
}
