import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Logging
import MetricsEndpoint
import Prometheus
import ServiceLifecycle
import Synchronization
import Testing

/// The listener in-process, on a loopback port of its own choosing.
@Suite(.serialized) struct MetricsEndpointTests {
    func get(_ url: String, method: String = "GET") async throws -> (status: Int, body: String, contentType: String?) {
        var request = URLRequest(url: try #require(URL(string: url)))
        request.httpMethod = method
        let (data, response) = try await URLSession.shared.data(for: request)
        let http = try #require(response as? HTTPURLResponse)
        return (http.statusCode, String(decoding: data, as: UTF8.self), http.value(forHTTPHeaderField: "Content-Type"))
    }

    @Test func servesMetricsAndHealthAndNothingElse() async throws {
        let healthy = Mutex(true)
        let (ports, port) = AsyncStream.makeStream(of: Int.self)
        let endpoint = MetricsEndpoint(host: "127.0.0.1", port: 0, exposition: { Array("test_metric 1\n".utf8) }, logger: Logger(label: "test"),
                                       health: { healthy.withLock { HealthReport(healthy: $0, json: "{\"status\":\"\($0 ? "ok" : "stalled")\"}") } },
                                       onListening: { port.yield($0) })
        let group = ServiceGroup(configuration: .init(services: [.init(service: endpoint)], logger: Logger(label: "test")))
        let running = Task { try await group.run() }
        var iterator = ports.makeAsyncIterator()
        let bound = try #require(await iterator.next())
        #expect(bound > 0)
        let base = "http://127.0.0.1:\(bound)"

        let metrics = try await get(base + "/metrics")
        #expect(metrics.status == 200 && metrics.body == "test_metric 1\n")
        #expect(metrics.contentType?.hasPrefix("text/plain; version=0.0.4") == true)
        let health = try await get(base + "/healthz")
        #expect(health.status == 200 && health.body.contains("\"status\":\"ok\"") && health.contentType == "application/json")
        healthy.withLock { $0 = false }
        let sick = try await get(base + "/healthz")
        #expect(sick.status == 503 && sick.body.contains("stalled"))
        #expect(try await get(base + "/other").status == 404)
        #expect(try await get(base + "/metrics", method: "POST").status == 405)

        await group.triggerGracefulShutdown()
        try await running.value
    }

    @Test func anAddressInUseIsAClearError() async throws {
        let (ports, port) = AsyncStream.makeStream(of: Int.self)
        let first = MetricsEndpoint(host: "127.0.0.1", port: 0, exposition: { [] }, logger: Logger(label: "test"),
                                    health: { HealthReport(healthy: true, json: "{}") }, onListening: { port.yield($0) })
        let group = ServiceGroup(configuration: .init(services: [.init(service: first)], logger: Logger(label: "test")))
        let running = Task { try await group.run() }
        var iterator = ports.makeAsyncIterator()
        let taken = try #require(await iterator.next())
        let second = MetricsEndpoint(host: "127.0.0.1", port: taken, exposition: { [] }, logger: Logger(label: "test"),
                                     health: { HealthReport(healthy: true, json: "{}") })
        do {
            try await second.run()
            Issue.record("a second listener on port \(taken) started")
        } catch let error as MetricsEndpointError {
            #expect(error.description.contains("cannot listen for metrics on 127.0.0.1:\(taken)"))
            #expect(error.description.contains("metrics.listen"))
        }
        await group.triggerGracefulShutdown()
        try await running.value
    }

    @Test func theExpositionCarriesHelpLinesTheExtraTextAndProcessMetrics() {
        let registry = PrometheusCollectorRegistry()
        registry.makeCounter(name: "feedcorpus_test_total").increment(by: Int64(3))
        let text = String(decoding: PrometheusExposition.render(registry, help: ["feedcorpus_test_total": "Things counted."],
                                                                extra: "extra_line 1\n"), as: UTF8.self)
        #expect(text.contains("# HELP feedcorpus_test_total Things counted.\n# TYPE feedcorpus_test_total counter\nfeedcorpus_test_total 3\n"))
        #expect(text.contains("extra_line 1\n"))
        #expect(text.contains("process_resident_memory_bytes "))
    }

    @Test func theTextfileIsReplacedWholeAndAMissingFolderIsNamed() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("metrics-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("feedcorpus.prom").path
        try PrometheusTextfile.write(Array("a 1\n".utf8), to: path)
        try PrometheusTextfile.write(Array("b 2\n".utf8), to: path)
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "b 2\n")
        #expect(!FileManager.default.fileExists(atPath: path + ".tmp"))
        let missing = folder.appendingPathComponent("nope/feedcorpus.prom").path
        #expect(throws: PrometheusTextfile.WriteError.self) { try PrometheusTextfile.write([], to: missing) }
        do {
            try PrometheusTextfile.write([], to: missing)
        } catch {
            #expect(error.description.contains("the folder \(folder.path)/nope does not exist"))
        }
    }
}
