import ArgumentParser
import FeedConfig
import FeedDaemon
import FeedModel
import Foundation
import Logging
import MetricsEndpoint
import Pipeline
import ServiceLifecycle
import UnixSignals

struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run as a service: poll each feed on its own schedule until SIGTERM or SIGINT.",
        discussion: """
            SIGTERM/SIGINT: no new feed is started; work in flight may finish within --grace \
            seconds, then it is abandoned (no partial file is ever left); exit 0. SIGHUP: the \
            config is read again (feeds added, removed, changed); a bad config is logged and the \
            old one kept. SIGUSR1: every feed is due now. SIGUSR2: the schedule in the state changed \
            (`poll` and `enable` send it). Between passes the service sleeps until the next feed is due. Under systemd (Type=notify) it reports READY, STATUS, RELOADING, \
            STOPPING and pings the watchdog. With `metrics: {listen: ...}` it serves Prometheus text \
            at /metrics and a health check at /healthz. Exit 75 if the state is locked by another \
            feedcorpus; 2 for a bad config or a metrics address it cannot listen on.
            """)

    @OptionGroup var options: CommonOptions

    @Option(help: "Seconds that work in flight may take to finish after SIGTERM.")
    var grace: Double = 10

    func run() async throws {
        let logger = options.bootstrapLogging()
        let configuration = try options.loadConfiguration()
        let metrics = MetricsSetup.make(configuration.metrics)
        let service = FeedService(settings: .init(configPath: options.config, grace: .milliseconds(Int64(grace * 1000))),
                                  configuration: configuration, logger: logger, metrics: metrics?.pipeline,
                                  afterPass: { _ in metrics?.writeTextfile(logger: logger) })
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = [
            .init(service: service, successTerminationBehavior: .gracefullyShutdownGroup),
        ]
        if let metrics, let port = configuration.metrics.listenPort {
            let endpoint = MetricsEndpoint(host: configuration.metrics.listenHost ?? "127.0.0.1", port: port, exposition: { metrics.exposition() },
                                           logger: logger, health: {
                let health = service.health()
                return HealthReport(healthy: health.healthy, json: health.json)
            })
            services.append(.init(service: endpoint))
        }
        let group = ServiceGroup(configuration: .init(services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        do {
            try await group.run()
        } catch let error as PassError {
            FileHandle.standardError.write(Data("feedcorpus: \(error.description)\n".utf8))
            throw ExitCode(ExitStatus.of(error))
        } catch let error as MetricsEndpointError {
            FileHandle.standardError.write(Data("feedcorpus: \(error.description)\n".utf8))
            throw ExitCode(ExitStatus.usageOrConfig)
        }
    }
}
