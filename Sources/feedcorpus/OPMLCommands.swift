import ArgumentParser
import FeedConfig
import FeedModel
import FeedParser
import Foundation

struct ImportOPMLCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import-opml",
        abstract: "Print the feeds of an OPML file as YAML `feeds:` entries to add to the config.",
        discussion: """
            The config file is not rewritten (that would lose its comments): append the printed \
            entries under `feeds:`, or name the OPML file in the config with `opml: FILE` instead. \
            With --config, feeds the config already has are left out.
            """)

    @Argument(help: "The OPML file.")
    var file: String

    @Option(name: .shortAndLong, help: "Leave out the feeds this config already lists.")
    var config: String?

    func run() throws {
        guard let data = FileManager.default.contents(atPath: file) else {
            FileHandle.standardError.write(Data("feedcorpus: cannot read \(file): no such file or not readable\n".utf8))
            throw ExitCode(ExitStatus.usageOrConfig)
        }
        let subscriptions: [OPMLSubscription]
        do {
            subscriptions = try OPML.parse([UInt8](data))
        } catch {
            FileHandle.standardError.write(Data("feedcorpus: \(file): \(error.description)\n".utf8))
            throw ExitCode(ExitStatus.usageOrConfig)
        }
        var known = Set<String>()
        if let config {
            do {
                known = Set(try ConfigLoader.load(path: config).feeds.map(\.url))
            } catch {
                FileHandle.standardError.write(Data("feedcorpus: config error: \(error.description)\n".utf8))
                throw ExitCode(ExitStatus.usageOrConfig)
            }
        }
        var printed = 0
        // Entries only: they go under the config's existing `feeds:` (a second `feeds:` key
        // would be a duplicate-key error).
        print("  # from \(file); add these lines under `feeds:`")
        for subscription in subscriptions where !known.contains(subscription.xmlURL) {
            guard ConfigLoader.isWebFeedURL(subscription.xmlURL) else {
                FileHandle.standardError.write(Data("feedcorpus: \(file): skipped '\(LogText.escaped(subscription.xmlURL))': an OPML file may add only http and https feeds\n".utf8))
                continue
            }
            print("  - url: \(Self.yamlString(subscription.xmlURL))")
            if let title = subscription.title { print("    name: \(Self.yamlString(title))") }
            if let category = subscription.category { print("    category: \(Self.yamlString(category))") }
            printed += 1
        }
        FileHandle.standardError.write(Data("feedcorpus: \(printed) of \(subscriptions.count) feeds printed\n".utf8))
    }

    /// A double-quoted YAML scalar.
    static func yamlString(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            default:
                if scalar.value < 0x20 { out += String(format: "\\x%02x", scalar.value) } else { out.unicodeScalars.append(scalar) }
            }
        }
        return out + "\""
    }
}

struct ExportOPMLCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export-opml",
        abstract: "Print the configured feeds as an OPML 2.0 subscription list.")

    @Option(name: .shortAndLong, help: "The YAML configuration file.")
    var config: String = "/etc/feedcorpus/feedcorpus.yaml"

    func run() throws {
        let configuration: Configuration
        do {
            configuration = try ConfigLoader.load(path: config)
        } catch {
            FileHandle.standardError.write(Data("feedcorpus: config error: \(error.description)\n".utf8))
            throw ExitCode(ExitStatus.usageOrConfig)
        }
        let subscriptions = configuration.feeds.map {
            OPMLSubscription(xmlURL: $0.url, title: $0.name, category: $0.category)
        }
        print(OPML.render(subscriptions, title: "feedcorpus feeds (\(configuration.path))"), terminator: "")
    }
}
