import DatesAndCharsets
import Foundation
import XMLSupport

/// One feed of an OPML subscription list.
public struct OPMLSubscription: Sendable, Equatable {
    public var xmlURL: String
    public var htmlURL: String?
    /// `title`, else `text`.
    public var title: String?
    /// The `category` attribute, else the titles of the enclosing outlines joined with "/".
    public var category: String?

    public init(xmlURL: String, htmlURL: String? = nil, title: String? = nil, category: String? = nil) {
        self.xmlURL = xmlURL
        self.htmlURL = htmlURL
        self.title = title
        self.category = category
    }
}

/// Why an OPML file could not be read.
public struct OPMLError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String
    public var description: String { message }
}

/// Reads and writes OPML subscription lists (OPML 1.0 and 2.0, nested outlines).
public enum OPML {
    /// Every outline with an `xmlUrl`, in document order, at any depth.
    public static func parse(_ bytes: [UInt8]) throws(OPMLError) -> [OPMLSubscription] {
        let handler = OPMLHandler()
        let result: XMLStreamResult
        do {
            result = try XMLStreamParser.parse(bytes, handler: handler)
        } catch {
            throw OPMLError(message: "the OPML file was refused: \(error.description)")
        }
        guard handler.sawRoot else {
            throw OPMLError(message: "not an OPML file (the root element is \(handler.rootName.map { "<\($0)>" } ?? "missing")\(result.firstIssue.map { "; \($0)" } ?? ""))")
        }
        return handler.subscriptions
    }

    /// An OPML 2.0 document listing `subscriptions`.
    public static func render(_ subscriptions: [OPMLSubscription], title: String) -> String {
        var out = """
            <?xml version="1.0" encoding="UTF-8"?>
            <opml version="2.0">
              <head>
                <title>\(escape(title))</title>
                <dateCreated>\(HTTPDate.format(Date()))</dateCreated>
              </head>
              <body>

            """
        for subscription in subscriptions {
            let name = subscription.title ?? subscription.xmlURL
            out += "    <outline type=\"rss\" text=\"\(escape(name))\" title=\"\(escape(name))\" xmlUrl=\"\(escape(subscription.xmlURL))\""
            if let html = subscription.htmlURL { out += " htmlUrl=\"\(escape(html))\"" }
            if let category = subscription.category { out += " category=\"\(escape(category))\"" }
            out += "/>\n"
        }
        out += "  </body>\n</opml>\n"
        return out
    }

    static func escape(_ text: String) -> String {
        var out = ""
        for character in text {
            switch character {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            default: out.append(character)
            }
        }
        return out
    }
}

private final class OPMLHandler: XMLStreamHandler {
    var subscriptions: [OPMLSubscription] = []
    var sawRoot = false
    var rootName: String?
    private var folders: [String?] = []

    func startElement(_ name: XMLName, attributes: [XMLAttribute]) {
        if rootName == nil {
            rootName = name.qualified
            sawRoot = name.localName.lowercased() == "opml"
        }
        guard sawRoot, name.localName == "outline" else { return }
        func value(_ key: String) -> String? {
            attributes.first(where: { $0.name.localName.lowercased() == key.lowercased() })?.value
                .trimmingCharacters(in: .whitespacesAndNewlines).nilIfEmpty
        }
        let title = value("title") ?? value("text")
        if let xmlURL = value("xmlUrl") {
            let path = folders.compactMap { $0 }.joined(separator: "/")
            subscriptions.append(OPMLSubscription(
                xmlURL: xmlURL, htmlURL: value("htmlUrl"), title: title,
                category: value("category") ?? (path.isEmpty ? nil : path)))
            folders.append(nil)
        } else {
            folders.append(title)
        }
    }

    func endElement(_ name: XMLName) {
        if sawRoot, name.localName == "outline", !folders.isEmpty { folders.removeLast() }
    }

    func characters(_ bytes: UnsafeBufferPointer<UInt8>) {}
    func entityReference(named name: String) {}
}

extension String {
    var nilIfEmpty: String? { isEmpty ? nil : self }
}
