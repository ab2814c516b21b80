import FeedConfig
import Foundation
import Fetcher
import Logging
import Metrics
import MetricsEndpoint
import Pipeline
import Prometheus
import StateStore
import XMLSupport

/// The Prometheus registry behind `metrics:` (listener and/or textfile), with swift-metrics
/// bootstrapped to it. Nil when the config asks for neither.
struct MetricsSetup: Sendable {
    let registry: PrometheusCollectorRegistry
    let pipeline: PipelineMetrics
    let settings: MetricsSettings

    static func make(_ settings: MetricsSettings) -> MetricsSetup? {
        guard settings.listenPort != nil || settings.textfile != nil else { return nil }
        let registry = PrometheusCollectorRegistry()
        var factory = PrometheusMetricsFactory(registry: registry)
        for label in ["feedcorpus_fetch_duration_seconds", "feedcorpus_parse_duration_seconds", "feedcorpus_pass_duration_seconds"] {
            factory.durationHistogramBuckets[label] = PipelineMetrics.durationBuckets
        }
        factory.valueHistogramBuckets["feedcorpus_publish_to_ingest_lag_seconds"] = PipelineMetrics.lagBuckets
        MetricsSystem.bootstrap(factory)
        return MetricsSetup(registry: registry, pipeline: PipelineMetrics(factory: factory), settings: settings)
    }

    /// `feedcorpus_build_info`: the version, commit and libraries, as labels of a constant 1.
    static let buildInfo: String = {
        func label(_ text: String) -> String { text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") }
        return "# HELP feedcorpus_build_info The feedcorpus build and the libraries it runs with.\n"
            + "# TYPE feedcorpus_build_info gauge\n"
            + "feedcorpus_build_info{version=\"\(label(FeedCorpusVersion.string))\",commit=\"\(label(buildCommit))\","
            + "libcurl=\"\(label(HTTPClient.libcurlVersion))\",libxml2=\"\(label(LibXMLVersion.string))\",sqlite=\"\(label(StateStore.sqliteVersion))\"} 1\n"
    }()

    /// The text a scrape or the textfile gets.
    func exposition() -> [UInt8] {
        PrometheusExposition.render(registry, help: PipelineMetrics.help.merging(Self.materializerHelp) { first, _ in first }, extra: Self.buildInfo)
    }

    /// `feedcorpus materialize`'s metrics (cluster mode).
    static let materializerHelp: [String: String] = [
        "feedcorpus_materialized_stories_total": "Stories this corpus copy's materializer wrote since it started.",
        "feedcorpus_copy_position": "Commit sequence number of the last story in this corpus copy.",
        "feedcorpus_copy_behind_stories": "Stories committed to the shared state and not yet in this corpus copy.",
        "feedcorpus_materialize_errors_total": "Materializer batches that failed (retried after --interval).",
        "feedcorpus_last_materialized_timestamp_seconds": "When the materializer last found its copy up to date (Unix time).",
    ]

    /// Serves `/metrics` and `/healthz` at the configured listen address until cancelled (at
    /// once when none is configured). False, after saying why on stderr, when the address
    /// cannot be listened on.
    func serve(logger: Logger, health: @escaping @Sendable () -> HealthReport) async -> Bool {
        guard let port = settings.listenPort else { return true }
        let endpoint = MetricsEndpoint(host: settings.listenHost ?? "127.0.0.1", port: port, exposition: { exposition() },
                                       logger: logger, health: health)
        do {
            try await endpoint.run()
        } catch is CancellationError {
        } catch {
            FileHandle.standardError.write(Data("feedcorpus: \(error)\n".utf8))
            return false
        }
        return true
    }

    /// Writes the textfile, if one is configured; a failure is logged, never fatal.
    func writeTextfile(logger: Logger) {
        guard let path = settings.textfile else { return }
        do {
            try PrometheusTextfile.write(exposition(), to: path)
        } catch {
            logger.error("cannot write the metrics textfile", metadata: ["path": "\(path)", "error": "\(error)"])
        }
    }
}
