import CLibXML2
import DatesAndCharsets
import Foundation

/// Turns HTML markup into plain text paragraphs with libxml2's forgiving HTML parser.
///
/// Block elements (`p`, `div`, `li`, headings, `br`, ...) end a paragraph; inline text is joined
/// with white space collapsed; entities are decoded; scripts, styles, form controls, embedded objects and
/// figure captions are left out.
public enum HTMLText {
    /// The paragraphs of an HTML fragment or document, in reading order.
    public static func paragraphs(fromHTML html: String) -> [String] {
        guard html.utf8.contains(where: { $0 == UInt8(ascii: "<") || $0 == UInt8(ascii: "&") }) else {
            // Plain text: paragraphs are separated by blank lines or single line breaks.
            return plainTextParagraphs(html)
        }
        // A fragment goes inside a body: at the top level libxml2 would wrap loose text after an
        // inline element in an implied <p>, splitting "<i>Sub</i>title" into two paragraphs.
        let source = hasBodyTag(html) ? html : "<html><body>" + html + "</body></html>"
        return HTMLDocument.parse(source).map { document in
            var collector = ParagraphCollector()
            if let root = document.root { collector.walk(root) }
            collector.flush()
            return collector.paragraphs
        } ?? []
    }

    /// True when the markup has a `<body` tag (in any case).
    static func hasBodyTag(_ html: String) -> Bool {
        var html = html
        return html.withUTF8 { bytes in
            guard let base = bytes.baseAddress else { return false }
            var offset = 0
            while offset < bytes.count, let found = memchr(base + offset, 0x3C, bytes.count - offset) {  // "<"
                let open = base.distance(to: found.assumingMemoryBound(to: UInt8.self))
                if open + 4 < bytes.count, bytes[open + 1] | 0x20 == 0x62, bytes[open + 2] | 0x20 == 0x6F,
                   bytes[open + 3] | 0x20 == 0x64, bytes[open + 4] | 0x20 == 0x79 {  // "body", any case
                    return true
                }
                offset = open + 1
            }
            return false
        }
    }

    /// Text with markup removed and entities decoded, on one line (for titles and names).
    public static func inlineText(fromHTML html: String) -> String {
        paragraphs(fromHTML: html).joined(separator: " ")
    }

    /// Splits plain text into paragraphs at line breaks, collapsing white space.
    public static func plainTextParagraphs(_ text: String) -> [String] {
        text.split(whereSeparator: { $0.isNewline }).map { collapseWhitespace(String($0)) }
            .filter { !$0.isEmpty }
    }

    /// HTML's white space: space, tab, line feed, form feed, carriage return. Other Unicode
    /// spaces (no-break, em space) are text.
    static func isHTMLSpace(_ scalar: Unicode.Scalar) -> Bool {
        scalar == " " || scalar == "\t" || scalar == "\n" || scalar == "\r" || scalar == "\u{0C}"
    }

    /// Runs of HTML white space become one space; leading and trailing white space goes.
    public static func collapseWhitespace(_ text: String) -> String {
        var text = text
        return text.withUTF8 { bytes -> String? in
            func isSpace(_ byte: UInt8) -> Bool { byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D || byte == 0x0C }
            // Most titles need nothing: no leading, trailing, doubled or non-space white space.
            var clean = bytes.first.map { !isSpace($0) } ?? true
            if clean, let last = bytes.last, isSpace(last) { clean = false }
            if clean {
                var previousSpace = false
                for byte in bytes {
                    let space = isSpace(byte)
                    if space && (byte != 0x20 || previousSpace) { clean = false; break }
                    previousSpace = space
                }
            }
            if clean { return nil }
            var out: [UInt8] = []
            out.reserveCapacity(bytes.count)
            var pendingSpace = false
            for byte in bytes {
                if isSpace(byte) {
                    pendingSpace = true
                } else {
                    if pendingSpace && !out.isEmpty { out.append(0x20) }
                    pendingSpace = false
                    out.append(byte)
                }
            }
            return UTF8String.make(out)
        } ?? text
    }

}

/// A parsed HTML document; frees the libxml2 tree when released.
final class HTMLDocument {
    let doc: htmlDocPtr

    private init(doc: htmlDocPtr) { self.doc = doc }
    deinit { xmlFreeDoc(doc) }

    static func parse(_ html: String, url: String? = nil) -> HTMLDocument? {
        LibXML.initialize()
        let options = Int32(HTML_PARSE_RECOVER.rawValue | HTML_PARSE_NOERROR.rawValue
            | HTML_PARSE_NOWARNING.rawValue | HTML_PARSE_NONET.rawValue | HTML_PARSE_COMPACT.rawValue)
        var utf8 = Array(html.utf8)
        if utf8.isEmpty { return nil }
        let doc: htmlDocPtr? = utf8.withUnsafeMutableBufferPointer { buffer in
            buffer.baseAddress!.withMemoryRebound(to: CChar.self, capacity: buffer.count) {
                htmlReadMemory($0, Int32(buffer.count), url, "UTF-8", options)
            }
        }
        return doc.map(HTMLDocument.init(doc:))
    }

    /// The first node of the document.
    var root: xmlNodePtr? { doc.pointee.children }
}

private struct ParagraphCollector {
    var paragraphs: [String] = []
    /// The paragraph being collected, as UTF-8.
    private var current: [UInt8] = []
    private var pendingSpace = false

    private static let blockElements: Set<String> = [
        "address", "article", "aside", "blockquote", "body", "br", "caption", "dd", "details",
        "dialog", "div", "dl", "dt", "fieldset", "figure", "footer", "form", "h1", "h2", "h3", "h4",
        "h5", "h6", "header", "hr", "html", "li", "main", "nav", "ol", "p", "pre", "section",
        "summary", "table", "tbody", "thead", "tfoot", "tr", "ul",
    ]
    private static let skippedElements: Set<String> = [
        "script", "style", "noscript", "template", "iframe", "object", "embed", "svg", "canvas",
        "button", "select", "textarea", "input", "head", "figcaption", "math", "video", "audio",
    ]
    private static let cellElements: Set<String> = ["td", "th"]

    mutating func walk(_ first: xmlNodePtr) {
        var node: xmlNodePtr? = first
        while let current = node {
            visit(current)
            node = current.pointee.next
        }
    }

    private mutating func visit(_ node: xmlNodePtr) {
        switch node.pointee.type {
        case XML_TEXT_NODE, XML_CDATA_SECTION_NODE:
            if let content = node.pointee.content { appendText(content) }
        case XML_ELEMENT_NODE:
            let name = node.pointee.name.map { String(cString: $0).lowercased() } ?? ""
            if Self.skippedElements.contains(name) { return }
            let isBlock = Self.blockElements.contains(name)
            if isBlock { flush() }
            if Self.cellElements.contains(name) { pendingSpace = true }
            if name == "pre" {
                flush()
                let text = Self.rawText(node)
                for line in text.split(whereSeparator: { $0.isNewline }) {
                    var line = String(line)
                    line.withUTF8 { appendText($0) }
                    flush()
                }
                return
            }
            if let child = node.pointee.children { walk(child) }
            if isBlock { flush() }
        default:
            if let child = node.pointee.children { walk(child) }
        }
    }

    /// Appends a text node's content (NUL-terminated UTF-8). HTML's white space is ASCII, so
    /// the bytes are read as they are.
    private mutating func appendText(_ content: UnsafePointer<xmlChar>) {
        appendText(UnsafeBufferPointer(start: content, count: strlen(content.withMemoryRebound(to: CChar.self, capacity: 1) { $0 })))
    }

    private mutating func appendText(_ bytes: UnsafeBufferPointer<UInt8>) {
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            index += 1
            if byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D || byte == 0x0C {
                pendingSpace = true
                continue
            }
            if pendingSpace && !current.isEmpty { current.append(0x20) }
            pendingSpace = false
            if byte == 0xC2, index < bytes.count, bytes[index] <= 0x9F {
                // A C1 control (from `&#146;` and the like) stands for its Windows-1252
                // character, as HTML reads such references; undefined ones are dropped.
                if let value = ByteDecoding.windows1252Value(ofC1: UInt32(bytes[index])) { ByteDecoding.appendUTF8(value, to: &current) }
                index += 1
                continue
            }
            current.append(byte)
        }
    }

    mutating func flush() {
        if !current.isEmpty { paragraphs.append(UTF8String.make(current)) }
        current.removeAll(keepingCapacity: true)
        pendingSpace = false
    }

    private static func rawText(_ node: xmlNodePtr) -> String {
        var out = ""
        var child = node.pointee.children
        while let current = child {
            if current.pointee.type == XML_TEXT_NODE || current.pointee.type == XML_CDATA_SECTION_NODE {
                if let content = current.pointee.content { out += String(cString: content) }
            } else if current.pointee.type == XML_ELEMENT_NODE {
                let name = current.pointee.name.map { String(cString: $0).lowercased() } ?? ""
                if name == "br" { out += "\n" } else if !skippedElements.contains(name) { out += rawText(current) }
            }
            child = current.pointee.next
        }
        return out
    }
}

/// HTML named character references (`&nbsp;`, `&eacute;`, ...), looked up in libxml2's table.
public enum HTMLEntity {
    /// The text for the named entity `name` (without `&` and `;`), or nil if HTML has no such name.
    public static func decode(_ name: String) -> String? {
        guard let description = htmlEntityLookup(name) else { return nil }
        guard let scalar = Unicode.Scalar(description.pointee.value) else { return nil }
        return String(Character(scalar))
    }
}
