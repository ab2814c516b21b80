import CCurl
import CCurlShim
import FeedModel
import Foundation

/// An HTTP client on libcurl's multi interface.
///
/// One dedicated thread owns the multi handle and blocks in `curl_multi_poll`; requests reach it
/// through a locked queue and a `curl_multi_wakeup`, results come back through checked
/// continuations. No cooperative-pool thread ever blocks in libcurl. The global and per-host
/// connection limits are applied here, before a transfer is handed to libcurl, so a queued
/// transfer's timeouts do not start ticking while it waits.
public final class HTTPClient: Sendable {
    private let engine: CurlEngine
    private let gate: (any HostGate)?

    /// - Parameter gate: asked before every request to a host (cluster mode's shared politeness).
    public init(settings: HTTPClientSettings, gate: (any HostGate)? = nil) {
        engine = CurlEngine(settings: settings)
        self.gate = gate
    }

    deinit { engine.shutdown() }

    /// Performs a GET. Any HTTP status is returned as a response; transport failures throw.
    public func fetch(_ request: FetchRequest) async throws(FetchError) -> FetchResponse {
        if let gate { try await Self.pass(gate, for: request) }
        let transfer = Transfer(request: request, settings: engine.settings)
        do {
            return try await withTaskCancellationHandler {
                try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<FetchResponse, Error>) in
                    transfer.continuation = continuation
                    engine.submit(transfer)
                }
            } onCancel: {
                engine.cancel(transfer)
            }
        } catch let error as FetchError {
            throw error
        } catch {
            throw FetchError(kind: .transport, url: request.url, detail: "\(error)")
        }
    }

    /// Stops the engine thread after abandoning every transfer in flight.
    public func shutdown() { engine.shutdown() }

    /// Makes every request to `host` fail with `.hostBackoff` until `until` (a Retry-After that
    /// an earlier run learned). The client also learns this itself from 429 and 503 responses.
    public func holdHost(_ host: String, until: Date) { engine.holdHost(host.lowercased(), until: until) }

    /// Requests waiting for their turn (a connection slot, or a host's politeness delay or
    /// connection limit), as of the engine's last loop.
    public var waitingRequests: Int { engine.waitingRequests }

    /// A byte budget whose released bytes wake this client's queue at once.
    public func makeBudget(capacity: Int) -> ByteBudget {
        ByteBudget(capacity: capacity) { [engine] in engine.wake() }
    }

    /// The libcurl the process runs with and its TLS library ("7.88.1 (OpenSSL/3.0.15)").
    public static var libcurlVersion: String {
        let parts = String(cString: curl_version()).split(separator: " ")
        let curl = parts.first.map { $0.replacingOccurrences(of: "libcurl/", with: "") } ?? "unknown"
        return parts.count > 1 ? "\(curl) (\(parts[1]))" : curl
    }

    /// The host part used for per-host limits, politeness and holds ("" for file://).
    public static func hostKey(for url: String) -> String {
        let components = URLComponents(string: url)
        return components?.scheme?.lowercased() == "file" ? "" : (components?.host?.lowercased() ?? "")
    }
}

/// One transfer's buffers and easy handle. Touched by the engine thread only once submitted,
/// except `cancelRequested`, which is guarded by the engine's lock.
final class Transfer: @unchecked Sendable {
    let request: FetchRequest
    let limit: Int
    let host: String
    var continuation: CheckedContinuation<FetchResponse, Error>?
    var easy: UnsafeMutableRawPointer?
    var headerList: UnsafeMutablePointer<curl_slist>?
    var body: [UInt8] = []
    var headers: [String: String] = [:]
    var redirects: [Redirect] = []
    var lastStatus = 0
    var exceededLimit = false
    var cancelRequested = false
    /// Set by the pre-request hook when it refused an address: the address and its range.
    var blockedAddress: (address: String, reason: String)?
    let addressCheck: AddressCheck
    /// The request goes through a proxy: the peer is the proxy, so the target is resolved here.
    let proxied: Bool
    let allowedAddresses: [AddressRange]
    /// Requests made so far (the first, then one per redirect), and whether the first and the
    /// latest reached a non-public address.
    var requestsMade = 0
    var firstRequestRestricted = false
    var latestRequestRestricted = false
    let errorBuffer = UnsafeMutablePointer<CChar>.allocate(capacity: Int(CURL_ERROR_SIZE) + 1)

    init(request: FetchRequest, settings: HTTPClientSettings) {
        self.request = request
        self.limit = min(settings.maxBodyBytes, request.maxBodyBytes ?? Int.max)
        self.host = HTTPClient.hostKey(for: request.url)
        if settings.allowPrivateNetworks {
            addressCheck = .none
        } else {
            addressCheck = request.fromContent ? .everyRequest : .redirectsOfAPublicStart
        }
        proxied = (settings.proxy != nil || CurlEngine.environmentProxy) && (!request.fromContent || settings.proxyArticlePages)
        allowedAddresses = settings.allowedAddresses
        errorBuffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)
    }

    deinit {
        if let headerList { curl_slist_free_all(headerList) }
        if let easy { curl_easy_cleanup(easy) }
        errorBuffer.deallocate()
    }

    func finish(_ result: Result<FetchResponse, FetchError>) {
        guard let continuation else { return }
        self.continuation = nil
        continuation.resume(with: result.mapError { $0 as Error })
    }
}

final class CurlEngine: @unchecked Sendable {
    let settings: HTTPClientSettings
    private let lock = NSLock()
    private var submitted: [Transfer] = []
    private var stopping = false
    private var thread: Thread?
    private let multi: UnsafeMutableRawPointer?
    private let stopped = DispatchSemaphore(value: 0)

    private var submittedHolds: [(String, Date)] = []
    private var waiting = 0

    /// Requests submitted or queued but not started (read under the lock).
    var waitingRequests: Int {
        lock.lock()
        defer { lock.unlock() }
        return waiting + submitted.count
    }

    // Engine-thread state.
    private var queued: [Transfer] = []
    private var active: [UnsafeMutableRawPointer: Transfer] = [:]
    private var perHost: [String: Int] = [:]
    private var lastStart: [String: ContinuousClock.Instant] = [:]
    private var heldUntil: [String: Date] = [:]

    private static let globalInit: Bool = {
        curl_global_init(3)  // CURL_GLOBAL_ALL; the macro does not import.
        signal(SIGPIPE, SIG_IGN)  // CURLOPT_NOSIGNAL leaves SIGPIPE to the process.
        return true
    }()

    init(settings: HTTPClientSettings) {
        _ = Self.globalInit
        self.settings = settings
        multi = curl_multi_init()
        if let multi {
            fc_multi_setopt_long(multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, settings.maxConnections)
            fc_multi_setopt_long(multi, CURLMOPT_MAX_HOST_CONNECTIONS, settings.maxConnectionsPerHost)
        }
        let thread = Thread { [unowned self] in self.run() }
        thread.name = "feedcorpus-curl"
        self.thread = thread
        thread.start()
    }

    func submit(_ transfer: Transfer) {
        lock.lock()
        if stopping || transfer.cancelRequested || multi == nil {
            lock.unlock()
            transfer.finish(.failure(FetchError(kind: .cancelled, url: transfer.request.url,
                                                detail: multi == nil ? "libcurl could not start" : "cancelled before start")))
            return
        }
        submitted.append(transfer)
        lock.unlock()
        if let multi { curl_multi_wakeup(multi) }
    }

    func cancel(_ transfer: Transfer) {
        lock.lock()
        transfer.cancelRequested = true
        lock.unlock()
        if let multi { curl_multi_wakeup(multi) }
    }

    func wake() {
        if let multi { curl_multi_wakeup(multi) }
    }

    func holdHost(_ host: String, until: Date) {
        lock.lock()
        submittedHolds.append((host, until))
        lock.unlock()
        if let multi { curl_multi_wakeup(multi) }
    }

    func shutdown() {
        lock.lock()
        let first = !stopping
        stopping = true
        lock.unlock()
        guard first, let multi else { return }
        curl_multi_wakeup(multi)
        stopped.wait()
    }

    private func run() {
        guard let multi else { return }
        while true {
            lock.lock()
            queued.append(contentsOf: submitted)
            submitted.removeAll()
            for (host, until) in submittedHolds where until > (heldUntil[host] ?? .distantPast) { heldUntil[host] = until }
            submittedHolds.removeAll()
            let stop = stopping
            let cancelled = (queued + Array(active.values)).filter(\.cancelRequested)
            lock.unlock()

            for transfer in cancelled { abandon(transfer, reason: "cancelled") }
            if stop {
                for transfer in queued + Array(active.values) { abandon(transfer, reason: "client shut down") }
                break
            }
            let wait = startQueued()
            lock.lock()
            waiting = queued.count
            lock.unlock()
            var running: Int32 = 0
            curl_multi_perform(multi, &running)
            // Slots freed by finished transfers are refilled at once, not after the next poll.
            if collectFinished() > 0 && !queued.isEmpty { continue }
            curl_multi_poll(multi, nil, 0, wait, nil)
        }
        curl_multi_cleanup(multi)
        stopped.signal()
    }

    /// Starts what the limits allow; returns how long (ms) the poll may sleep before a queued
    /// transfer's host becomes available again under the politeness delay.
    private func startQueued() -> Int32 {
        var wait: Int32 = 1000
        guard !queued.isEmpty else { return wait }
        let now = ContinuousClock.now
        let wallNow = Date()
        let delay = Duration.milliseconds(Int64(settings.hostDelay * 1000))
        var index = 0
        while index < queued.count && active.count < settings.maxConnections {
            let transfer = queued[index]
            if let until = heldUntil[transfer.host], until > wallNow {
                queued.remove(at: index)
                transfer.finish(.failure(FetchError(kind: .hostBackoff(until: until), url: transfer.request.url,
                                                    detail: "Retry-After from \(transfer.host)")))
                continue
            }
            if !transfer.host.isEmpty {
                if perHost[transfer.host, default: 0] >= settings.maxConnectionsPerHost {
                    index += 1
                    continue
                }
                if let last = lastStart[transfer.host], last + delay > now {
                    let remaining = (last + delay) - now
                    wait = min(wait, Int32(max(1, remaining.components.seconds * 1000 + remaining.components.attoseconds / 1_000_000_000_000_000)))
                    index += 1
                    continue
                }
            }
            if let ticket = transfer.request.ticket, !ticket.hold() {
                index += 1  // Its bytes do not fit the budget yet: a release wakes the loop.
                continue
            }
            queued.remove(at: index)
            do {
                let easy = try configure(transfer)
                active[easy] = transfer
                perHost[transfer.host, default: 0] += 1
                if !transfer.host.isEmpty { lastStart[transfer.host] = now }
                if let multi { curl_multi_add_handle(multi, easy) }
            } catch {
                transfer.finish(.failure(error))
            }
        }
        return wait
    }

    @discardableResult
    private func collectFinished() -> Int {
        guard let multi else { return 0 }
        var finished = 0
        var remaining: Int32 = 0
        while let message = curl_multi_info_read(multi, &remaining) {
            guard message.pointee.msg == CURLMSG_DONE, let easy = message.pointee.easy_handle,
                  let transfer = active.removeValue(forKey: easy) else { continue }
            let code = message.pointee.data.result
            curl_multi_remove_handle(multi, easy)
            release(transfer)
            let result = outcome(of: transfer, code: code)
            if case let .success(response) = result, response.status == 429 || response.status == 503,
               let until = response.retryAfter(), until > (heldUntil[transfer.host] ?? .distantPast), !transfer.host.isEmpty {
                heldUntil[transfer.host] = until  // The whole host waits, feeds and articles alike.
            }
            transfer.finish(result)
            finished += 1
        }
        return finished
    }

    private func abandon(_ transfer: Transfer, reason: String) {
        if let index = queued.firstIndex(where: { $0 === transfer }) { queued.remove(at: index) }
        if let easy = transfer.easy, active.removeValue(forKey: easy) != nil {
            if let multi { curl_multi_remove_handle(multi, easy) }
            release(transfer)
        }
        transfer.finish(.failure(FetchError(kind: .cancelled, url: transfer.request.url, detail: reason)))
    }

    private func release(_ transfer: Transfer) {
        if let count = perHost[transfer.host] {
            perHost[transfer.host] = count > 1 ? count - 1 : nil
        }
    }

    private func configure(_ transfer: Transfer) throws(FetchError) -> UnsafeMutableRawPointer {
        guard let easy = curl_easy_init() else {
            throw FetchError(kind: .transport, url: transfer.request.url, detail: "curl_easy_init failed")
        }
        transfer.easy = easy
        let request = transfer.request
        let context = Unmanaged.passUnretained(transfer).toOpaque()
        fc_easy_setopt_string(easy, CURLOPT_URL, request.url)
        fc_easy_setopt_long(easy, CURLOPT_NOSIGNAL, 1)
        fc_easy_setopt_pointer(easy, CURLOPT_ERRORBUFFER, transfer.errorBuffer)
        fc_easy_setopt_string(easy, CURLOPT_PROTOCOLS_STR, request.allowFileScheme ? "http,https,file" : "http,https")
        fc_easy_setopt_string(easy, CURLOPT_REDIR_PROTOCOLS_STR, "http,https")
        fc_easy_setopt_long(easy, CURLOPT_FOLLOWLOCATION, 1)
        fc_easy_setopt_long(easy, CURLOPT_MAXREDIRS, settings.maxRedirects)
        fc_easy_setopt_string(easy, CURLOPT_ACCEPT_ENCODING, "")  // Every decoder the build has.
        fc_easy_setopt_string(easy, CURLOPT_USERAGENT, settings.userAgent)
        fc_easy_setopt_long(easy, CURLOPT_HTTP_VERSION, Int(CURL_HTTP_VERSION_2TLS))
        fc_easy_setopt_long(easy, CURLOPT_CONNECTTIMEOUT_MS, Int(settings.connectTimeout * 1000))
        fc_easy_setopt_long(easy, CURLOPT_TIMEOUT_MS, Int(settings.timeout * 1000))
        fc_easy_setopt_long(easy, CURLOPT_LOW_SPEED_LIMIT, settings.lowSpeedLimit)
        fc_easy_setopt_long(easy, CURLOPT_LOW_SPEED_TIME, settings.lowSpeedTime)
        fc_easy_setopt_offt(easy, CURLOPT_MAXFILESIZE_LARGE, curl_off_t(transfer.limit))
        if let proxy = settings.proxy { fc_easy_setopt_string(easy, CURLOPT_PROXY, proxy) }
        if let bundle = settings.caBundle { fc_easy_setopt_string(easy, CURLOPT_CAINFO, bundle) }
        if request.fromContent && !transfer.proxied {
            fc_easy_setopt_string(easy, CURLOPT_PROXY, "")  // Direct, so the peer checked is the target.
        }
        if request.url.lowercased().hasPrefix("https:") {
            fc_easy_setopt_string(easy, CURLOPT_REDIR_PROTOCOLS_STR, "https")  // Never downgrade to http.
        }
        // Runs before every request libcurl sends, on a new or a reused connection and after each
        // redirect, with the address actually connected: the one place no request can bypass.
        fc_easy_setopt_pointer(easy, CURLOPT_PREREQDATA, context)
        fc_easy_setopt_prereq(easy) { context, primaryIP, _, _, _ in
            guard let context else { return 1 }  // CURL_PREREQFUNC_ABORT
            let transfer = Unmanaged<Transfer>.fromOpaque(context).takeUnretainedValue()
            return transfer.admitRequest(peer: primaryIP.map { String(cString: $0) } ?? "") ? 0 : 1
        }

        var list: UnsafeMutablePointer<curl_slist>? = curl_slist_append(nil, "Accept: \(request.accept)")
        if let etag = request.etag { list = curl_slist_append(list, "If-None-Match: \(etag)") }
        if let lastModified = request.lastModified { list = curl_slist_append(list, "If-Modified-Since: \(lastModified)") }
        transfer.headerList = list
        fc_easy_setopt_slist(easy, CURLOPT_HTTPHEADER, list)

        fc_easy_setopt_data_callback(easy, CURLOPT_WRITEFUNCTION) { data, size, count, context in
            guard let data, let context else { return 0 }
            let transfer = Unmanaged<Transfer>.fromOpaque(context).takeUnretainedValue()
            let length = size * count
            // Past the limit: returning less than `length` aborts the transfer (gzip bombs and
            // chunked bodies have no Content-Length for MAXFILESIZE to act on).
            if transfer.body.count + length > transfer.limit {
                transfer.exceededLimit = true
                return 0
            }
            data.withMemoryRebound(to: UInt8.self, capacity: length) {
                transfer.body.append(contentsOf: UnsafeBufferPointer(start: $0, count: length))
            }
            return length
        }
        fc_easy_setopt_pointer(easy, CURLOPT_WRITEDATA, context)
        fc_easy_setopt_data_callback(easy, CURLOPT_HEADERFUNCTION) { data, size, count, context in
            guard let data, let context else { return 0 }
            let transfer = Unmanaged<Transfer>.fromOpaque(context).takeUnretainedValue()
            let length = size * count
            let line = data.withMemoryRebound(to: UInt8.self, capacity: length) {
                String(decoding: UnsafeBufferPointer(start: $0, count: length), as: UTF8.self)
            }
            transfer.headerLine(line)
            return length
        }
        fc_easy_setopt_pointer(easy, CURLOPT_HEADERDATA, context)
        return easy
    }

    private func outcome(of transfer: Transfer, code: CURLcode) -> Result<FetchResponse, FetchError> {
        let url = transfer.request.url
        guard let easy = transfer.easy else {
            return .failure(FetchError(kind: .transport, url: url, detail: "no handle"))
        }
        let detail: String = {
            let buffer = String(cString: transfer.errorBuffer)
            return buffer.isEmpty ? String(cString: curl_easy_strerror(code)) : buffer
        }()
        if let blocked = transfer.blockedAddress {
            return .failure(FetchError(kind: .addressNotAllowed(address: blocked.address, reason: blocked.reason), url: url, detail: detail))
        }
        if code == CURLE_UNSUPPORTED_PROTOCOL, (300..<400).contains(transfer.lastStatus), let location = transfer.headers["location"] {
            return .failure(FetchError(kind: .redirectRefused("it leads from https to \(location), which is not https"), url: url, detail: detail))
        }
        if transfer.exceededLimit || code == CURLE_FILESIZE_EXCEEDED {
            return .failure(FetchError(kind: .bodyTooLarge(limit: transfer.limit), url: url, detail: "stopped after \(transfer.body.count) bytes"))
        }
        switch code {
        case CURLE_OK:
            break
        case CURLE_OPERATION_TIMEDOUT:
            return .failure(FetchError(kind: .timeout, url: url, detail: detail))
        case CURLE_COULDNT_RESOLVE_HOST, CURLE_COULDNT_RESOLVE_PROXY:
            return .failure(FetchError(kind: .dns, url: url, detail: detail))
        case CURLE_COULDNT_CONNECT:
            return .failure(FetchError(kind: .connect, url: url, detail: detail))
        case CURLE_PEER_FAILED_VERIFICATION, CURLE_SSL_CONNECT_ERROR, CURLE_SSL_CERTPROBLEM, CURLE_SSL_CIPHER,
             CURLE_SSL_CACERT_BADFILE, CURLE_SSL_ISSUER_ERROR, CURLE_SSL_PINNEDPUBKEYNOTMATCH:
            return .failure(FetchError(kind: .tls, url: url, detail: detail))
        case CURLE_TOO_MANY_REDIRECTS:
            return .failure(FetchError(kind: .tooManyRedirects, url: url, detail: detail))
        case CURLE_FILE_COULDNT_READ_FILE:
            return .failure(FetchError(kind: .fileNotFound, url: url, detail: detail))
        case CURLE_UNSUPPORTED_PROTOCOL:
            return .failure(FetchError(kind: .schemeNotAllowed, url: url, detail: detail))
        default:
            return .failure(FetchError(kind: .transport, url: url, detail: detail))
        }
        var status = 0
        fc_easy_getinfo_long(easy, CURLINFO_RESPONSE_CODE, &status)
        var effective: UnsafeMutablePointer<CChar>?
        fc_easy_getinfo_string(easy, CURLINFO_EFFECTIVE_URL, &effective)
        let effectiveURL = effective.map { String(cString: $0) } ?? url
        var response = FetchResponse(
            status: status == 0 ? 200 : status,  // file:// has no status.
            effectiveURL: effectiveURL, headers: transfer.headers, body: transfer.body,
            redirects: transfer.redirects)
        response.movedToRestrictedAddress = transfer.latestRequestRestricted && !transfer.firstRequestRestricted
        return .success(response)
    }
}

/// Which requests of a transfer the address policy applies to.
enum AddressCheck {
    /// A URL from content: no request may reach a non-public address.
    case everyRequest
    /// A configured feed: its own address is trusted, but a redirect may not lead from a public
    /// address to a non-public one.
    case redirectsOfAPublicStart
    /// `allow_private_networks`: nothing is refused (moves are still noted).
    case none
}

extension CurlEngine {
    /// Whether libcurl would take a proxy from the environment (it reads the lower-case
    /// variables, and upper-case ones except HTTP_PROXY).
    static let environmentProxy: Bool = {
        let environment = ProcessInfo.processInfo.environment
        return ["http_proxy", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"].contains { !(environment[$0] ?? "").isEmpty }
    }()
}

extension Transfer {
    /// Decides, before a request is sent, whether its connection may be used. Through a proxy
    /// the peer is the proxy (configured, so trusted) and the target host is resolved here, a
    /// blocking lookup on the engine thread: for a configured feed that is done only when a
    /// redirect comes (the first request of a feed is trusted anyway).
    func admitRequest(peer: String) -> Bool {
        requestsMade += 1
        if proxied && addressCheck != .everyRequest {
            if requestsMade == 1 { return true }
            if requestsMade == 2 { firstRequestRestricted = restriction(among: targetAddresses(of: request.url)) != nil }
        }
        let restricted = restriction(among: proxied ? targetAddresses(of: currentURL()) : [peer])
        if requestsMade == 1 { firstRequestRestricted = restricted != nil }
        latestRequestRestricted = restricted != nil
        guard let restricted else { return true }
        switch addressCheck {
        case .none: return true
        case .redirectsOfAPublicStart where requestsMade == 1 || firstRequestRestricted: return true
        case .everyRequest, .redirectsOfAPublicStart:
            blockedAddress = restricted
            return false
        }
    }

    /// The first of `addresses` that is not public (and not allowed), with its range.
    private func restriction(among addresses: [String]) -> (address: String, reason: String)? {
        for address in addresses {
            guard let parsed = IPAddress(address) else { return (address, "not an IP address") }
            if allowedAddresses.contains(where: { $0.contains(parsed) }) { continue }
            if let reason = AddressPolicy.restriction(of: address) { return (address, reason) }
        }
        return nil
    }

    /// The URL of the request about to be sent (after redirects).
    private func currentURL() -> String {
        var effective: UnsafeMutablePointer<CChar>?
        if let easy { fc_easy_getinfo_string(easy, CURLINFO_EFFECTIVE_URL, &effective) }
        return effective.map { String(cString: $0) } ?? request.url
    }

    /// Every address the host of `url` resolves to (an empty host or a failed lookup gives a
    /// placeholder that is refused).
    private func targetAddresses(of url: String) -> [String] {
        guard var host = URLComponents(string: url)?.host, !host.isEmpty else { return ["(no host)"] }
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        if IPAddress(host) != nil { return [host] }
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, nil, &hints, &list) == 0, let first = list else { return ["(\(host) does not resolve)"] }
        defer { freeaddrinfo(list) }
        var addresses: [String] = []
        var node: UnsafeMutablePointer<addrinfo>? = first
        while let current = node {
            var text = [CChar](repeating: 0, count: Int(NI_MAXHOST))
            if getnameinfo(current.pointee.ai_addr, current.pointee.ai_addrlen, &text, socklen_t(text.count), nil, 0, NI_NUMERICHOST) == 0 {
                addresses.append(String(decoding: text.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) }, as: UTF8.self))
            }
            node = current.pointee.ai_next
        }
        return addresses.isEmpty ? ["(\(host) does not resolve)"] : addresses
    }
}

extension Transfer {
    /// Handles one raw header line; a status line starts a new response (after a redirect).
    func headerLine(_ raw: String) {
        let line = raw.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !line.isEmpty else { return }
        if line.hasPrefix("HTTP/") {
            if (300..<400).contains(lastStatus), let location = headers["location"] {
                redirects.append(Redirect(status: lastStatus, location: location))
            }
            let parts = line.split(separator: " ", maxSplits: 2)
            lastStatus = parts.count > 1 ? Int(parts[1]) ?? 0 : 0
            headers.removeAll()
            body.removeAll()  // A redirect's own body is not the document.
            return
        }
        guard let colon = line.firstIndex(of: ":") else { return }
        let name = line[..<colon].trimmingCharacters(in: .whitespaces).lowercased()
        let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        headers[name] = value
    }
}
