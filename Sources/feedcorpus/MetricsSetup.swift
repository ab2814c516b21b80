import FeedConfig
import Foundation
import Logging
import Metrics
import MetricsEndpoint
import Pipeline
import Prometheus

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

    /// Writes the textfile, if one is configured; a failure is logged, never fatal.
    func writeTextfile(logger: Logger) {
        guard let path = settings.textfile else { return }
        do {
            try PrometheusTextfile.write(registry, to: path)
        } catch {
            logger.error("cannot write the metrics textfile", metadata: ["path": "\(path)", "error": "\(error)"])
        }
    }
}
