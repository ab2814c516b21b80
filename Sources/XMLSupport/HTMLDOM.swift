import CLibXML2
import Foundation

/// A node of a parsed HTML page: an element or a run of text.
public enum HTMLNode {
    case element(HTMLElement)
    case text(String)
}

/// An element of a parsed HTML page, in a plain Swift tree built from libxml2's HTML parser so
/// that the extractor needs no C interop. Names are lower case; comments are dropped; the text
/// of scripts is kept only for JSON-LD, and of styles not at all.
public final class HTMLElement {
    /// The tag name, lower case (`p`, `div`, `article`, ...).
    public let name: String
    /// Attributes in document order, names lower case.
    public let attributes: [(name: String, value: String)]
    public internal(set) var children: [HTMLNode] = []
    public internal(set) weak var parent: HTMLElement?

    init(name: String, attributes: [(name: String, value: String)]) {
        self.name = name
        self.attributes = attributes
    }

    /// The value of the attribute `name` (lower case), if present.
    public func attribute(_ name: String) -> String? {
        for attribute in attributes where attribute.name == name { return attribute.value }
        return nil
    }

    /// The child elements, in order.
    public var childElements: [HTMLElement] {
        children.compactMap { if case .element(let element) = $0 { element } else { nil } }
    }

    /// Every element below this one, depth first in document order.
    public func descendants(_ body: (HTMLElement) -> Void) {
        for child in children {
            if case .element(let element) = child {
                body(element)
                element.descendants(body)
            }
        }
    }

    /// All text below this element joined without separators (raw, white space not collapsed).
    public var textContent: String {
        var out = ""
        appendText(to: &out)
        return out
    }

    private func appendText(to out: inout String) {
        for child in children {
            switch child {
            case .text(let text): out += text
            case .element(let element): element.appendText(to: &out)
            }
        }
    }
}

/// Parses HTML pages with libxml2's forgiving HTML parser into `HTMLElement` trees.
public enum HTMLDOM {
    /// The character encoding of an HTML page, decided as browsers do for the cases that matter:
    /// a byte-order mark, then the HTTP charset, then a `<meta charset>` or
    /// `<meta http-equiv="Content-Type">` in the first 4 KiB, else UTF-8. An undeclared page is
    /// never read as Latin-1: its invalid UTF-8 bytes become U+FFFD.
    public static func charset(of bytes: [UInt8], httpCharset: String?) -> String {
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { return "utf-8" }
        if bytes.starts(with: [0xFE, 0xFF]) { return "utf-16be" }
        if bytes.starts(with: [0xFF, 0xFE]) { return "utf-16le" }
        if let http = httpCharset.flatMap(normalizedCharset) { return http }
        if let meta = metaCharset(bytes).flatMap(normalizedCharset) { return meta }
        return "utf-8"
    }

    /// The charset named by a `<meta>` element near the start of the page.
    static func metaCharset(_ bytes: [UInt8]) -> String? {
        let head = String(decoding: bytes.prefix(4096), as: UTF8.self).lowercased()
        var searchStart = head.startIndex
        while let meta = head.range(of: "<meta", range: searchStart..<head.endIndex) {
            let end = head[meta.upperBound...].firstIndex(of: ">") ?? head.endIndex
            let tag = head[meta.upperBound..<end]
            if let range = tag.range(of: "charset") {
                var rest = tag[range.upperBound...].drop(while: { $0 == " " })
                if rest.first == "=" {
                    rest = rest.dropFirst().drop(while: { $0 == " " || $0 == "\"" || $0 == "'" })
                    let name = rest.prefix(while: { !" \"';/>".contains($0) })
                    if !name.isEmpty { return String(name) }
                }
            }
            searchStart = end
        }
        return nil
    }

    static func normalizedCharset(_ raw: String) -> String? {
        let name = raw.trimmingCharacters(in: .whitespaces).lowercased()
        switch name {
        case "": return nil
        case "utf-8", "utf8", "unicode-1-1-utf-8", "utf-16", "utf16", "unicode": return "utf-8"
        case "iso-8859-1", "iso8859-1", "iso_8859-1", "latin1", "latin-1", "l1", "us-ascii", "ascii",
             "windows-1252", "cp1252", "x-cp1252", "ansi_x3.4-1968":
            return "windows-1252"
        default: return name
        }
    }

    /// Parses a page. `bytes` are decoded with `charset(of:httpCharset:)`; the page's own meta
    /// charset cannot switch the decoding half-way. Returns the `<html>` element (libxml2
    /// supplies it when the markup lacks one), or nil for an empty page.
    public static func parse(_ bytes: [UInt8], httpCharset: String? = nil, url: String? = nil) -> HTMLElement? {
        var input = bytes
        var encoding = charset(of: bytes, httpCharset: httpCharset)
        switch encoding {
        case "utf-8":
            if input.starts(with: [0xEF, 0xBB, 0xBF]) { input.removeFirst(3) }
            input = ByteDecoding.repairedUTF8(input)
        case "windows-1252":
            input = ByteDecoding.windows1252ToUTF8(input, all: true)
            encoding = "utf-8"
        default:
            if !XMLStreamParser.supportsEncoding(encoding) {
                input = ByteDecoding.repairedUTF8(input)
                encoding = "utf-8"
            }
        }
        guard !input.isEmpty else { return nil }
        LibXML.initialize()
        let options = Int32(HTML_PARSE_RECOVER.rawValue | HTML_PARSE_NOERROR.rawValue
            | HTML_PARSE_NOWARNING.rawValue | HTML_PARSE_NONET.rawValue | HTML_PARSE_COMPACT.rawValue
            | HTML_PARSE_IGNORE_ENC.rawValue)
        let doc: htmlDocPtr? = input.withUnsafeBufferPointer { buffer in
            buffer.baseAddress.flatMap { base in
                base.withMemoryRebound(to: CChar.self, capacity: buffer.count) {
                    htmlReadMemory($0, Int32(clamping: buffer.count), url, encoding.uppercased(), options)
                }
            }
        }
        guard let doc else { return nil }
        defer { xmlFreeDoc(doc) }
        let root = HTMLElement(name: "#document", attributes: [])
        var builder = TreeBuilder()
        builder.build(children: doc.pointee.children, into: root, depth: 0)
        if let html = root.childElements.first(where: { $0.name == "html" }) {
            html.parent = nil
            return html
        }
        return root.childElements.isEmpty ? nil : root
    }
}

private struct TreeBuilder {
    /// libxml2's HTML parser caps nesting itself (256); this only guards our recursion.
    static let maximumDepth = 400
    var names: [UnsafePointer<xmlChar>: String] = [:]

    mutating func name(_ pointer: UnsafePointer<xmlChar>?) -> String {
        guard let pointer else { return "" }
        if let known = names[pointer] { return known }
        let string = String(cString: pointer).lowercased()
        names[pointer] = string
        return string
    }

    mutating func build(children first: xmlNodePtr?, into parent: HTMLElement, depth: Int) {
        var node = first
        while let current = node {
            node = current.pointee.next
            switch current.pointee.type {
            case XML_TEXT_NODE, XML_CDATA_SECTION_NODE:
                if let content = current.pointee.content {
                    parent.children.append(.text(String(cString: content)))
                }
            case XML_ELEMENT_NODE:
                let elementName = name(current.pointee.name)
                var attributes: [(name: String, value: String)] = []
                var attribute = current.pointee.properties
                while let property = attribute {
                    attribute = property.pointee.next
                    let attributeName = name(property.pointee.name)
                    var value = ""
                    var text = property.pointee.children
                    while let part = text {
                        if let content = part.pointee.content { value += String(cString: content) }
                        text = part.pointee.next
                    }
                    attributes.append((attributeName, value))
                }
                let element = HTMLElement(name: elementName, attributes: attributes)
                element.parent = parent
                parent.children.append(.element(element))
                switch elementName {
                case "style", "template":
                    continue
                case "script":
                    guard element.attribute("type")?.lowercased().contains("ld+json") == true else { continue }
                default:
                    break
                }
                if depth < Self.maximumDepth {
                    build(children: current.pointee.children, into: element, depth: depth + 1)
                }
            default:
                continue
            }
        }
    }
}
