import Foundation
import CLibXML2
import DatesAndCharsets

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
                        value = UTF8String.make(raw)
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
        // One parse's state on one thread, no access overlapping another: unchecked, as the
        // parse's hottest callbacks read it.
        let handler: XMLStreamHandler
        @exclusivity(unchecked) var parser: xmlParserCtxtPtr?
        @exclusivity(unchecked) var firstIssue: XMLIssue?
        var refusal: XMLStreamError?
        /// Entity records made for this document; freed with it.
        private var scratch: xmlDocPtr?
        private var declared: [String: xmlEntityPtr] = [:]
        private var literals: [String: xmlEntityPtr] = [:]
        private var expandedBytes = 0
        static let maximumDeclaredLength = 1024
        static let maximumExpansion = 1 << 20
        static let maximumEntities = 1000

        @exclusivity(unchecked) var depth = 0
        /// Errors about the DTD alone, which do not make the document bozo.
        var ignoredDTDErrors = 0
        @exclusivity(unchecked) private(set) var tooDeep = false
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
