import Foundation
import CLibXML2

/// A namespaced element or attribute name as reported by the streaming parser.
public struct XMLName: Sendable, Equatable {
    // Constants, so that a name cannot drift from its interned index.
    public let localName: String
    public let namespaceURI: String?
    public let prefix: String?
    /// A small number (0, 1, 2, ...) the parser gives each distinct name of one document, so a
    /// handler can keep what it works out about a name in an array instead of comparing strings
    /// per element; -1 for names made elsewhere (and past the parser's table size).
    public let internedIndex: Int

    public init(localName: String, namespaceURI: String? = nil, prefix: String? = nil) {
        self.init(localName: localName, namespaceURI: namespaceURI, prefix: prefix, internedIndex: -1)
    }

    init(localName: String, namespaceURI: String?, prefix: String?, internedIndex: Int) {
        self.localName = localName
        self.namespaceURI = namespaceURI
        self.prefix = prefix
        self.internedIndex = internedIndex
    }

    /// Names are equal when they are written the same; the interned index does not count.
    public static func == (lhs: XMLName, rhs: XMLName) -> Bool {
        lhs.localName == rhs.localName && lhs.namespaceURI == rhs.namespaceURI && lhs.prefix == rhs.prefix
    }

    /// `prefix:local` as written in the document (or `local` without a prefix).
    public var qualified: String { prefix.map { "\($0):\(localName)" } ?? localName }
}

/// An attribute of a start tag; entity references other than the XML predefined ones are left
/// as written.
public struct XMLAttribute: Sendable, Equatable {
    public var name: XMLName
    public var value: String
}

/// Receives the events of `XMLStreamParser` in document order.
///
/// The parser never builds a tree and never expands entities declared in the document: undeclared
/// or DTD-declared entity references arrive through `entityReference(named:)`.
public protocol XMLStreamHandler: AnyObject {
    func startElement(_ name: XMLName, attributes: [XMLAttribute])
    func endElement(_ name: XMLName)
    /// Character data (text and CDATA), in chunks: one text node may arrive in several calls.
    func characters(_ bytes: UnsafeBufferPointer<UInt8>)
    /// A reference `&name;` to an entity that is not one of XML's five predefined ones.
    func entityReference(named name: String)
    /// The default namespace the root element declares (`xmlns="…"`), before its start.
    func rootDefaultNamespace(_ uri: String)
}

extension XMLStreamHandler {
    public func rootDefaultNamespace(_ uri: String) {}
}

/// A problem libxml2 reported while reading a document, with its position.
public struct XMLIssue: Sendable, Equatable, CustomStringConvertible {
    public var message: String
    public var line: Int
    public var column: Int

    public var description: String { "line \(line), column \(column): \(message)" }
}

/// The outcome of a streaming parse.
public struct XMLStreamResult: Sendable {
    /// False when libxml2 had to recover from an error somewhere in the document.
    public var wellFormed: Bool
    /// The first error libxml2 reported, if any.
    public var firstIssue: XMLIssue?
    /// True when the parse stopped early (a handler or a safety limit stopped it).
    public var stoppedEarly: Bool
}

/// Why a document could not be read at all.
public enum XMLStreamError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The document declares an entity that could expand (it refers to other entities, holds
    /// markup, or is long): how billion-laughs and quadratic-blowup attacks start.
    case unsafeEntity(name: String, line: Int, reason: String)
    /// Declared entities were referenced so often that their expansion passed the budget.
    case entityExpansionLimit(bytes: Int)
    /// libxml2 could not even start (empty input, allocation failure).
    case cannotStart(String)
    /// A start tag carries more attributes than any feed needs: libxml2's time grows with the
    /// square of that number, so such a document would stall the parser for minutes.
    case tooManyAttributes(line: Int, limit: Int)

    public var description: String {
        switch self {
        case let .unsafeEntity(name, line, reason):
            return "line \(line): the document declares the entity '\(name)', which \(reason); such declarations are refused because they are how entity-expansion attacks work"
        case let .entityExpansionLimit(bytes):
            return "declared entities expand to more than \(bytes) bytes; the document is refused as an entity-expansion attack"
        case let .cannotStart(reason):
            return "cannot start the XML parser: \(reason)"
        case let .tooManyAttributes(line, limit):
            return "line \(line): a start tag with more than \(limit) attributes (no feed needs that many, and libxml2's time grows with their square)"
        }
    }
}

/// A SAX2 push parser over libxml2 with the safe option set: recover from errors, no network,
/// no DTD loading, no entity substitution, and a zeroed handler so nothing but our callbacks
/// runs. libxml2's SAX2 defaults (`xmlSAXVersion`) must not be used: they expand entities into
/// memory (the quadratic blowup of one large entity referenced many times gets through even with
/// entity substitution off) and expect the user-data pointer to be the parser context.
public enum XMLStreamParser {
    /// Parses `bytes` and reports every event to `handler`.
    ///
    /// - Parameters:
    ///   - encoding: an encoding name that overrides the BOM and the XML declaration, or nil to let
    ///     the document say.
    public static func parse(
        _ bytes: [UInt8], skipping skip: Int = 0, prefix: [UInt8] = [], url: String? = nil, encoding: String? = nil,
        handler: XMLStreamHandler
    ) throws(XMLStreamError) -> XMLStreamResult {
        try bytes.withUnsafeBufferPointer { buffer throws(XMLStreamError) in
            try parse(buffer: buffer, skipping: skip, prefix: prefix, url: url, encoding: encoding, handler: handler)
        }
    }

    /// Parses the document in `bytes` (memory the caller owns for the duration of the call, such
    /// as a mapped file) and reports every event to `handler`.
    ///
    /// - Parameter consumed: told, every megabyte or so, how many leading bytes of `bytes` libxml2
    ///   has taken in (it copies what it reads, so the parse no longer needs them): the owner of
    ///   a file mapping can let those pages go.
    public static func parse(
        buffer bytes: UnsafeBufferPointer<UInt8>, skipping skip: Int = 0, prefix: [UInt8] = [], url: String? = nil,
        encoding: String? = nil, handler: XMLStreamHandler, consumed: ((Int) -> Void)? = nil
    ) throws(XMLStreamError) -> XMLStreamResult {
        LibXML.initialize()
        let context = ParseContext(handler: handler)
        let unmanaged = Unmanaged.passRetained(context)
        defer { unmanaged.release() }

        var sax = xmlSAXHandler()
        sax.initialized = 0xDEED_BEAF  // XML_SAX2_MAGIC: use startElementNs/endElementNs.
        sax.startElementNs = { ctx, localName, prefix, uri, namespaceCount, namespaces, attributeCount, _, attributes in
            guard let ctx, let localName else { return }
            let context = Unmanaged<ParseContext>.fromOpaque(ctx).takeUnretainedValue()
            context.flushText()
            context.depth += 1
            if context.depth == 1, namespaceCount > 0, let namespaces {
                // (prefix, URI) pairs; the one without a prefix is the default namespace.
                for index in 0..<Int(namespaceCount) where namespaces[2 * index] == nil {
                    if let declared = namespaces[2 * index + 1] { context.handler.rootDefaultNamespace(String(cString: declared)) }
                }
            }
            if context.depth > XMLStreamParser.maximumDepth {
                context.stopForDepth()
                return
            }
            var list: [XMLAttribute] = []
            if attributeCount > 0, let attributes {
                list.reserveCapacity(Int(attributeCount))
                for index in 0..<Int(attributeCount) {
                    let base = index * 5
                    guard let attrName = attributes[base] else { continue }
                    var value = ""
                    if let start = attributes[base + 3], let end = attributes[base + 4] {
                        let raw = UnsafeBufferPointer(start: start, count: end - start)
                        value = String(decoding: raw, as: UTF8.self)
                        if memchr(start, Int32(UInt8(ascii: "&")), raw.count) != nil { value = XMLReferences.decode(value) }
                    }
                    list.append(XMLAttribute(
                        name: context.names.name(local: attrName, prefix: attributes[base + 1], uri: attributes[base + 2]),
                        value: value))
                }
            }
            context.handler.startElement(context.names.name(local: localName, prefix: prefix, uri: uri), attributes: list)
        }
        sax.endElementNs = { ctx, localName, prefix, uri in
            guard let ctx, let localName else { return }
            let context = Unmanaged<ParseContext>.fromOpaque(ctx).takeUnretainedValue()
            context.flushText()
            context.depth -= 1
            context.handler.endElement(context.names.name(local: localName, prefix: prefix, uri: uri))
        }
        sax.characters = { ctx, chars, length in
            guard let ctx, let chars, length > 0 else { return }
            // libxml2 splits text at every entity and buffer boundary; the pieces are joined here
            // and handed over once, before the next element event. This runs once per piece, so it
            // avoids reference counting and exclusivity checks: a raw buffer behind a pointer.
            Unmanaged<ParseContext>.fromOpaque(ctx)._withUnsafeGuaranteedRef { context in
                context.pendingText.pointee.append(chars, count: Int(length))
            }
        }
        sax.cdataBlock = sax.characters
        sax.reference = { ctx, name in
            guard let ctx, let name else { return }
            let context = Unmanaged<ParseContext>.fromOpaque(ctx).takeUnretainedValue()
            context.flushText()
            context.handler.entityReference(named: LibXML.string(name))
        }
        // Entities declared in the document: short plain-text internal entities are answered
        // (feeds use them for things like a shared tag prefix); anything that could expand is
        // refused; external and parameter entities are ignored and never fetched.
        sax.entityDecl = { ctx, name, type, _, _, content in
            guard let ctx, let name else { return }
            let context = Unmanaged<ParseContext>.fromOpaque(ctx).takeUnretainedValue()
            context.declare(name: name, type: type, content: content)
        }
        sax.getEntity = { ctx, name in
            guard let ctx, let name else { return nil }
            let context = Unmanaged<ParseContext>.fromOpaque(ctx).takeUnretainedValue()
            return context.entity(named: name)
        }
        sax.serror = { ctx, error in
            guard let ctx, let error else { return }
            let context = Unmanaged<ParseContext>.fromOpaque(ctx).takeUnretainedValue()
            // Warnings (an undeclared parameter entity in a DTD, say) do not make a document bozo.
            guard context.firstIssue == nil, error.pointee.level.rawValue >= XML_ERR_ERROR.rawValue else { return }
            let message = error.pointee.message.map { String(cString: $0) } ?? "unknown error"
            // A parameter entity of the internal DTD subset that was not loaded (external ones
            // never are): only the DTD is affected, which a feed reader does not use.
            if error.pointee.code == Int32(XML_ERR_UNDECLARED_ENTITY.rawValue), message.hasPrefix("PEReference") {
                context.ignoredDTDErrors += 1
                return
            }
            // A namespace URI written with spaces around it (`xmlns:dc=" http://… "`): the feed
            // reader trims it and reads the namespace; that is no defect worth a bozo.
            if error.pointee.code == Int32(XML_WAR_NS_URI.rawValue), message.hasSuffix("is not a valid URI\n") || message.hasSuffix("is not a valid URI"),
               let open = message.firstIndex(of: "'"), let close = message.lastIndex(of: "'"), open < close {
                let uri = message[message.index(after: open)..<close]
                let trimmed = uri.trimmingCharacters(in: .whitespacesAndNewlines)
                if trimmed != uri, !trimmed.isEmpty, !trimmed.contains(where: \.isWhitespace) {
                    context.ignoredDTDErrors += 1
                    return
                }
            }
            context.firstIssue = XMLIssue(
                message: message.trimmingCharacters(in: .whitespacesAndNewlines),
                line: Int(error.pointee.line), column: Int(error.pointee.int2))
        }

        let userData = unmanaged.toOpaque()
        // The document is `prefix` followed by `bytes[skip...]`; libxml2 gets it in chunks, so
        // one huge document never needs a second full-size copy.
        let start = min(max(skip, 0), bytes.count)
        let total = prefix.count + bytes.count - start
        // The context is created with the first 4 bytes so libxml2 can detect a BOM or UTF-16.
        var head = Array(prefix.prefix(4))
        if head.count < 4 { head += bytes[start..<min(bytes.count, start + 4 - head.count)] }
        let created: xmlParserCtxtPtr? = head.withUnsafeBufferPointer { buffer in
            buffer.withMemoryRebound(to: CChar.self) { chars in
                xmlCreatePushParserCtxt(&sax, userData, chars.count > 0 ? chars.baseAddress : nil, Int32(chars.count), url)
            }
        }
        guard let parser = created else { throw .cannotStart("libxml2 returned no parser context") }
        defer {
            // libxml2 builds a stand-in document to hold the declarations of an internal DTD
            // subset (`<!DOCTYPE x [<!ENTITY ...>]>`) even for a SAX parse; freeing the context
            // does not free it (found by fuzzing: a leak per such feed).
            if let document = parser.pointee.myDoc {
                parser.pointee.myDoc = nil
                xmlFreeDoc(document)
            }
            xmlFreeParserCtxt(parser)
        }
        context.parser = parser

        var options = Int32(XML_PARSE_RECOVER.rawValue | XML_PARSE_NONET.rawValue | XML_PARSE_NOCDATA.rawValue
            | XML_PARSE_COMPACT.rawValue | XML_PARSE_NOERROR.rawValue | XML_PARSE_NOWARNING.rawValue)
        if let encoding {
            options |= Int32(XML_PARSE_IGNORE_ENC.rawValue)
            _ = xmlSwitchEncodingName(parser, encoding)
        }
        xmlCtxtUseOptions(parser, options)

        var fed = head.count
        var tagGuard = StartTagGuard()
        if !head.withUnsafeBufferPointer({ tagGuard.admits($0) }) { throw .cannotStart("impossible: a 4-byte head refused") }
        func feed(_ buffer: UnsafeBufferPointer<UInt8>, consumed: ((Int) -> Void)? = nil) {
            let chunkSize = 1 << 16  // As fast as larger chunks, and libxml2 buffers less.
            var offset = 0
            var reported = 0
            while offset < buffer.count && parser.pointee.disableSAX == 0 {
                let length = min(chunkSize, buffer.count - offset)
                if !tagGuard.admits(UnsafeBufferPointer(rebasing: buffer[offset..<(offset + length)])) {
                    context.refusal = .tooManyAttributes(line: tagGuard.line, limit: StartTagGuard.maxAttributes)
                    xmlStopParser(parser)
                    break
                }
                fed += length
                buffer.baseAddress!.withMemoryRebound(to: CChar.self, capacity: buffer.count) { chars in
                    _ = xmlParseChunk(parser, chars + offset, Int32(length), fed >= total ? 1 : 0)
                }
                offset += length
                if let consumed, offset - reported >= 1 << 20 {
                    reported = offset
                    consumed(offset)
                }
            }
        }
        let headFromPrefix = min(head.count, prefix.count)
        prefix.withUnsafeBufferPointer { buffer in
            feed(UnsafeBufferPointer(rebasing: buffer[headFromPrefix...]))
        }
        let from = start + (head.count - headFromPrefix)
        if from < bytes.count {
            feed(UnsafeBufferPointer(rebasing: bytes[from...]), consumed: consumed.map { report in { report(from + $0) } })
        }
        if fed < total || total <= head.count, parser.pointee.disableSAX == 0 {
            _ = xmlParseChunk(parser, nil, 0, 1)  // Everything was in the head, or stopped early: finish.
        }
        context.flushText()
        if let refusal = context.refusal { throw refusal }
        let onlyDTDErrors = context.ignoredDTDErrors > 0 && context.firstIssue == nil
        return XMLStreamResult(
            wellFormed: (parser.pointee.wellFormed != 0 || onlyDTDErrors) && context.firstIssue == nil && !context.tooDeep,
            firstIssue: context.firstIssue,
            stoppedEarly: parser.pointee.disableSAX != 0 && fed < total)
    }

    /// Elements nested deeper than this end the parse (libxml2's own limit does not apply to
    /// push parsing); what was read before is kept.
    public static let maximumDepth = 512

    /// Whether libxml2 (through iconv) can decode `encoding`.
    public static func supportsEncoding(_ encoding: String) -> Bool {
        LibXML.initialize()
        guard let handler = xmlFindCharEncodingHandler(encoding) else { return false }
        xmlCharEncCloseFunc(handler)
        return true
    }

    private final class ParseContext {
        let handler: XMLStreamHandler
        var parser: xmlParserCtxtPtr?
        var firstIssue: XMLIssue?
        var refusal: XMLStreamError?
        /// Entity records made for this document; freed with it.
        private var scratch: xmlDocPtr?
        private var declared: [String: xmlEntityPtr] = [:]
        private var literals: [String: xmlEntityPtr] = [:]
        private var expandedBytes = 0
        static let maximumDeclaredLength = 1024
        static let maximumExpansion = 1 << 20
        static let maximumEntities = 1000

        var depth = 0
        /// Errors about the DTD alone, which do not make the document bozo.
        var ignoredDTDErrors = 0
        private(set) var tooDeep = false
        let pendingText = UnsafeMutablePointer<RawByteBuffer>.allocate(capacity: 1)

        func flushText() {
            guard pendingText.pointee.count > 0 else { return }
            handler.characters(pendingText.pointee.bytes)
            pendingText.pointee.count = 0
        }
        let names = InternedNames()

        init(handler: XMLStreamHandler) {
            self.handler = handler
            pendingText.initialize(to: RawByteBuffer())
        }

        deinit {
            if let scratch { xmlFreeDoc(scratch) }
            pendingText.pointee.free()
            pendingText.deallocate()
        }

        func stopForDepth() {
            guard !tooDeep else { return }
            tooDeep = true
            let line = parser.map { Int(xmlSAX2GetLineNumber($0)) } ?? 0
            firstIssue = XMLIssue(message: "elements nested deeper than \(XMLStreamParser.maximumDepth) levels; the rest of the document was ignored",
                                  line: line, column: 0)
            if let parser { xmlStopParser(parser) }
        }

        func declare(name: UnsafePointer<xmlChar>, type: Int32, content: UnsafeMutablePointer<xmlChar>?) {
            guard type == Int32(XML_INTERNAL_GENERAL_ENTITY.rawValue) else { return }
            let text = content.map { String(cString: $0) } ?? ""
            let reason: String?
            if text.contains("&") || text.contains("%") {
                reason = "refers to other entities"
            } else if text.contains("<") {
                reason = "contains markup"
            } else if text.utf8.count > Self.maximumDeclaredLength {
                reason = "is \(text.utf8.count) bytes long (at most \(Self.maximumDeclaredLength) are accepted)"
            } else if declared.count >= Self.maximumEntities {
                reason = "is one of more than \(Self.maximumEntities) declarations"
            } else {
                reason = nil
            }
            if let reason {
                refuse(.unsafeEntity(name: String(cString: name), line: parser.map { Int(xmlSAX2GetLineNumber($0)) } ?? 0, reason: reason))
                return
            }
            if let entity = makeEntity(name: name, content: text) { declared[String(cString: name)] = entity }
        }

        func entity(named name: UnsafePointer<xmlChar>) -> xmlEntityPtr? {
            let key = String(cString: name)
            if let entity = declared[key] {
                expandedBytes += Int(entity.pointee.length)
                if expandedBytes > Self.maximumExpansion {
                    refuse(.entityExpansionLimit(bytes: Self.maximumExpansion))
                    return nil
                }
                return entity
            }
            // HTML's named entities (&nbsp; &eacute;), which feeds use without declaring them.
            if let entity = HTMLEntityTable.shared.entity(named: name) { return entity }
            // Any other name stays in the text as written, as feedparser keeps it.
            if let entity = literals[key] { return entity }
            guard literals.count < Self.maximumEntities, let entity = makeEntity(name: name, content: "&\(key);") else { return nil }
            literals[key] = entity
            return entity
        }

        private func refuse(_ error: XMLStreamError) {
            if refusal == nil { refusal = error }
            if let parser { xmlStopParser(parser) }
        }

        /// An entity libxml2 treats like `&amp;`: its text is passed on as characters, never parsed.
        private func makeEntity(name: UnsafePointer<xmlChar>, content: String) -> xmlEntityPtr? {
            if scratch == nil {
                scratch = xmlNewDoc("1.0")
                if let scratch { xmlCreateIntSubset(scratch, "scratch", nil, nil) }
            }
            guard let scratch, let entity = xmlAddDocEntity(scratch, name, Int32(XML_INTERNAL_GENERAL_ENTITY.rawValue), nil, nil, content) else {
                return nil
            }
            entity.pointee.etype = XML_INTERNAL_PREDEFINED_ENTITY
            return entity
        }
    }
}

private func xmlSwitchEncodingName(_ parser: xmlParserCtxtPtr, _ name: String) -> Int32 {
    guard let handler = xmlFindCharEncodingHandler(name) else { return -1 }
    return xmlSwitchToEncoding(parser, handler)
}

/// The `XMLName`s of one parse, each made once.
///
/// libxml2 interns names in its dictionary, so the pointers of a name's local part, prefix and
/// namespace are stable for the whole parse: the three pointers are the key, compared by
/// identity in an open-addressing table on raw memory (this runs twice per element, so it avoids
/// hashing strings and the exclusivity checks of class-owned arrays).
final class InternedNames {
    private typealias Key = (local: UnsafeRawPointer?, prefix: UnsafeRawPointer?, uri: UnsafeRawPointer?)
    private static let slotCount = 2048
    /// More distinct names than this (a hostile document) are still reported, just not interned.
    static let capacity = 1024
    private let keys = UnsafeMutablePointer<Key>.allocate(capacity: InternedNames.slotCount)
    private let slots = UnsafeMutablePointer<Int32>.allocate(capacity: InternedNames.slotCount)
    private let made = UnsafeMutablePointer<XMLName>.allocate(capacity: InternedNames.capacity)
    private var count = 0

    init() {
        slots.initialize(repeating: -1, count: Self.slotCount)
        keys.initialize(repeating: (nil, nil, nil), count: Self.slotCount)
    }

    deinit {
        made.deinitialize(count: count)
        made.deallocate()
        keys.deallocate()
        slots.deallocate()
    }

    func name(local: UnsafePointer<xmlChar>, prefix: UnsafePointer<xmlChar>?, uri: UnsafePointer<xmlChar>?) -> XMLName {
        let key: Key = (UnsafeRawPointer(local), prefix.map(UnsafeRawPointer.init), uri.map(UnsafeRawPointer.init))
        let mixed = (UInt(bitPattern: key.local) &* 0x9E37_79B9_7F4A_7C15)
            ^ (UInt(bitPattern: key.uri) &* 0xC2B2_AE3D_27D4_EB4F) ^ (UInt(bitPattern: key.prefix) >> 4)
        var slot = Int(truncatingIfNeeded: mixed >> 40) & (Self.slotCount - 1)
        while slots[slot] >= 0 {
            let stored = keys[slot]
            if stored.local == key.local && stored.prefix == key.prefix && stored.uri == key.uri {
                return made[Int(slots[slot])]
            }
            slot = (slot + 1) & (Self.slotCount - 1)
        }
        guard count < Self.capacity else {
            return XMLName(localName: String(cString: local), namespaceURI: uri.map { String(cString: $0) },
                           prefix: prefix.map { String(cString: $0) })
        }
        let name = XMLName(localName: String(cString: local), namespaceURI: uri.map { String(cString: $0) },
                           prefix: prefix.map { String(cString: $0) }, internedIndex: count)
        (made + count).initialize(to: name)
        keys[slot] = key
        slots[slot] = Int32(count)
        count += 1
        return name
    }
}

/// A growable byte buffer on manually managed memory, for the hottest callback.
struct RawByteBuffer {
    private(set) var base: UnsafeMutablePointer<UInt8>?
    var count = 0
    private var capacity = 0

    var bytes: UnsafeBufferPointer<UInt8> { UnsafeBufferPointer(start: base, count: count) }

    mutating func append(_ source: UnsafePointer<UInt8>, count length: Int) {
        if count + length > capacity {
            let newCapacity = max(4096, (count + length) * 2)
            let grown = UnsafeMutablePointer<UInt8>.allocate(capacity: newCapacity)
            if let base {
                grown.update(from: base, count: count)
                base.deallocate()
            }
            base = grown
            capacity = newCapacity
        }
        (base! + count).update(from: source, count: length)
        count += length
    }

    mutating func free() {
        base?.deallocate()
        base = nil
        count = 0
        capacity = 0
    }
}

/// Decodes the references libxml2 leaves in attribute values when it does not substitute
/// entities (`&#38;`, `&amp;`, `&eacute;`); anything else stays as written.
enum XMLReferences {
    static func decode(_ value: String) -> String {
        var out = ""
        var rest = Substring(value)
        while let ampersand = rest.firstIndex(of: "&") {
            out += rest[..<ampersand]
            let after = rest[rest.index(after: ampersand)...]
            if let semicolon = after.prefix(33).firstIndex(of: ";"), let text = resolve(after[..<semicolon]) {
                out += text
                rest = after[after.index(after: semicolon)...]
            } else {
                out += "&"
                rest = after
            }
        }
        return out + rest
    }

    private static func resolve(_ name: Substring) -> String? {
        if name.hasPrefix("#x") || name.hasPrefix("#X") {
            return UInt32(name.dropFirst(2), radix: 16).flatMap(Unicode.Scalar.init).map { String(Character($0)) }
        }
        if name.hasPrefix("#") {
            return UInt32(name.dropFirst()).flatMap(Unicode.Scalar.init).map { String(Character($0)) }
        }
        switch name {
        case "amp": return "&"
        case "lt": return "<"
        case "gt": return ">"
        case "quot": return "\""
        case "apos": return "'"
        default: return HTMLEntity.decode(String(name))
        }
    }
}

/// libxml2 entity records for HTML's named character references, made once per name and kept
/// for the life of the process (there are about 250 names).
final class HTMLEntityTable: @unchecked Sendable {
    static let shared = HTMLEntityTable()
    private let lock = NSLock()
    private var entities: [String: xmlEntityPtr] = [:]

    func entity(named raw: UnsafePointer<xmlChar>) -> xmlEntityPtr? {
        let name = String(cString: raw)
        lock.lock()
        defer { lock.unlock() }
        if let known = entities[name] { return known }
        guard let text = HTMLEntity.decode(name),
              let entity = xmlNewEntity(nil, raw, Int32(XML_INTERNAL_PREDEFINED_ENTITY.rawValue), nil, nil, text) else { return nil }
        entities[name] = entity
        return entity
    }
}

/// Process-wide libxml2 set-up and small conversions shared by the XML and HTML readers.
/// The libxml2 the process runs with.
public enum LibXMLVersion {
    /// "2.9.14": the version of the headers built against (`xmlParserVersion`, the running
    /// library's, is a macro over a thread-local getter that does not import).
    public static var string: String { LIBXML_DOTTED_VERSION }
}

enum LibXML {
    private static let initialized: Bool = {
        xmlInitParser()
        // Errors raised without a parser context (encoding conversion, I/O) would be printed to
        // standard error by libxml2, once per bad document; each parse reports its own problems
        // through its SAX handler instead. The second call sets the default for new threads.
        xmlSetStructuredErrorFunc(nil, { _, _ in })
        xmlThrDefSetStructuredErrorFunc(nil, { _, _ in })
        return true
    }()

    static func initialize() { _ = initialized }

    static func string(_ chars: UnsafePointer<xmlChar>) -> String {
        String(cString: chars)
    }
}

/// Watches the document as it is fed to libxml2, chunk by chunk, and refuses it before a start
/// tag with more than `maxAttributes` attributes reaches the parser (whose time is quadratic in
/// that number). Comments, CDATA sections, processing instructions and declarations are skipped,
/// so text that only looks like markup is never counted. Text, CDATA and comments are passed
/// over with `memchr`; only the inside of tags is read byte by byte.
struct StartTagGuard {
    static let maxAttributes = 1024

    // States, as plain integers (a tight loop over every tag byte).
    private static let text = 0, afterLessThan = 1, bang = 2, comment = 3, cdata = 4, instruction = 5,
                        declaration = 6, tagName = 7, inTag = 8

    private var state = StartTagGuard.text
    /// Per state: bytes of "[CDATA[" matched (`bang`, -1 after "<!-"), dashes or brackets seen
    /// (`comment`, `cdata`), a `?` seen (`instruction`).
    private var progress = 0
    private var quote: UInt8 = 0
    private var afterSpace = false
    private var afterEquals = false
    private var attributes = 0
    /// The line the scan has reached (1-based), for the error.
    private(set) var line = 1

    private static let cdataOpening: [UInt8] = Array("[CDATA[".utf8)

    mutating func admits(_ chunk: UnsafeBufferPointer<UInt8>) -> Bool {
        guard let base = chunk.baseAddress else { return true }
        let count = chunk.count
        var state = self.state, progress = self.progress, quote = self.quote
        var afterSpace = self.afterSpace, afterEquals = self.afterEquals, attributes = self.attributes
        var lines = 0
        defer {
            self.state = state
            self.progress = progress
            self.quote = quote
            self.afterSpace = afterSpace
            self.afterEquals = afterEquals
            self.attributes = attributes
            self.line += lines
        }
        /// The index of the next `byte` at or after `from`, or nil; newlines passed are counted.
        func find(_ byte: UInt8, from: Int) -> Int? {
            guard from < count else { return nil }
            guard let found = memchr(base + from, Int32(byte), count - from) else {
                lines += Self.newlines(base + from, count - from)
                return nil
            }
            let position = base.distance(to: found.assumingMemoryBound(to: UInt8.self))
            lines += Self.newlines(base + from, position - from)
            return position
        }
        var i = 0
        while i < count {
            switch state {
            case Self.text:
                guard let position = find(0x3C, from: i) else { return true }
                state = Self.afterLessThan
                i = position + 1
                continue
            case Self.cdata, Self.comment:
                // Jump to the next ']' or '-': "]]>" ends a CDATA section, "-->" a comment (the
                // closing run is counted across chunks).
                let closer: UInt8 = state == Self.cdata ? 0x5D : 0x2D
                if progress == 0 {
                    guard let position = find(closer, from: i) else { return true }
                    i = position
                }
                let b = base[i]
                if b == 0x3E && progress >= 2 { state = Self.text } else { progress = b == closer ? progress + 1 : 0 }
                i += 1
                continue
            default:
                break
            }
            let b = base[i]
            if b == 0x0A { lines += 1 }
            switch state {
            case Self.afterLessThan:
                if b == 0x21 {
                    state = Self.bang
                    progress = 0
                } else if b == 0x3F {
                    state = Self.instruction
                    progress = 0
                } else if (b | 0x20) >= 0x61 && (b | 0x20) <= 0x7A || b == 0x5F || b >= 0x80 {
                    state = Self.tagName
                    attributes = 0
                } else {
                    state = Self.text
                }
            case Self.bang:
                if progress == 0 && b == 0x2D {
                    progress = -1
                } else if progress == -1 {
                    state = b == 0x2D ? Self.comment : Self.declaration
                    progress = 0
                } else if progress >= 0 && progress < Self.cdataOpening.count && b == Self.cdataOpening[progress] {
                    progress += 1
                    if progress == Self.cdataOpening.count {
                        state = Self.cdata
                        progress = 0
                    }
                } else {
                    state = b == 0x3E ? Self.text : Self.declaration
                }
            case Self.instruction:
                if b == 0x3E && progress == 1 { state = Self.text } else { progress = b == 0x3F ? 1 : 0 }
            case Self.declaration:
                if b == 0x3E { state = Self.text }
            case Self.tagName:
                if b == 0x3E {
                    state = Self.text
                } else if b == 0x20 || b == 0x09 || b == 0x0A || b == 0x0D {
                    state = Self.inTag
                    quote = 0
                    afterSpace = true
                    afterEquals = false
                }
            default:  // inTag
                if quote == 0 && b == 0x3E {
                    state = Self.text
                } else if AttributeCounter.step(b, quote: &quote, afterSpace: &afterSpace, afterEquals: &afterEquals) {
                    attributes += 1
                    if attributes > Self.maxAttributes { return false }
                }
            }
            i += 1
        }
        return true
    }

    private static func newlines(_ start: UnsafePointer<UInt8>, _ count: Int) -> Int {
        var lines = 0
        var pointer = start
        var remaining = count
        while remaining > 0, let found = memchr(pointer, 0x0A, remaining) {
            let next = found.assumingMemoryBound(to: UInt8.self) + 1
            lines += 1
            remaining -= pointer.distance(to: UnsafePointer(next))
            pointer = UnsafePointer(next)
        }
        return lines
    }
}

/// One byte of a start tag after its name: tracks quotes, spaces and `=`, and says when an
/// attribute name begins (shared by the HTML tag cap and the XML start-tag guard).
enum AttributeCounter {
    @inline(__always)
    static func step(_ b: UInt8, quote: inout UInt8, afterSpace: inout Bool, afterEquals: inout Bool) -> Bool {
        if quote != 0 {
            if b == quote { quote = 0 }
            afterSpace = false
            afterEquals = false
            return false
        }
        switch b {
        case 0x22, 0x27:
            quote = b
            afterSpace = false
            afterEquals = false
            return false
        case 0x20, 0x09, 0x0A, 0x0D, 0x0C:
            afterSpace = true
            return false
        case 0x3D:
            afterEquals = true
            afterSpace = false
            return false
        default:
            let starts = afterSpace && !afterEquals && b != 0x2F
            afterSpace = false
            afterEquals = false
            return starts
        }
    }
}
