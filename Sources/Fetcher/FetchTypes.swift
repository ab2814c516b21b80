import Foundation

/// One GET to perform.
public struct FetchRequest: Sendable, Equatable {
    public var url: String
    /// Validators from the last successful fetch, sent as If-None-Match / If-Modified-Since.
    public var etag: String?
    public var lastModified: String?
    /// `file://` is allowed only for configured feed URLs, never for URLs found in content.
    public var allowFileScheme: Bool
    /// Sent as the Accept header.
    public var accept: String

    public static let feedAccept = "application/rss+xml, application/atom+xml, application/feed+json, application/xml;q=0.9, text/xml;q=0.9, */*;q=0.8"

    public init(url: String, etag: String? = nil, lastModified: String? = nil, allowFileScheme: Bool = false,
                accept: String = FetchRequest.feedAccept) {
        self.url = url
        self.etag = etag
        self.lastModified = lastModified
        self.allowFileScheme = allowFileScheme
        self.accept = accept
    }
}

/// One hop of a redirect chain.
public struct Redirect: Sendable, Equatable {
    public var status: Int
    public var location: String
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

    public var isNotModified: Bool { status == 304 }
    public var isSuccess: Bool { (200..<300).contains(status) }

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

    public init(userAgent: String, timeout: Double = 60, connectTimeout: Double = 15, lowSpeedLimit: Int = 1024,
                lowSpeedTime: Int = 30, maxBodyBytes: Int = 16 << 20, maxRedirects: Int = 5,
                maxConnections: Int = 64, maxConnectionsPerHost: Int = 2) {
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
