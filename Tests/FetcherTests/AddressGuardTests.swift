import FeedModel
import Fetcher
import Foundation
import TestSupport
import Testing

/// The address policy holds for every request a transfer makes: reused connections, redirects
/// (of content URLs and of configured feeds), proxies, and https → http downgrades. Two servers
/// on 127.0.0.2 and 127.0.0.1 stand in for a public publisher and a private service; the first
/// is made "public" with `allowedAddresses`, as an operator would allow an intranet server.
@Suite(.serialized) final class AddressGuardTests {
    let publisher: TestHTTPServer
    let secret: TestHTTPServer
    let feed = "<rss version=\"2.0\"><channel><title>t</title></channel></rss>"

    init() throws {
        publisher = try TestHTTPServer(host: "127.0.0.2")
        secret = try TestHTTPServer(host: "127.0.0.1")
        try publisher.put("feed.xml", feed)
        try secret.put("feed.xml", feed)
        try secret.put("secret.txt", "the private service's secret")
    }

    deinit {
        publisher.stop()
        secret.stop()
    }

    func client(_ configure: (inout HTTPClientSettings) -> Void = { _ in }) -> HTTPClient {
        var settings = HTTPClientSettings(userAgent: "feedcorpus-test/1.0", timeout: 10)
        settings.allowedAddresses = [AddressRange("127.0.0.2")].compactMap { $0 }
        configure(&settings)
        return HTTPClient(settings: settings)
    }

    func expectRefused(_ client: HTTPClient, _ request: FetchRequest, address: String = "127.0.0.1",
                       sourceLocation: SourceLocation = #_sourceLocation) async {
        do {
            let response = try await client.fetch(request)
            Issue.record("expected a refusal, got HTTP \(response.status) from \(response.effectiveURL)", sourceLocation: sourceLocation)
        } catch {
            #expect(error.kind == .addressNotAllowed(address: address, reason: "loopback"), "\(error)", sourceLocation: sourceLocation)
            #expect(error.description.contains("address not allowed (\(address) is loopback)"), "\(error)", sourceLocation: sourceLocation)
        }
    }

    @Test func aReusedConnectionIsCheckedToo() async throws {
        let client = client()
        defer { client.shutdown() }
        // A configured feed on the private server leaves a connection to it in the cache ...
        #expect(try await client.fetch(FetchRequest(url: secret.url("files/feed.xml"))).status == 200)
        // ... which a link from another feed's content must not get to use.
        await expectRefused(client, FetchRequest(url: secret.url("files/secret.txt"), fromContent: true))
        #expect(!secret.requestedPaths().contains("/files/secret.txt"))
    }

    @Test func aContentURLRedirectedToAPrivateAddressIsRefused() async throws {
        let client = client()
        defer { client.shutdown() }
        let hop = publisher.url("goto/302/" + secret.url("files/secret.txt").addingPercentEncoding(withAllowedCharacters: .alphanumerics)!)
        await expectRefused(client, FetchRequest(url: hop, fromContent: true))
        #expect(!secret.requestedPaths().contains("/files/secret.txt"))
        // The publisher itself is reachable: the allowance works, the refusal is the hop's.
        #expect(try await client.fetch(FetchRequest(url: publisher.url("files/feed.xml"), fromContent: true)).status == 200)
    }

    @Test func aConfiguredFeedMayNotBeRedirectedFromPublicToPrivate() async throws {
        let client = client()
        defer { client.shutdown() }
        for status in [302, 301] {
            let hop = publisher.url("goto/\(status)/" + secret.url("files/secret.txt").addingPercentEncoding(withAllowedCharacters: .alphanumerics)!)
            await expectRefused(client, FetchRequest(url: hop))
        }
        #expect(!secret.requestedPaths().contains("/files/secret.txt"))
        // A configured feed that is itself private may redirect within private space.
        let inside = try await client.fetch(FetchRequest(url: secret.url("moved/feed.xml")))
        #expect(inside.status == 200)
        #expect(inside.permanentLocation == secret.url("files/feed.xml"))
    }

    @Test func aPermanentMoveToAPrivateAddressIsNeverMadePermanent() async throws {
        // Even where private networks are allowed, a public feed's 301 to a private address is
        // followed for this fetch but not offered as the feed's new home.
        let client = client { $0.allowPrivateNetworks = true }
        defer { client.shutdown() }
        let hop = publisher.url("goto/301/" + secret.url("files/feed.xml").addingPercentEncoding(withAllowedCharacters: .alphanumerics)!)
        let response = try await client.fetch(FetchRequest(url: hop))
        #expect(response.status == 200)
        #expect(response.movedToRestrictedAddress)
        #expect(response.permanentLocation == nil)
    }

    @Test func httpsIsNeverRedirectedToHTTP() async throws {
        let tlsServer = try TestHTTPServer(host: "127.0.0.2", tls: true)
        defer { tlsServer.stop() }
        try tlsServer.put("feed.xml", feed)
        let client = client { $0.caBundle = tlsServer.certificate }
        defer { client.shutdown() }
        #expect(try await client.fetch(FetchRequest(url: tlsServer.url("files/feed.xml"))).status == 200)
        let downgrade = tlsServer.url("goto/302/" + publisher.url("files/feed.xml?downgraded").addingPercentEncoding(withAllowedCharacters: .alphanumerics)!)
        do {
            _ = try await client.fetch(FetchRequest(url: downgrade))
            Issue.record("an https → http redirect must be refused")
        } catch {
            guard case .redirectRefused = error.kind else { Issue.record("unexpected \(error)"); return }
            #expect(error.description.contains("not https"))
        }
        #expect(!publisher.requestedPaths().contains { $0.contains("downgraded") })
        // https → https is followed.
        let upgrade = tlsServer.url("goto/302/" + tlsServer.url("files/feed.xml").addingPercentEncoding(withAllowedCharacters: .alphanumerics)!)
        #expect(try await client.fetch(FetchRequest(url: upgrade)).status == 200)
    }

    @Test func contentURLsBypassTheProxyUnlessTheOperatorSaysOtherwise() async throws {
        // The "proxy" is the publisher server (it serves absolute-form requests itself).
        let direct = client { $0.proxy = self.publisher.url(""); $0.allowPrivateNetworks = true }
        defer { direct.shutdown() }
        #expect(try await direct.fetch(FetchRequest(url: secret.url("files/feed.xml?page"), fromContent: true)).status == 200)
        #expect(secret.requestedPaths().contains("/files/feed.xml?page"))
        #expect(!publisher.requestedPaths().contains { $0.contains("feed.xml?page") })
        // A configured feed does use the proxy.
        #expect(try await direct.fetch(FetchRequest(url: secret.url("files/feed.xml?feed"))).status == 200)
        #expect(publisher.requestedPaths().contains { $0.contains("feed.xml?feed") })
    }

    @Test func throughTheProxyTheTargetIsStillChecked() async throws {
        let proxied = client { $0.proxy = self.publisher.url(""); $0.proxyArticlePages = true }
        defer { proxied.shutdown() }
        await expectRefused(proxied, FetchRequest(url: secret.url("files/secret.txt?via-proxy"), fromContent: true))
        await expectRefused(proxied, FetchRequest(url: "http://localhost:\(secret.port)/files/secret.txt?via-proxy", fromContent: true))
        #expect(!publisher.requestedPaths().contains { $0.contains("via-proxy") })
        #expect(!secret.requestedPaths().contains { $0.contains("via-proxy") })
        // An allowed target goes through the proxy.
        #expect(try await proxied.fetch(FetchRequest(url: publisher.url("files/feed.xml?allowed"), fromContent: true)).status == 200)
        #expect(publisher.requestedPaths().contains { $0.hasPrefix("http://127.0.0.2") && $0.hasSuffix("/files/feed.xml?allowed") })  // absolute form: through the proxy
    }

    @Test func aConfiguredFeedThroughTheProxyMayNotBeRedirectedToAPrivateAddress() async throws {
        let proxied = client { $0.proxy = self.publisher.url("") }
        defer { proxied.shutdown() }
        // The feed itself goes through the proxy unchecked; its redirect's target is checked.
        #expect(try await proxied.fetch(FetchRequest(url: publisher.url("files/feed.xml?plain"))).status == 200)
        let hop = publisher.url("goto/302/" + secret.url("files/secret.txt?proxied-hop").addingPercentEncoding(withAllowedCharacters: .alphanumerics)!)
        await expectRefused(proxied, FetchRequest(url: hop))
        #expect(!secret.requestedPaths().contains { $0.contains("proxied-hop") })
        #expect(!publisher.requestedPaths().contains { $0.contains("secret.txt?proxied-hop") && !$0.contains("goto") })
    }

    @Test(arguments: [
        ("127.0.0.1", "loopback"), ("10.1.2.3", "private (RFC 1918)"), ("100.64.0.1", "shared address space (100.64.0.0/10, carrier-grade NAT)"),
        ("192.0.0.8", "IETF protocol assignments (192.0.0.0/24)"), ("198.18.0.1", "benchmarking (198.18.0.0/15)"),
        ("198.19.255.1", "benchmarking (198.18.0.0/15)"), ("224.0.0.1", "multicast"), ("255.255.255.255", "broadcast"),
        ("240.0.0.1", "reserved (240.0.0.0/4)"), ("203.0.113.9", "documentation"),
        ("64:ff9b::7f00:1", "NAT64 form of loopback 127.0.0.1"), ("64:ff9b::a00:1", "NAT64 form of private (RFC 1918) 10.0.0.1"),
        ("2002:7f00:1::1", "6to4 form of loopback 127.0.0.1"), ("2001::1", "IETF protocol assignments (2001::/23, Teredo included)"),
        ("::ffff:127.0.0.1", "IPv4-mapped form of loopback 127.0.0.1"), ("::127.0.0.1", "IPv4-compatible (deprecated ::/96)"),
        ("ff02::1", "multicast"), ("fd00::1", "unique-local"), ("fe80::1%lo", "link-local"), ("2001:db8::1", "documentation"),
    ])
    func everyReservedRangeIsNamed(address: String, reason: String) {
        #expect(AddressPolicy.restriction(of: address) == reason)
    }

    @Test(arguments: ["8.8.8.8", "93.184.216.34", "100.128.0.1", "198.20.0.1", "64:ff9b::808:808", "2002:808:808::1", "2a00:1450::1", "2001:4860:4860::8888"])
    func publicAddressesPass(address: String) {
        #expect(AddressPolicy.restriction(of: address) == nil)
    }

    @Test func addressRanges() throws {
        let range = try #require(AddressRange("10.1.0.0/16"))
        #expect(range.contains(try #require(IPAddress("10.1.200.3"))))
        #expect(!range.contains(try #require(IPAddress("10.2.0.1"))))
        #expect(!range.contains(try #require(IPAddress("::1"))))
        #expect(try #require(AddressRange("fd00::/8")).contains(try #require(IPAddress("fd12::1"))))
        #expect(AddressRange("10.0.0.0/33") == nil)
        #expect(AddressRange("example.org") == nil)
    }
}

/// A byte budget holds transfers back until earlier ones release their bytes.
@Suite(.serialized) final class ByteBudgetTests {
    let server: TestHTTPServer

    init() throws {
        server = try TestHTTPServer()
        try server.put("page.html", String(repeating: "<p>page</p>", count: 100))
    }

    deinit { server.stop() }

    @Test func pagesBeyondTheBudgetWaitForARelease() async throws {
        let client = HTTPClient(settings: HTTPClientSettings(userAgent: "feedcorpus-test/1.0", timeout: 20, maxConnectionsPerHost: 8))
        defer { client.shutdown() }
        let budget = client.makeBudget(capacity: 1_000)
        // Each page claims the whole budget: they run one at a time, each taking 0.6 s.
        try await withThrowingTaskGroup(of: Void.self) { group in
            for index in 0..<3 {
                let url = server.url("slow/0.6/page.html?n=\(index)")
                group.addTask {
                    let ticket = budget.ticket(bytes: 1_000)
                    defer { ticket.release() }
                    let response = try await client.fetch(FetchRequest(url: url, ticket: ticket))
                    #expect(response.status == 200)
                    #expect(budget.held == 1_000)  // its own claim, held until released
                }
            }
            try await group.waitForAll()
        }
        #expect(budget.held == 0)
        let starts = server.requests().filter { $0.path.hasPrefix("/slow/") }.map(\.time).sorted()
        #expect(starts.count == 3)
        for (earlier, later) in zip(starts, starts.dropFirst()) {
            #expect(later - earlier >= 0.55, "a page started \(later - earlier) s after the previous one, before its release")
        }
    }

    @Test func aPageLargerThanTheBudgetStillRunsAlone() async throws {
        let client = HTTPClient(settings: HTTPClientSettings(userAgent: "feedcorpus-test/1.0", timeout: 20))
        defer { client.shutdown() }
        let budget = client.makeBudget(capacity: 10)
        let ticket = budget.ticket(bytes: 1_000_000)
        #expect(try await client.fetch(FetchRequest(url: server.url("files/page.html"), ticket: ticket)).status == 200)
        ticket.release()
        ticket.release()  // a second release gives nothing back twice
        #expect(budget.held == 0)
    }
}

