import CLibXML2
import DatesAndCharsets
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
    /// The child elements, in order (the elements of `children`).
    public internal(set) var childElements: [HTMLElement] = []
    /// The parent element. The tree owns its elements from the root down: a parent is valid
    /// while the root of its tree is alive (unowned for speed; pages have thousands of elements).
    public internal(set) unowned(unsafe) var parent: HTMLElement?
    /// The element's number in document order, from 0 for the tree's root element.
    public internal(set) var index = 0
    /// On the root: how many elements the tree has (indexes are below this number).
    public internal(set) var elementCount = 0

    init(name: String, attributes: [(name: String, value: String)]) {
        self.name = name
        self.attributes = attributes
    }

    /// The value of the attribute `name` (lower case), if present.
    public func attribute(_ name: String) -> String? {
        for attribute in attributes where attribute.name == name { return attribute.value }
        return nil
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
        if let http = httpCharset.flatMap(ByteDecoding.normalizedCharsetName) { return http }
        if let meta = metaCharset(bytes).flatMap(ByteDecoding.normalizedCharsetName) { return meta }
        return "utf-8"
    }

    /// The charset named by a `<meta>` element near the start of the page.
    static func metaCharset(_ bytes: [UInt8]) -> String? {
        // ASCII lower case of the head; other bytes stay as they are.
        let head = bytes.prefix(4096).map { $0 >= 0x41 && $0 <= 0x5A ? $0 | 0x20 : $0 }
        func find(_ word: [UInt8], from start: Int, to end: Int) -> Int? {
            guard end - start >= word.count else { return nil }
            for index in start...(end - word.count) where head[index] == word[0] && head[index..<index + word.count].elementsEqual(word) {
                return index
            }
            return nil
        }
        var searchStart = 0
        while let meta = find(Array("<meta".utf8), from: searchStart, to: head.count) {
            let end = head[(meta + 5)...].firstIndex(of: UInt8(ascii: ">")) ?? head.count
            if let found = find(Array("charset".utf8), from: meta + 5, to: end) {
                var index = found + 7
                while index < end, head[index] == 0x20 { index += 1 }
                if index < end, head[index] == UInt8(ascii: "=") {
                    index += 1
                    while index < end, head[index] == 0x20 || head[index] == 0x22 || head[index] == 0x27 { index += 1 }
                    let start = index
                    while index < end, !" \"';/>".utf8.contains(head[index]) { index += 1 }
                    if index > start { return String(decoding: head[start..<index], as: UTF8.self) }
                }
            }
            searchStart = end
        }
        return nil
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
        // A NUL byte ends libxml2's input (browsers drop it): pages padded with NULs lost
        // everything after them, the story too.
        let hasNUL = input.withUnsafeBufferPointer { buffer in buffer.baseAddress.map { memchr($0, 0, buffer.count) != nil } ?? false }
        if encoding == "utf-8", hasNUL { input.removeAll { $0 == 0 } }
        if encoding == "utf-8" { input = InertContent.strip(input) }
        if !encoding.hasPrefix("utf-16") && !encoding.hasPrefix("utf-32") {
            input = TagLimits.capped(input)
            input = BlockEnds.balanced(input)
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
        let top: HTMLElement
        if let html = root.childElements.first(where: { $0.name == "html" }) {
            html.parent = nil
            top = html
        } else if !root.childElements.isEmpty {
            top = root
        } else {
            return nil
        }
        var count = 0
        func number(_ element: HTMLElement) {
            element.index = count
            count += 1
            for child in element.childElements { number(child) }
        }
        number(top)
        top.elementCount = count
        return top
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
                parent.childElements.append(element)
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

/// Removes what never becomes text before libxml2 sees the page: comments, scripts (except
/// JSON-LD), styles, `noscript` and `template` contents, and `svg` drawings. Pages are often more
/// than half script; libxml2's HTML tokenizer reads it a character at a time. Works on ASCII
/// markup, so it only runs on UTF-8 (or ASCII-compatible, already converted) input.
enum InertContent {
    static func strip(_ input: [UInt8]) -> [UInt8] {
        input.withUnsafeBufferPointer { buffer -> [UInt8] in
            guard let base = buffer.baseAddress else { return input }
            let count = buffer.count
            var output: [UInt8] = []
            output.reserveCapacity(count)
            var copied = 0
            var index = 0
            func lower(_ i: Int) -> UInt8 { let b = base[i]; return b >= 0x41 && b <= 0x5A ? b | 0x20 : b }
            func matches(_ word: StaticString, at i: Int) -> Bool {
                let length = word.utf8CodeUnitCount
                guard i + length <= count else { return false }
                let pointer = word.utf8Start
                for k in 0..<length where lower(i + k) != pointer[k] { return false }
                return true
            }
            func isNameEnd(_ i: Int) -> Bool {
                guard i < count else { return true }
                let b = base[i]
                return b == 0x20 || b == 0x09 || b == 0x0A || b == 0x0D || b == 0x0C || b == 0x3E || b == 0x2F
            }
            func find(_ word: StaticString, from start: Int) -> Int? {
                let first = word.utf8Start[0]
                var i = start
                while i < count {
                    guard let found = memchr(base + i, Int32(first), count - i) else { return nil }
                    let position = base.distance(to: found.assumingMemoryBound(to: UInt8.self))
                    if matches(word, at: position) { return position }
                    i = position + 1
                }
                return nil
            }
            func tagEnd(from start: Int) -> Int { TagLimits.tagEnd(base, count, from: start) }
            /// Skips to after `</name ... >`, or to the end.
            func elementEnd(closing: StaticString, from start: Int) -> Int {
                var i = start
                while let position = find(closing, from: i) {
                    if isNameEnd(position + closing.utf8CodeUnitCount) { return tagEnd(from: position) }
                    i = position + 1
                }
                return count
            }
            while index < count {
                guard let found = memchr(base + index, 0x3C, count - index) else { break }
                let open = base.distance(to: found.assumingMemoryBound(to: UInt8.self))
                var skipTo: Int?
                if matches("<!--", at: open) {
                    skipTo = find("-->", from: open + 4).map { $0 + 3 } ?? count
                } else if matches("<script", at: open), isNameEnd(open + 7) {
                    let end = tagEnd(from: open + 7)
                    var isJSONLD = false
                    if end - open > 16 {
                        for position in (open + 7)...(end - 7) where matches("ld+json", at: position) {
                            isJSONLD = true
                            break
                        }
                    }
                    if !isJSONLD { skipTo = elementEnd(closing: "</script", from: end) }
                } else {
                    for (opening, closing) in [("<style", "</style"), ("<noscript", "</noscript"), ("<template", "</template"), ("<svg", "</svg")] as [(StaticString, StaticString)]
                    where matches(opening, at: open) && isNameEnd(open + opening.utf8CodeUnitCount) {
                        skipTo = elementEnd(closing: closing, from: open + opening.utf8CodeUnitCount)
                        break
                    }
                }
                if let skipTo {
                    output.append(contentsOf: UnsafeBufferPointer(rebasing: buffer[copied..<open]))
                    // A space keeps the words on either side apart.
                    output.append(0x20)
                    copied = skipTo
                    index = skipTo
                } else {
                    index = open + 1
                }
            }
            if copied == 0 { return input }
            output.append(contentsOf: UnsafeBufferPointer(rebasing: buffer[copied..<count]))
            return output
        }
    }
}

/// Bounds what one start tag may carry before libxml2 sees it: libxml2's HTML parser checks each
/// new attribute against all earlier ones of the element, so its time grows with the square of
/// the attributes on one tag (20,000 took 1.4 s, 300,000 more than 300 s). A tag with more than
/// `maxAttributes` attributes, or longer than `maxTagBytes`, is cut there and closed; no real
/// page comes near either limit. Works on the ASCII structure of the markup, so any
/// ASCII-compatible encoding is safe.
/// End tags of block elements closed as browsers close them. An HTML parser closes every element
/// still open inside a `<nav>` at `</nav>` (and the same for `</header>`, `</section>`...);
/// libxml2's HTML4 parser ignores such an end tag when a `<div>` inside is still open, so one
/// unclosed `<div>` in a menu puts the rest of the page, the story too, inside the `<nav>`.
/// This pass writes the missing `</div>` tags in front of such an end tag.
public enum BlockEnds {
    /// Block elements whose end tag closes what is open inside them (HTML's "special" elements
    /// that pages use as containers).
    static let containers: Set<[UInt8]> = Set([
        "address", "article", "aside", "blockquote", "center", "details", "dialog", "div", "dl", "fieldset", "figcaption",
        "figure", "footer", "header", "hgroup", "main", "menu", "nav", "ol", "section", "summary", "ul",
    ].map { Array($0.utf8) })
    static let div: [UInt8] = Array("div".utf8)

    public static func balanced(_ input: [UInt8]) -> [UInt8] {
        input.withUnsafeBufferPointer { buffer -> [UInt8] in
            guard let base = buffer.baseAddress else { return input }
            let count = buffer.count
            var stack: [[UInt8]] = []
            var insertions: [(position: Int, divs: Int)] = []
            var index = 0
            while index < count {
                guard let found = memchr(base + index, 0x3C, count - index) else { break }
                let open = base.distance(to: found.assumingMemoryBound(to: UInt8.self))
                var i = open + 1
                let closing = i < count && base[i] == 0x2F
                if closing { i += 1 }
                let nameStart = i
                while i < count, Self.isNameByte(base[i]) { i += 1 }
                index = max(i, open + 1)
                guard i > nameStart, i - nameStart <= 10 else { continue }
                let name = (nameStart..<i).map { base[$0] | 0x20 }
                guard containers.contains(name) else { continue }
                if !closing {
                    stack.append(name)
                    if stack.count > 4_096 { return input }  // a page nested that deep is left to the parser
                } else if let at = stack.lastIndex(of: name) {
                    let divs = stack[(at + 1)...].filter { $0 == div }.count
                    if divs > 0, name != div { insertions.append((open, divs)) }
                    stack.removeSubrange(at...)
                }
            }
            guard !insertions.isEmpty else { return input }
            var output: [UInt8] = []
            output.reserveCapacity(count + insertions.reduce(0) { $0 + 6 * $1.divs })
            var copied = 0
            for insertion in insertions {
                output.append(contentsOf: UnsafeBufferPointer(rebasing: buffer[copied..<insertion.position]))
                for _ in 0..<insertion.divs { output.append(contentsOf: Array("</div>".utf8)) }
                copied = insertion.position
            }
            output.append(contentsOf: UnsafeBufferPointer(rebasing: buffer[copied..<count]))
            return output
        }
    }

    private static func isNameByte(_ b: UInt8) -> Bool {
        (b | 0x20) >= 0x61 && (b | 0x20) <= 0x7A || (b >= 0x30 && b <= 0x39)
    }
}

public enum TagLimits {
    public static let maxAttributes = 256
    public static let maxTagBytes = 64 * 1024

    public static func capped(_ input: [UInt8]) -> [UInt8] {
        input.withUnsafeBufferPointer { buffer -> [UInt8] in
            guard let base = buffer.baseAddress else { return input }
            let count = buffer.count
            var output: [UInt8] = []
            var copied = 0
            var index = 0
            while index < count {
                guard let found = memchr(base + index, 0x3C, count - index) else { break }
                let open = base.distance(to: found.assumingMemoryBound(to: UInt8.self))
                index = open + 1
                guard index < count, Self.isLetter(base[index]) else { continue }
                // Scan the tag as a browser tokenizes it, counting attribute names, until `>`.
                var i = index
                while i < count, !Self.isSpace(base[i]), base[i] != 0x3E, base[i] != 0x2F { i += 1 }
                var state = TagState.beforeName
                var attributes = 0
                var cut: Int?
                while i < count {
                    let step = state.advance(base[i])
                    if step.ended { break }
                    state = step.state
                    if step.startsName {
                        attributes += 1
                        if attributes > maxAttributes { cut = i; break }
                    }
                    if i - open >= maxTagBytes { cut = i; break }
                    i += 1
                }
                guard let cut else {
                    index = i
                    continue
                }
                // Keep the tag up to the cut, close it, and skip the rest of it.
                if output.isEmpty { output.reserveCapacity(count) }
                output.append(contentsOf: UnsafeBufferPointer(rebasing: buffer[copied..<cut]))
                if case let .quoted(quote) = state { output.append(quote) }
                output.append(0x3E)
                let end = Self.tagEnd(base, count, from: cut, state: state)
                copied = end
                index = end
            }
            if copied == 0 { return input }
            output.append(contentsOf: UnsafeBufferPointer(rebasing: buffer[copied..<count]))
            return output
        }
    }

    /// Where the tokenizer is inside a start tag, after its name. As in browsers (and libxml2),
    /// a quote only opens a value right after `=`: a stray `"` elsewhere (`content=“abc"`, a
    /// curly-quoted value closed by a straight quote) is text of an unquoted value or a name, so
    /// it cannot make the rest of the page one long attribute.
    enum TagState: Equatable {
        case beforeName, name, afterName, beforeValue, quoted(UInt8), unquoted

        /// The state after byte `b`; `ended` when `b` is the `>` that ends the tag, `startsName`
        /// when `b` starts an attribute name.
        @inline(__always)
        func advance(_ b: UInt8) -> (state: TagState, ended: Bool, startsName: Bool) {
            let space = b == 0x20 || b == 0x09 || b == 0x0A || b == 0x0D || b == 0x0C
            switch self {
            case let .quoted(quote):
                return (b == quote ? .beforeName : self, false, false)
            case .beforeName:
                if space || b == 0x2F { return (.beforeName, false, false) }
                if b == 0x3E { return (self, true, false) }
                return (.name, false, true)
            case .name:
                if space { return (.afterName, false, false) }
                if b == 0x3D { return (.beforeValue, false, false) }
                if b == 0x3E { return (self, true, false) }
                if b == 0x2F { return (.beforeName, false, false) }
                return (.name, false, false)
            case .afterName:
                if space { return (.afterName, false, false) }
                if b == 0x3D { return (.beforeValue, false, false) }
                if b == 0x3E { return (self, true, false) }
                if b == 0x2F { return (.beforeName, false, false) }
                return (.name, false, true)
            case .beforeValue:
                if space { return (.beforeValue, false, false) }
                if b == 0x22 || b == 0x27 { return (.quoted(b), false, false) }
                if b == 0x3E { return (self, true, false) }
                return (.unquoted, false, false)
            case .unquoted:
                if space { return (.beforeName, false, false) }
                if b == 0x3E { return (self, true, false) }
                return (.unquoted, false, false)
            }
        }
    }

    /// The index after the `>` that ends a tag, scanning from `start` in tokenizer state
    /// `state`; `count` when the tag never ends.
    static func tagEnd(_ base: UnsafePointer<UInt8>, _ count: Int, from start: Int, state initial: TagState = .beforeName) -> Int {
        var i = start
        var state = initial
        while i < count {
            let step = state.advance(base[i])
            if step.ended { return i + 1 }
            state = step.state
            i += 1
        }
        return count
    }

    private static func isLetter(_ b: UInt8) -> Bool { (b | 0x20) >= 0x61 && (b | 0x20) <= 0x7A }
    private static func isSpace(_ b: UInt8) -> Bool { b == 0x20 || b == 0x09 || b == 0x0A || b == 0x0D || b == 0x0C }
}
