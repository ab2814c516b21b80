import Foundation
import XMLSupport

/// The element names RSS's structure turns on, told apart once per distinct name of a document
/// (so the per-element switches compare a byte, not strings).
enum StructureKey: UInt8 {
    case other, item, image, textInput, enclosure, guid, skipHours, skipDays, container, hour, day, url,
         title, link, description, pubDate, author, category

    init(_ name: String) {
        switch name {
        case "title": self = .title
        case "link": self = .link
        case "description": self = .description
        case "pubDate": self = .pubDate
        case "author": self = .author
        case "category": self = .category
        case "item": self = .item
        case "image": self = .image
        case "textinput", "textInput": self = .textInput
        case "enclosure": self = .enclosure
        case "guid": self = .guid
        case "skipHours": self = .skipHours
        case "skipDays": self = .skipDays
        case "channel", "rss", "items", "Seq", "li": self = .container
        case "hour": self = .hour
        case "day": self = .day
        case "url": self = .url
        default: self = .other
        }
    }
}

/// An element name with its namespace resolved.
struct Element {
    var namespace: Namespace
    var name: String {
        didSet { key = StructureKey(name) }
    }
    /// `name` as far as RSS's structure cares.
    private(set) var key: StructureKey

    init(_ xmlName: XMLName) {
        var local = xmlName.localName
        var prefix = xmlName.prefix
        // libxml2 reports an element with an undeclared prefix as one local name "p:name".
        if xmlName.namespaceURI == nil, prefix == nil, local.utf8.contains(UInt8(ascii: ":")),
           let colon = local.firstIndex(of: ":") {
            prefix = String(local[..<colon])
            local = String(local[local.index(after: colon)...])
        }
        self.namespace = Namespace(uri: xmlName.namespaceURI, prefix: prefix)
        self.name = local
        self.key = StructureKey(local)
    }

    init(namespace: Namespace, name: String) {
        self.namespace = namespace
        self.name = name
        self.key = StructureKey(name)
    }

    func `is`(_ namespace: Namespace, _ name: String) -> Bool {
        self.namespace == namespace && self.name == name
    }
}
