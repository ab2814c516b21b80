import Foundation
import XMLSupport

/// Receives SAX events, tracks `xml:base`, captures element text and forwards to the adapter
/// that the root element selects.
final class FeedDocumentHandler: XMLStreamHandler {
    // One parse owns this object on one thread, and no access to a property overlaps another:
    // `@exclusivity(unchecked)` drops the run-time exclusivity checks of the per-event state
    // (about 3 % of a feed parse).
    private(set) var adapter: FeedFormatAdapter?
    private(set) var rootName: String?
    private(set) var rootLanguage: String?
    @exclusivity(unchecked) private(set) var truncatedText = false
    private let captureStore = TextCapture(mode: .text)
    @exclusivity(unchecked) private var baseStack: [String?]
    /// The resolved name of every open element, so an end event needs no second resolution.
    @exclusivity(unchecked) private var elementStack: [Element] = []
    /// `Element`s by `XMLName.internedIndex`.
    @exclusivity(unchecked) private var resolved: [Element?] = []
    @exclusivity(unchecked) private var depth = 0
    @exclusivity(unchecked) private var capture: TextCapture?

    private let entryLimit: Int?

    init(documentURL: String?, entryLimit: Int?) {
        baseStack = [documentURL]
        self.entryLimit = entryLimit
    }

    /// The root's default namespace: an RDF document of RSS 0.90 may say so only there.
    private var rootDefault: Namespace?

    func rootDefaultNamespace(_ uri: String) {
        rootDefault = Namespace(uri: uri, prefix: nil)
    }

    func startElement(_ name: XMLName, attributes: [XMLAttribute]) {
        depth += 1
        let parentBase = baseStack.last ?? nil
        var base = parentBase
        if let xmlBase = attributes.first(where: { $0.name.localName == "base" && Namespace(uri: $0.name.namespaceURI, prefix: $0.name.prefix) == .xml }) {
            base = URLResolver.resolve(xmlBase.value, against: parentBase) ?? xmlBase.value
        }
        baseStack.append(base)

        if let capture {
            capture.openChild(name, attributes: attributes)
            elementStack.append(Element(namespace: .other, name: ""))
            return
        }
        let element = resolve(name)
        elementStack.append(element)
        if rootName == nil {
            rootName = name.qualified
            rootLanguage = attributes.first(where: { $0.name.localName == "lang" && Namespace(uri: $0.name.namespaceURI, prefix: $0.name.prefix) == .xml })
                .map { $0.value.replacingOccurrences(of: "_", with: "-") }
            adapter = Self.adapter(forRoot: element, attributes: attributes, defaultNamespace: rootDefault)
            adapter?.limitEntries(to: entryLimit)
        }
        if let mode = adapter?.start(element, attributes: attributes, base: base) {
            // One capture object serves every field in turn: no allocation per field.
            captureStore.reset(mode: mode)
            capture = captureStore
        }
    }

    /// The element for `name`, resolved once per distinct name of the document.
    private func resolve(_ name: XMLName) -> Element {
        let index = name.internedIndex
        guard index >= 0 else { return Element(name) }
        if index < resolved.count, let known = resolved[index] { return known }
        let element = Element(name)
        if index >= resolved.count { resolved.append(contentsOf: repeatElement(nil, count: index - resolved.count + 1)) }
        resolved[index] = element
        return element
    }

    func endElement(_ name: XMLName) {
        let base = baseStack.last ?? nil
        let element = elementStack.popLast() ?? Element(name)
        defer {
            depth -= 1
            baseStack.removeLast()
        }
        if let capture {
            if capture.childDepth > 0 {
                capture.closeChild(name)
                return
            }
            self.capture = nil
            if capture.truncated { truncatedText = true }
            adapter?.end(element, text: capture.text, base: base)
            return
        }
        adapter?.end(element, text: nil, base: base)
    }

    func characters(_ bytes: UnsafeBufferPointer<UInt8>) {
        capture?.append(bytes)
    }

    func entityReference(named name: String) {
        // HTML entities (&nbsp; &eacute; ...) are not XML's, but feeds use them all the time.
        if let text = HTMLEntity.decode(name) {
            capture?.appendDecoded(text)
        } else {
            capture?.appendDecoded("&\(name);")
        }
    }

    private static func adapter(forRoot root: Element, attributes: [XMLAttribute], defaultNamespace: Namespace?) -> FeedFormatAdapter? {
        switch (root.namespace, root.name) {
        case (.none, "rss"), (.other, "rss"):
            let version = attributes.first(where: { $0.name.localName == "version" })?.value
            return RSSAdapter(format: RSSAdapter.format(forVersion: version))
        case (.rdf, "RDF"), (_, "RDF"):
            return RSSAdapter(format: defaultNamespace == .rss090 ? .rss090 : .rss10)
        case (.atom10, "feed"):
            return AtomAdapter(format: .atom10)
        case (.atom03, "feed"):
            return AtomAdapter(format: .atom03)
        case (.none, "feed"):
            return AtomAdapter(format: .atom10)  // Atom without its namespace: read it anyway.
        default:
            return nil
        }
    }
}
