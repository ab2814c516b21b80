import XMLSupport

/// The one way markup of any source (a feed entry's content or summary, a page's JSON-LD
/// `articleBody`) becomes plain paragraphs.
public enum MarkupParagraphs {
    /// How the text is given.
    public enum Format: Sendable {
        /// HTML, or text that may hold tags and entities (a feed's `type="html"`, RSS descriptions).
        case html
        /// Plain text: paragraphs at line breaks, nothing decoded.
        case plainText
        /// Decided by the text: HTML when it has a tag; otherwise plain text whose HTML entities are
        /// decoded (sites escape `&amp;` in JSON-LD bodies without any markup).
        case detect
    }

    /// The paragraphs of `markup`, in reading order; none for nil or empty.
    public static func paragraphs(_ markup: String?, format: Format) -> [String] {
        guard let markup, !markup.isEmpty else { return [] }
        switch format {
        case .html: return HTMLText.paragraphs(fromHTML: markup)
        case .plainText: return HTMLText.plainTextParagraphs(markup)
        case .detect:
            if markup.contains("<") { return HTMLText.paragraphs(fromHTML: markup) }
            guard markup.contains("&") else { return HTMLText.plainTextParagraphs(markup) }
            let decoded = HTMLText.paragraphs(fromHTML: "<pre>" + markup + "</pre>").joined(separator: "\n")
            return HTMLText.plainTextParagraphs(decoded)
        }
    }
}
