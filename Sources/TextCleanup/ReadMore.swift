/// The links that lead from a teaser to the full article ("Read more", "Weiterlesen"), in one
/// list for the three places that look for them: the end of a feed entry's text (dropped), the
/// tail of its markup (a sign the text is a summary, so the page is fetched) and the stock lines
/// of an article page (dropped).
public enum ReadMore {
    /// Lower-case link texts; each is specific enough to be looked for inside a longer text.
    public static let phrases = [
        "read more", "read more below", "continue reading", "continue reading below", "read the full", "read the full story",
        "read the full article", "read full article", "read the rest",
        "weiterlesen", "mehr lesen", "lire la suite", "leer más", "leggi tutto",
    ]

    /// Texts that are such a link only as a whole line ("full story" inside a sentence is prose).
    public static let lineOnly = ["more", "mehr", "full story"]

    /// Whether a whole line, lower-cased with its punctuation and surrounding spaces gone, is
    /// such a link.
    public static func isLinkLine(_ normalizedLine: String) -> Bool {
        phrases.contains(normalizedLine) || lineOnly.contains(normalizedLine)
    }

    /// Whether a lower-case text contains one of the phrases.
    public static func isMentioned(in lowercasedText: Substring) -> Bool {
        phrases.contains { lowercasedText.contains($0) }
    }
}
