import FeedModel
import Foundation
import Logging

/// How log lines look.
public enum LogFormat: String, Sendable, CaseIterable {
    /// Readable lines with a timestamp, for a terminal or a file.
    case text
    /// For journald (chosen automatically when `$JOURNAL_STREAM` is set): no timestamp (the
    /// journal adds one) and a syslog priority prefix such as `<4>` so levels survive.
    case journal
    /// One JSON object per line, for log shippers.
    case json

    /// `journal` under systemd, else `text`.
    public static func automatic(environment: [String: String] = ProcessInfo.processInfo.environment) -> LogFormat {
        environment["JOURNAL_STREAM"].map { $0.isEmpty ? .text : .journal } ?? .text
    }
}

/// A swift-log handler writing `LogFormat` lines to standard error.
public struct FeedCorpusLogHandler: LogHandler {
    public var logLevel: Logger.Level
    public var metadata: Logger.Metadata = [:]
    public let label: String
    public let format: LogFormat
    private let write: @Sendable (String) -> Void

    public init(label: String, format: LogFormat, level: Logger.Level,
                write: @escaping @Sendable (String) -> Void = { FileHandle.standardError.write(Data($0.utf8)) }) {
        self.label = label
        self.format = format
        self.logLevel = level
        self.write = write
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var merged = metadata
        if let extra = event.metadata { merged.merge(extra) { $1 } }
        write(Self.line(format: format, level: event.level, message: "\(event.message)", metadata: merged, label: label, date: Date()))
    }

    public func log(level: Logger.Level, message: Logger.Message, metadata: Logger.Metadata?, source: String,
                    file: String, function: String, line: UInt) {
        var merged = self.metadata
        if let metadata { merged.merge(metadata) { $1 } }
        write(Self.line(format: format, level: level, message: "\(message)", metadata: merged, label: label, date: Date()))
    }

    /// One formatted line, newline included.
    public static func line(format: LogFormat, level: Logger.Level, message: String, metadata: Logger.Metadata,
                            label: String, date: Date) -> String {
        let pairs = metadata.sorted { $0.key < $1.key }
        let message = URLCredentials.strippedInText(message)
        switch format {
        case .text:
            // Values come from feeds: a newline in one must not forge a second log line.
            let suffix = pairs.map { " \($0.key)=\(quoted(LogText.escaped(URLCredentials.strippedInText("\($0.value)"))))" }.joined()
            return "\(ISO8601.string(date)) \(level.rawValue) \(LogText.escaped(message))\(suffix)\n"
        case .journal:
            let suffix = pairs.map { " \($0.key)=\(quoted(LogText.escaped(URLCredentials.strippedInText("\($0.value)"))))" }.joined()
            return "<\(syslogPriority(level))>\(LogText.escaped(message))\(suffix)\n"
        case .json:
            var object: [String: Any] = ["time": ISO8601.string(date), "level": level.rawValue, "message": message, "logger": label]
            for (key, value) in pairs where object[key] == nil { object[key] = URLCredentials.strippedInText("\(value)") }
            let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data()
            return String(decoding: data, as: UTF8.self) + "\n"
        }
    }

    /// RFC 5424 severities.
    public static func syslogPriority(_ level: Logger.Level) -> Int {
        switch level {
        case .trace, .debug: return 7
        case .info: return 6
        case .notice: return 5
        case .warning: return 4
        case .error: return 3
        case .critical: return 2
        }
    }

    static func quoted(_ value: String) -> String {
        value.contains(where: { $0 == " " || $0 == "\"" || $0 == "=" }) ? "\"\(value.replacingOccurrences(of: "\"", with: "\\\""))\"" : value
    }
}
