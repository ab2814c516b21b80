import CLibXML2
import Foundation

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
