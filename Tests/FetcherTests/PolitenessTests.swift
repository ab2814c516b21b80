import DatesAndCharsets
import Fetcher
import Foundation
import TestSupport
import Testing

/// Politeness, Retry-After, the SSRF guard, timeouts and proxies, against a real loopback server.
@Suite(.serialized) final class PolitenessTests {
    let server: TestHTTPServer
    let feed = "<rss version=\"2.0\"><channel><title>t</title></channel></rss>"

    init() throws {
        server = try TestHTTPServer()
        try server.put("feed.xml", feed)
    }

    deinit { server.stop() }

    func client(_ configure: (inout HTTPClientSettings) -> Void = { _ in }) -> HTTPClient {
        var settings = HTTPClientSettings(userAgent: "feedcorpus-test/1.0", timeout: 10)
        configure(&settings)
        return HTTPClient(settings: settings)
    }

    @Test func requestsToOneHostAreSpacedByTheDelay() async throws {
        let client = client { $0.hostDelay = 0.3; $0.maxConnectionsPerHost = 4 }
        defer { client.shutdown() }
        let urls = (1...4).map { server.url("files/feed.xml?n=\($0)") }
        try await withThrowingTaskGroup(of: Int.self) { group in
            for url in urls { group.addTask { try await client.fetch(FetchRequest(url: url)).status } }
            for try await status in group { #expect(status == 200) }
        }
        let times = server.requests().filter { $0.path.hasPrefix("/files/feed.xml") }.map(\.time).sorted()
        #expect(times.count == 4)
        for (earlier, later) in zip(times, times.dropFirst()) {
            #expect(later - earlier >= 0.28, "requests \(later - earlier) s apart")
        }
    }

    @Test func retryAfterHoldsTheWholeHost() async throws {
        let client = client()
        defer { client.shutdown() }
        let before = Date()
        let first = try await client.fetch(FetchRequest(url: server.url("retry/429/120")))
        let after = Date()
        #expect(first.status == 429)
        let until = try #require(first.retryAfter())
        #expect(until.timeIntervalSinceNow > 100 && until.timeIntervalSinceNow <= 121)
        do {
            _ = try await client.fetch(FetchRequest(url: server.url("files/feed.xml")))
            Issue.record("the host should be on hold")
        } catch {
            guard case let .hostBackoff(heldUntil) = error.kind else { Issue.record("unexpected \(error)"); return }
            // 120 s from when the answer arrived (whole seconds: Retry-After has no fractions).
            #expect(heldUntil >= before.addingTimeInterval(119) && heldUntil <= after.addingTimeInterval(121))
        }
        #expect(!server.requestedPaths().contains("/files/feed.xml"))  // never reached the server
    }

    @Test func retryAfterAsAnHTTPDateOn503() async throws {
        let client = client()
        defer { client.shutdown() }
        let before = Date()
        let response = try await client.fetch(FetchRequest(url: server.url("retrydate/503/300")))
        let after = Date()
        #expect(response.status == 503)
        let until = try #require(response.retryAfter())
        // The server wrote its clock + 300 s in whole seconds while the request was under way
        // (however long a loaded machine took to answer).
        #expect(until >= before.addingTimeInterval(299) && until <= after.addingTimeInterval(301))
        await #expect(throws: FetchError.self) { _ = try await client.fetch(FetchRequest(url: self.server.url("files/feed.xml"))) }
    }

    @Test func aHoldFromAnEarlierRunIsHonoured() async throws {
        let client = client()
        defer { client.shutdown() }
        client.holdHost("127.0.0.1", until: Date().addingTimeInterval(60))
        do {
            _ = try await client.fetch(FetchRequest(url: server.url("files/feed.xml")))
            Issue.record("expected the hold to apply")
        } catch {
            #expect(error.description.contains("Retry-After"))
        }
        client.holdHost("127.0.0.1", until: Date().addingTimeInterval(-1))  // an expired hold changes nothing
    }

    @Test func contentURLsToLoopbackAreRefusedOnTheConnectedAddress() async throws {
        let client = client()
        defer { client.shutdown() }
        for url in [server.url("files/feed.xml"), "http://localhost:\(server.port)/files/feed.xml"] {
            do {
                _ = try await client.fetch(FetchRequest(url: url, fromContent: true))
                Issue.record("\(url) should be refused")
            } catch {
                #expect(error.kind == .addressNotAllowed(address: "127.0.0.1", reason: "loopback") || error.kind == .addressNotAllowed(address: "::1", reason: "loopback"), "\(error)")
                #expect(error.description.contains("allow_private_networks"))
            }
        }
        #expect(server.requestedPaths().isEmpty)
        // The same URL as a configured feed is trusted.
        #expect(try await client.fetch(FetchRequest(url: server.url("files/feed.xml"))).status == 200)
    }

    @Test func privateNetworksCanBeAllowed() async throws {
        let client = client { $0.allowPrivateNetworks = true }
        defer { client.shutdown() }
        #expect(try await client.fetch(FetchRequest(url: server.url("files/feed.xml"), fromContent: true)).status == 200)
    }

    @Test func contentURLsMayNotBeFiles() async throws {
        let client = client { $0.allowPrivateNetworks = true }
        defer { client.shutdown() }
        let file = server.root.appendingPathComponent("feed.xml").absoluteString
        do {
            _ = try await client.fetch(FetchRequest(url: file, allowFileScheme: true, fromContent: true))
            Issue.record("file:// from content must be refused")
        } catch {
            #expect(error.kind == .schemeNotAllowed)
        }
    }

    @Test func aTricklingServerIsCutOffByTheLowSpeedLimit() async throws {
        let client = client { $0.lowSpeedLimit = 100; $0.lowSpeedTime = 2 }
        defer { client.shutdown() }
        let started = Date()
        do {
            _ = try await client.fetch(FetchRequest(url: server.url("trickle/60")))
            Issue.record("the trickle should be aborted")
        } catch {
            #expect(error.kind == .timeout)
        }
        #expect(Date().timeIntervalSince(started) < 30)  // well before the 60 s the server would take
    }

    @Test func aHangingServerHitsTheTotalTimeout() async throws {
        let client = client { $0.timeout = 2 }
        defer { client.shutdown() }
        do {
            _ = try await client.fetch(FetchRequest(url: server.url("hang")))
            Issue.record("the hang should time out")
        } catch {
            #expect(error.kind == .timeout)
            #expect(error.description.contains("timed out"))
        }
    }

    @Test func aConfiguredProxyIsUsed() async throws {
        let client = client { $0.proxy = "http://127.0.0.1:\(self.server.port)" }
        defer { client.shutdown() }
        // feeds.invalid does not resolve: only the proxy can answer.
        let response = try await client.fetch(FetchRequest(url: "http://feeds.invalid/files/feed.xml"))
        #expect(response.status == 200)
        #expect(String(decoding: response.body, as: UTF8.self) == feed)
    }

    @Test func cacheLifetimeComesFromMaxAge() async throws {
        let client = client()
        defer { client.shutdown() }
        #expect(try await client.fetch(FetchRequest(url: server.url("cached/900"))).freshnessLifetime == 900)
        #expect(try await client.fetch(FetchRequest(url: server.url("files/feed.xml"))).freshnessLifetime == nil)
    }
}

@Suite struct HTTPValueTests {
    @Test func httpDates() {
        #expect(HTTPDate.parse("Sun, 06 Nov 1994 08:49:37 GMT") == Date(timeIntervalSince1970: 784_111_777))
        #expect(HTTPDate.parse("Sunday, 06-Nov-94 08:49:37 GMT") == Date(timeIntervalSince1970: 784_111_777))
        #expect(HTTPDate.parse("Sun Nov  6 08:49:37 1994") == Date(timeIntervalSince1970: 784_111_777))
        #expect(HTTPDate.parse("soon") == nil)
        let now = Date(timeIntervalSince1970: 1_000_000)
        #expect(HTTPDate.retryAfter("120", now: now) == now.addingTimeInterval(120))
        #expect(HTTPDate.retryAfter("-5", now: now) == nil)
    }

    @Test func contentLocationIsTheBase() {
        func response(_ headers: [String: String]) -> FetchResponse {
            FetchResponse(status: 200, effectiveURL: "https://a.example/feeds/rss.xml", headers: headers, body: [])
        }
        #expect(response([:]).baseURL == "https://a.example/feeds/rss.xml")
        #expect(response(["content-location": "/other/feed.xml"]).baseURL == "https://a.example/other/feed.xml")
        #expect(response(["content-location": "https://b.example/x"]).baseURL == "https://b.example/x")
        #expect(response(["content-location": "file:///etc/passwd"]).baseURL == "https://a.example/feeds/rss.xml")  // only http(s)
    }

    @Test func expiresAndNoCache() {
        func response(_ headers: [String: String]) -> FetchResponse {
            FetchResponse(status: 200, effectiveURL: "https://a.example/", headers: headers, body: [])
        }
        #expect(response(["cache-control": "no-cache"]).freshnessLifetime == 0)
        #expect(response(["date": "Sun, 06 Nov 1994 08:49:37 GMT", "expires": "Sun, 06 Nov 1994 09:49:37 GMT"]).freshnessLifetime == 3600)
        #expect(response(["expires": "0"]).freshnessLifetime == 0)
    }

    @Test(arguments: [
        ((127, 0, 0, 1), true), ((10, 1, 2, 3), true), ((172, 16, 0, 1), true), ((172, 31, 255, 255), true),
        ((172, 32, 0, 1), false), ((192, 168, 1, 1), true), ((169, 254, 169, 254), true), ((100, 64, 0, 1), true),
        ((0, 0, 0, 0), true), ((224, 0, 0, 1), true), ((8, 8, 8, 8), false), ((93, 184, 216, 34), false),
    ] as [((UInt8, UInt8, UInt8, UInt8), Bool)])
    func ipv4Policy(address: (UInt8, UInt8, UInt8, UInt8), isPrivate: Bool) {
        #expect(AddressPolicy.isPrivate(ipv4: address) == isPrivate)
    }

    @Test func ipv6Policy() {
        func v6(_ text: String) -> [UInt8] {
            var address = in6_addr()
            _ = inet_pton(AF_INET6, text, &address)
            return withUnsafeBytes(of: address) { Array($0) }
        }
        for privateAddress in ["::1", "::", "fe80::1", "fc00::1", "fd12:3456::1", "ff02::1", "::ffff:127.0.0.1", "::ffff:10.0.0.1"] {
            #expect(AddressPolicy.isPrivate(ipv6: v6(privateAddress)), "\(privateAddress)")
        }
        for publicAddress in ["2001:4860:4860::8888", "2a00:1450::1", "::ffff:8.8.8.8"] {
            #expect(!AddressPolicy.isPrivate(ipv6: v6(publicAddress)), "\(publicAddress)")
        }
    }
}
