import Fetcher
import Foundation
import TestSupport
import Testing

/// Every test talks to a real HTTP server on 127.0.0.1 started for the suite.
@Suite(.serialized) final class HTTPClientTests {
    let server: TestHTTPServer
    let client: HTTPClient
    let feed = "<rss version=\"2.0\"><channel><title>t</title></channel></rss>"

    init() throws {
        server = try TestHTTPServer()
        try server.put("feed.xml", feed)
        client = HTTPClient(settings: HTTPClientSettings(userAgent: "feedcorpus-test/1.0 (+https://example.org)", timeout: 10, maxBodyBytes: 64 * 1024))
    }

    deinit {
        client.shutdown()
        server.stop()
    }

    @Test func fetchesABodyWithValidators() async throws {
        let response = try await client.fetch(FetchRequest(url: server.url("files/feed.xml")))
        #expect(response.status == 200)
        #expect(String(decoding: response.body, as: UTF8.self) == feed)
        #expect(response.headers["etag"] != nil)
        #expect(response.headers["last-modified"] != nil)
        #expect(response.effectiveURL == server.url("files/feed.xml"))
    }

    /// What each answer means for a feed poll is the fetcher's to say (FeedAnswer).
    @Test func eachAnswerMeansOneThingForAFeedPoll() async throws {
        let now = Date()
        let ok = try await client.fetch(FetchRequest(url: server.url("files/feed.xml")))
        #expect(ok.feedAnswer(now: now) == .document)
        let again = try await client.fetch(FetchRequest(url: server.url("files/feed.xml"), etag: ok.headers["etag"]))
        #expect(again.feedAnswer(now: now) == .notModified)
        let gone = try await client.fetch(FetchRequest(url: server.url("status/410")))
        guard case let .gone(message) = gone.feedAnswer(now: now) else { Issue.record("410: \(gone.feedAnswer(now: now))"); return }
        #expect(message.hasPrefix("HTTP 410 from \(server.url("status/410"))") && message.contains("gone for good"))
        let missing = try await client.fetch(FetchRequest(url: server.url("files/missing.xml")))
        #expect(missing.feedAnswer(now: now) == .failed(message: "HTTP 404 from \(server.url("files/missing.xml")): the feed is not at this URL; check it or remove the feed"))
        // A 503 without Retry-After is an ordinary failure; with one, the host is to be left alone.
        let broken = try await client.fetch(FetchRequest(url: server.url("status/503")))
        #expect(broken.feedAnswer(now: now) == .failed(message: broken.failureMessage))
        let slow = HTTPClient(settings: HTTPClientSettings(userAgent: "feedcorpus-test/1.0 (+https://example.org)", timeout: 10))
        defer { slow.shutdown() }
        let limited = try await slow.fetch(FetchRequest(url: server.url("retry/429/120")))
        guard case let .retryLater(until, limitedMessage) = limited.feedAnswer(now: now) else {
            Issue.record("429 with Retry-After: \(limited.feedAnswer(now: now))")
            return
        }
        #expect(until == now.addingTimeInterval(120))
        #expect(limitedMessage.contains("HTTP 429") && limitedMessage.contains("rate limiting"))
    }

    @Test func conditionalRequestGets304() async throws {
        let first = try await client.fetch(FetchRequest(url: server.url("files/feed.xml")))
        let second = try await client.fetch(FetchRequest(url: server.url("files/feed.xml"), etag: first.headers["etag"]))
        #expect(second.isNotModified)
        #expect(second.body.isEmpty)
        let byDate = try await client.fetch(FetchRequest(url: server.url("files/feed.xml"), lastModified: first.headers["last-modified"]))
        #expect(byDate.isNotModified)
    }

    @Test func httpErrorsAreResponsesNotThrows() async throws {
        let response = try await client.fetch(FetchRequest(url: server.url("status/404")))
        #expect(response.status == 404)
        #expect(!response.isSuccess)
        #expect(try await client.fetch(FetchRequest(url: server.url("status/410"))).status == 410)
    }

    @Test func sendsTheUserAgentAndAccept() async throws {
        let response = try await client.fetch(FetchRequest(url: server.url("headers")))
        let headers = try #require(try JSONSerialization.jsonObject(with: Data(response.body)) as? [String: String])
        #expect(headers["User-Agent"] == "feedcorpus-test/1.0 (+https://example.org)")
        #expect(headers["Accept"]?.contains("application/rss+xml") == true)
        #expect(headers["Accept-Encoding"]?.contains("gzip") == true)
    }

    @Test func decodesGzip() async throws {
        let response = try await client.fetch(FetchRequest(url: server.url("gzip/feed.xml")))
        #expect(String(decoding: response.body, as: UTF8.self) == feed)
    }

    @Test func followsRedirectsAndRecordsThem() async throws {
        let response = try await client.fetch(FetchRequest(url: server.url("redirect/3/feed.xml")))
        #expect(response.status == 200)
        #expect(response.redirects.map(\.status) == [302, 302, 302])
        #expect(response.effectiveURL == server.url("redirect/0/feed.xml"))
        #expect(String(decoding: response.body, as: UTF8.self) == feed)
        let moved = try await client.fetch(FetchRequest(url: server.url("moved/feed.xml")))
        #expect(moved.redirects.first?.status == 301)
    }

    @Test func redirectLoopIsAnError() async {
        do {
            _ = try await client.fetch(FetchRequest(url: server.url("loop")))
        } catch {
            #expect(error.kind == .tooManyRedirects)
            #expect(error.description.contains("redirect"))
        }
    }

    @Test func bodyLimitStopsChunkedAndAnnouncedBodiesAndGzipBombs() async {
        for path in ["big/1000000", "announce/100000000", "gzipbomb/50000000"] {
            do {
                _ = try await client.fetch(FetchRequest(url: server.url(path)))
                Issue.record("\(path) should exceed the limit")
            } catch {
                #expect(error.kind == .bodyTooLarge(limit: 64 * 1024), "\(path): \(error)")
            }
        }
    }

    @Test func fileURLsNeedPermission() async throws {
        let url = server.root.appendingPathComponent("feed.xml").absoluteString
        do {
            _ = try await client.fetch(FetchRequest(url: url))
            Issue.record("file:// must be refused for content URLs")
        } catch {
            #expect(error.kind == .schemeNotAllowed)
        }
        let allowed = try await client.fetch(FetchRequest(url: url, allowFileScheme: true))
        #expect(allowed.status == 200)
        #expect(String(decoding: allowed.body, as: UTF8.self) == feed)
        do {
            _ = try await client.fetch(FetchRequest(url: url + ".missing", allowFileScheme: true))
            Issue.record("a missing file must fail")
        } catch {
            #expect(error.kind == .fileNotFound)
        }
    }

    @Test func refusedConnectionIsAConnectError() async throws {
        // Bind a port, close it, and connect there: nothing listens.
        let port = try Self.unusedPort()
        do {
            _ = try await client.fetch(FetchRequest(url: "http://127.0.0.1:\(port)/x"))
            Issue.record("expected a connection error")
        } catch {
            #expect(error.kind == .connect)
            #expect(error.description.contains("127.0.0.1:\(port)"))
        }
    }

    @Test func cancellationAbandonsAHangingTransfer() async throws {
        let client = self.client
        let url = server.url("hang")
        let task = Task { try await client.fetch(FetchRequest(url: url)) }
        // Cancel as soon as the server has seen the request, so the transfer is in flight.
        try await waitUntil { (try? await self.serverLog().contains("/hang")) == true }
        task.cancel()
        do {
            _ = try await task.value
            Issue.record("expected cancellation")
        } catch let error as FetchError {
            #expect(error.kind == .cancelled)
        }
    }

    @Test func manyConcurrentFetchesAllComplete() async throws {
        let client = self.client
        let url = server.url("files/feed.xml")
        let results = try await withThrowingTaskGroup(of: Int.self) { group in
            for _ in 0..<40 { group.addTask { try await client.fetch(FetchRequest(url: url)).status } }
            return try await group.reduce(into: [Int]()) { $0.append($1) }
        }
        #expect(results.count == 40)
        #expect(results.allSatisfy { $0 == 200 })
    }

    func serverLog() async throws -> String {
        String(decoding: try await client.fetch(FetchRequest(url: server.url("log"))).body, as: UTF8.self)
    }

    func waitUntil(_ condition: @escaping () async -> Bool) async throws {
        for _ in 0..<500 {
            if await condition() { return }
            await Task.yield()
        }
        Issue.record("condition never became true")
    }

    static func unusedPort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer -> Int32 in
                guard bind(fd, pointer, length) == 0 else { return -1 }
                return getsockname(fd, pointer, &length)
            }
        }
        guard bound == 0 else { throw SupportError("cannot bind a probe socket") }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}
