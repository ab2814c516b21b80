import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix
import Prometheus
import ServiceLifecycle

/// What /healthz answers: 200 when healthy, 503 otherwise, with a small JSON body.
public struct HealthReport: Sendable {
    public var healthy: Bool
    /// A JSON object, the response body.
    public var json: String

    public init(healthy: Bool, json: String) {
        self.healthy = healthy
        self.json = json
    }
}

/// Errors of the metrics listener.
public enum MetricsEndpointError: Error, CustomStringConvertible {
    case cannotListen(host: String, port: Int, reason: String)

    public var description: String {
        switch self {
        case let .cannotListen(host, port, reason):
            return "cannot listen for metrics on \(host):\(port) (\(reason)); choose another address with metrics.listen or remove it"
        }
    }
}

/// A small HTTP/1.1 listener (SwiftNIO) serving a Prometheus registry at `/metrics` and a health
/// check at `/healthz`. Runs as a ServiceLifecycle service: it binds when run, serves until
/// graceful shutdown, then closes.
public final class MetricsEndpoint: Service, Sendable {
    private let host: String
    private let port: Int
    private let exposition: @Sendable () -> [UInt8]
    private let health: @Sendable () -> HealthReport
    private let logger: Logger
    private let onListening: @Sendable (Int) -> Void

    /// `exposition` renders the Prometheus text for each scrape (see `PrometheusExposition`);
    /// `onListening` is called with the bound port (useful with port 0).
    public init(host: String, port: Int, exposition: @escaping @Sendable () -> [UInt8], logger: Logger,
                health: @escaping @Sendable () -> HealthReport, onListening: @escaping @Sendable (Int) -> Void = { _ in }) {
        self.host = host
        self.port = port
        self.exposition = exposition
        self.health = health
        self.logger = logger
        self.onListening = onListening
    }

    /// Connections served at once; more are closed at once (a scraper needs one or two).
    public static let maxConnections = 32
    /// A connection that sends nothing for this long is closed.
    public static let idleTimeout = TimeAmount.seconds(10)

    public func run() async throws {
        let exposition = self.exposition
        let health = self.health
        let open = NIOLockedValueBox(0)
        let bootstrap = ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.backlog, value: 64)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.maxMessagesPerRead, value: 1)
            .childChannelInitializer { channel in
                // Idle and surplus connections would hold descriptors the corpus needs.
                let admitted = open.withLockedValue { count -> Bool in
                    guard count < Self.maxConnections else { return false }
                    count += 1
                    return true
                }
                guard admitted else { return channel.close() }
                channel.closeFuture.whenComplete { _ in open.withLockedValue { $0 -= 1 } }
                return channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(IdleStateHandler(readTimeout: Self.idleTimeout))
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                    try channel.pipeline.syncOperations.addHandler(MetricsHTTPHandler(exposition: exposition, health: health))
                }
            }
        let channel: any Channel
        do {
            channel = try await bootstrap.bind(host: host, port: port).get()
        } catch {
            throw MetricsEndpointError.cannotListen(host: host, port: port, reason: "\(error)")
        }
        let bound = channel.localAddress?.port ?? port
        logger.notice("metrics listening", metadata: ["address": "http://\(host.contains(":") ? "[\(host)]" : host):\(bound)/metrics"])
        onListening(bound)
        try? await gracefulShutdown()
        try? await channel.close()
    }
}

/// Answers GET/HEAD /metrics and /healthz; everything else is 404 (or 405 for other methods).
private final class MetricsHTTPHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let exposition: @Sendable () -> [UInt8]
    private let health: @Sendable () -> HealthReport
    private var request: HTTPRequestHead?

    init(exposition: @escaping @Sendable () -> [UInt8], health: @escaping @Sendable () -> HealthReport) {
        self.exposition = exposition
        self.health = health
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is IdleStateHandler.IdleStateEvent {
            context.close(promise: nil)  // Idle past the timeout.
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    /// A malformed request: the error handler before this one has answered 400; then close.
    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head): request = head
        case .body: break  // Request bodies are ignored.
        case .end:
            guard let head = request else { return }
            request = nil
            respond(to: head, context: context)
        }
    }

    private func respond(to head: HTTPRequestHead, context: ChannelHandlerContext) {
        let path = head.uri.split(separator: "?", maxSplits: 1).first.map(String.init) ?? head.uri
        let status: HTTPResponseStatus
        let contentType: String
        var body: [UInt8]
        if head.method != .GET && head.method != .HEAD {
            (status, contentType, body) = (.methodNotAllowed, "text/plain; charset=utf-8", Array("only GET and HEAD\n".utf8))
        } else if path == "/metrics" {
            (status, contentType, body) = (.ok, "text/plain; version=0.0.4; charset=utf-8", exposition())
        } else if path == "/healthz" {
            let report = health()
            (status, contentType, body) = (report.healthy ? .ok : .serviceUnavailable, "application/json", Array((report.json + "\n").utf8))
        } else {
            (status, contentType, body) = (.notFound, "text/plain; charset=utf-8", Array("not found: try /metrics or /healthz\n".utf8))
        }
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: contentType)
        headers.add(name: "Content-Length", value: "\(body.count)")
        headers.add(name: "Cache-Control", value: "no-store")
        let keepAlive = head.isKeepAlive
        if !keepAlive { headers.add(name: "Connection", value: "close") }
        if head.method == .HEAD { body = [] }
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: status, headers: headers))), promise: nil)
        if !body.isEmpty {
            context.write(wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(bytes: body)))), promise: nil)
        }
        let done = context.writeAndFlush(wrapOutboundOut(.end(nil)))
        if !keepAlive {
            let channel = context.channel
            done.whenComplete { _ in channel.close(promise: nil) }
        }
    }
}

/// Writes the registry's Prometheus text to a file for node_exporter's textfile collector the
/// way the corpus is written: a temporary file in the same folder, flushed, renamed over the old
/// one (a reader never sees half a file, and the old one is there until the new one is).
public enum PrometheusTextfile {
    public struct WriteError: Error, CustomStringConvertible {
        public var path: String
        public var reason: String
        public var description: String { "cannot write the metrics file \(path): \(reason)" }
    }

    public static func write(_ bytes: [UInt8], to path: String) throws(WriteError) {
        let folder = (path as NSString).deletingLastPathComponent
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: folder.isEmpty ? "." : folder, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw WriteError(path: path, reason: "the folder \(folder) does not exist; create it (node_exporter's --collector.textfile.directory) or change metrics.textfile")
        }
        let temporary = path + ".tmp"
        unlink(temporary)
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw WriteError(path: path, reason: "cannot create \(temporary): \(String(cString: strerror(errno)))") }
        var written = 0
        while written < bytes.count {
            let result = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + written, bytes.count - written) }
            if result < 0 && errno == EINTR { continue }
            guard result > 0 else {
                let reason = String(cString: strerror(errno))
                close(fd)
                unlink(temporary)
                throw WriteError(path: path, reason: "writing \(temporary) failed: \(reason)")
            }
            written += result
        }
        guard fsync(fd) == 0, close(fd) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(temporary)
            throw WriteError(path: path, reason: "flushing \(temporary) failed: \(reason)")
        }
        guard rename(temporary, path) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(temporary)
            throw WriteError(path: path, reason: "renaming \(temporary) into place failed: \(reason)")
        }
    }
}

/// The text a scrape (or the textfile) gets: the registry's metrics with a `# HELP` line before
/// each family that has one, then fixed lines (build info) and the process's own metrics.
public enum PrometheusExposition {
    public static func render(_ registry: PrometheusCollectorRegistry, help: [String: String], extra: String) -> [UInt8] {
        let text = String(decoding: registry.emitToBuffer(), as: UTF8.self)
        var out = ""
        out.reserveCapacity(text.utf8.count + 4096)
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("# TYPE "), let name = line.dropFirst(7).split(separator: " ").first, let description = help[String(name)] {
                out += "# HELP \(name) \(description)\n"
            }
            out += line
            out += "\n"
        }
        while out.hasSuffix("\n\n") { out.removeLast() }
        out += extra
        out += ProcessMetrics.text()
        return Array(out.utf8)
    }
}

/// The standard `process_*` metrics of Prometheus client libraries, read from /proc/self.
public enum ProcessMetrics {
    private static let started = Date()

    public static func text() -> String {
        var lines: [String] = []
        func metric(_ name: String, _ type: String, _ help: String, _ value: Double) {
            lines.append("# HELP \(name) \(help)")
            lines.append("# TYPE \(name) \(type)")
            lines.append("\(name) \(value == value.rounded() && abs(value) < 1e15 ? String(Int64(value)) : String(value))")
        }
        let ticks = Double(sysconf(Int32(_SC_CLK_TCK)))
        if let stat = try? String(contentsOfFile: "/proc/self/stat", encoding: .utf8),
           let close = stat.lastIndex(of: ")") {
            // Fields after "pid (comm)": state is field 3; utime 14, stime 15, starttime 22.
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            if fields.count > 20, let user = Double(fields[11]), let system = Double(fields[12]) {
                metric("process_cpu_seconds_total", "counter", "Total user and system CPU time spent in seconds.", (user + system) / ticks)
            }
        }
        if let statm = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) {
            let pages = statm.split(separator: " ").compactMap { Double($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
            let pageSize = Double(sysconf(Int32(_SC_PAGESIZE)))
            if pages.count > 1 {
                metric("process_virtual_memory_bytes", "gauge", "Virtual memory size in bytes.", pages[0] * pageSize)
                metric("process_resident_memory_bytes", "gauge", "Resident memory size in bytes.", pages[1] * pageSize)
            }
        }
        if let descriptors = try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd") {
            metric("process_open_fds", "gauge", "Number of open file descriptors.", Double(descriptors.count - 1))
        }
        var limit = rlimit()
        if getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 {
            metric("process_max_fds", "gauge", "Maximum number of open file descriptors.", Double(limit.rlim_cur))
        }
        metric("process_start_time_seconds", "gauge", "Start time of the process since the Unix epoch in seconds.", started.timeIntervalSince1970.rounded())
        return lines.joined(separator: "\n") + "\n"
    }
}
