import DatesAndCharsets
import Foundation
import XMLSupport

/// Decides how the bytes of a feed are to be decoded and hands libxml2 UTF-8 wherever it can.
///
/// Precedence, highest first:
/// 1. a byte-order mark (UTF-8, UTF-16, UTF-32), or UTF-16 recognised from `<?` without one;
/// 2. the charset of the HTTP Content-Type;
/// 3. the XML declaration's `encoding`;
/// 4. UTF-8.
///
/// Then the choice is checked against the bytes, because publishers mislabel: a document
/// labelled (or defaulting to) UTF-8 that is not valid UTF-8 has its invalid bytes read as
/// Windows-1252 (the usual culprit); a document labelled ISO-8859-1/Windows-1252/ASCII whose
/// bytes are valid UTF-8 with non-ASCII characters is read as UTF-8. ISO-8859-1 is read as
/// Windows-1252, as browsers do. Every mismatch is reported so the feed is flagged `bozo`.
public enum DocumentEncoding {
    /// What to give libxml2: `prefix` followed by `bytes[skip...]`, where `bytes` is `converted`
    /// or, when nothing had to be converted, the input itself (so that a BOM, junk before the
    /// root or a rewritten XML declaration cost no copy of the document), and the encoding name
    /// that overrides the document's own.
    public struct Prepared {
        /// The document re-encoded or repaired; nil when libxml2 reads the input as it is.
        public var converted: [UInt8]?
        public var skip: Int = 0
        public var prefix: [UInt8] = []
        /// nil: let libxml2 read the declaration (never happens for the UTF-8 family).
        public var encoding: String?
        /// Why the document needed repair, for the bozo reason.
        public var problem: String?
        /// True when the bytes were assumed to be valid UTF-8 without checking (see `prepare`).
        public var unverifiedUTF8 = false

        public init(converted: [UInt8]? = nil, skip: Int = 0, prefix: [UInt8] = [], encoding: String?, problem: String? = nil) {
            self.converted = converted
            self.skip = skip
            self.prefix = prefix
            self.encoding = encoding
            self.problem = problem
        }

        /// Calls `body` with the bytes to read: `converted`, or else `input`.
        public func withBytes<Result, Failure: Error>(
            of input: UnsafeBufferPointer<UInt8>, _ body: (UnsafeBufferPointer<UInt8>) throws(Failure) -> Result
        ) throws(Failure) -> Result {
            guard let converted else { return try body(input) }
            return try converted.withUnsafeBufferPointer { buffer throws(Failure) in try body(buffer) }
        }
    }

    /// - Parameter verifyUTF8: check UTF-8 up front. The parser passes false first (libxml2
    ///   reports invalid UTF-8 anyway, and checking costs a pass over every valid document) and
    ///   true when it has to read the document again.
    public static func prepare(_ bytes: UnsafeBufferPointer<UInt8>, httpCharset: String?, verifyUTF8: Bool = true) -> Prepared {
        // 1. Byte-order marks and BOM-less UTF-16/32.
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) {
            var prepared = utf8(bytes, label: "UTF-8 (byte-order mark)", verify: verifyUTF8)
            if prepared.converted == nil || prepared.converted?.starts(with: [0xEF, 0xBB, 0xBF]) == true { prepared.skip = 3 }
            return finishUTF8(prepared, input: bytes)
        }
        if bytes.starts(with: [0x00, 0x00, 0xFE, 0xFF]) { return Prepared(skip: 4, encoding: "UTF-32BE") }
        if bytes.starts(with: [0xFF, 0xFE, 0x00, 0x00]) { return Prepared(skip: 4, encoding: "UTF-32LE") }
        if bytes.starts(with: [0xFE, 0xFF]) { return Prepared(skip: 2, encoding: "UTF-16BE") }
        if bytes.starts(with: [0xFF, 0xFE]) { return Prepared(skip: 2, encoding: "UTF-16LE") }
        if bytes.starts(with: [0x3C, 0x00, 0x3F, 0x00]) || bytes.starts(with: [0x3C, 0x00, 0x72, 0x00]) {
            return Prepared(encoding: "UTF-16LE")
        }
        if bytes.starts(with: [0x00, 0x3C, 0x00, 0x3F]) || bytes.starts(with: [0x00, 0x3C, 0x00, 0x72]) {
            return Prepared(encoding: "UTF-16BE")
        }

        // 2.–4. Labels.
        let declared = xmlDeclarationEncoding(bytes)
        let label = httpCharset.flatMap(normalizedName) ?? declared.flatMap(normalizedName) ?? "utf-8"
        let source = httpCharset.flatMap(normalizedName) != nil ? "the HTTP charset" : (declared != nil ? "the XML declaration" : "the default")
        var override: String?
        if let http = httpCharset.flatMap(normalizedName), let declaredName = declared.flatMap(normalizedName), http != declaredName {
            override = "the HTTP charset \(httpCharset ?? http) overrides the XML declaration's \(declared ?? declaredName)"
        }

        var prepared: Prepared
        switch label {
        case "utf-8":
            prepared = utf8(bytes, label: "UTF-8 (\(source))", verify: verifyUTF8)
        case "windows-1252":
            // Valid UTF-8 that is not all ASCII (one pass: `validate` says both).
            if UTF8String.validate(bytes) == false {
                prepared = Prepared(encoding: "UTF-8",
                                    problem: "labelled \(httpCharset ?? declared ?? label) by \(source) but the bytes are UTF-8; read as UTF-8")
            } else {
                prepared = Prepared(converted: ByteDecoding.windows1252ToUTF8(bytes, all: true), encoding: "UTF-8")
            }
        default:
            if let high = ByteDecoding.macSingleByteTable(label) {
                // An encoding iconv lacks: decoded here, handed to libxml2 as UTF-8.
                prepared = Prepared(converted: ByteDecoding.singleByteToUTF8(bytes, high: high), encoding: "UTF-8")
            } else if XMLStreamParser.supportsEncoding(label) {
                // libxml2 decodes with the override; its own check of the declared name (which
                // may be an alias it rejects, like "437") must not make the document bozo.
                prepared = Prepared(encoding: label)
                (prepared.skip, prepared.prefix) = declarationOverride(bytes, from: 0)
            } else {
                prepared = utf8(bytes, label: "UTF-8")
                prepared.problem = "unknown encoding '\(httpCharset ?? declared ?? label)' (from \(source)); read as UTF-8"
                    + (prepared.problem.map { "; " + $0 } ?? "")
            }
        }
        if let override {
            prepared.problem = [override, prepared.problem].compactMap { $0 }.joined(separator: "; ")
        }
        return prepared.encoding == "UTF-8" ? finishUTF8(prepared, input: bytes) : prepared
    }

    /// For UTF-8 input: skips anything before the first tag (reporting text that is not white
    /// space) and neutralises the declared encoding.
    private static func finishUTF8(_ input: Prepared, input bytes: UnsafeBufferPointer<UInt8>) -> Prepared {
        var prepared = input
        prepared.withBytes(of: bytes) { bytes in
            guard let start = bytes[prepared.skip...].firstIndex(of: UInt8(ascii: "<")) else { return }
            if bytes[prepared.skip..<start].contains(where: { !(0x20 == $0 || 0x09 == $0 || 0x0A == $0 || 0x0D == $0) }) {
                prepared.problem = [prepared.problem, "text before the first tag was skipped"].compactMap { $0 }.joined(separator: "; ")
            }
            (prepared.skip, prepared.prefix) = declarationOverride(bytes, from: start)
        }
        return prepared
    }

    /// Where to start reading and what to put first so that the XML declaration at `start` (if it
    /// names an encoding) says no encoding: only the override counts, and libxml2 does not
    /// complain about a name it would not accept (such as "437").
    static func declarationOverride(_ bytes: UnsafeBufferPointer<UInt8>, from start: Int) -> (skip: Int, prefix: [UInt8]) {
        let head = bytes[start..<min(bytes.count, start + 1024)]
        guard head.starts(with: Array("<?xml".utf8)), let end = head.firstIndex(of: 0x3E),
              xmlDeclarationEncoding(UnsafeBufferPointer(rebasing: head)) != nil else { return (start, []) }
        return (end, Array("<?xml version=\"1.0\"?".utf8))
    }

    private static func utf8(_ bytes: UnsafeBufferPointer<UInt8>, label: String, verify: Bool = true) -> Prepared {
        if !verify {
            var prepared = Prepared(encoding: "UTF-8")
            prepared.unverifiedUTF8 = true
            return prepared
        }
        if ByteDecoding.isValidUTF8(bytes) { return Prepared(encoding: "UTF-8") }
        return Prepared(converted: ByteDecoding.windows1252ToUTF8(bytes, all: false), encoding: "UTF-8",
                        problem: "not valid \(label): the invalid bytes were read as Windows-1252")
    }

    /// The `encoding` pseudo-attribute of the XML declaration, if any.
    static func xmlDeclarationEncoding(_ bytes: UnsafeBufferPointer<UInt8>) -> String? {
        let head = bytes.prefix(1024)
        guard let start = head.firstIndex(of: 0x3C), head[start...].starts(with: Array("<?xml".utf8)),
              let end = head[start...].firstIndex(of: 0x3E) else { return nil }
        let declaration = String(decoding: head[start..<end], as: UTF8.self)
        guard let range = declaration.range(of: "encoding") else { return nil }
        var rest = declaration[range.upperBound...].drop(while: { $0 == " " || $0 == "=" || $0 == "\t" })
        guard let quote = rest.first, quote == "\"" || quote == "'" else { return nil }
        rest = rest.dropFirst()
        let value = rest.prefix(while: { $0 != quote })
        return value.isEmpty ? nil : String(value)
    }

    static func normalizedName(_ raw: String) -> String? { ByteDecoding.normalizedCharsetName(raw) }

    static func windows1252ToUTF8(_ bytes: [UInt8], all: Bool) -> [UInt8] { ByteDecoding.windows1252ToUTF8(bytes, all: all) }
}
