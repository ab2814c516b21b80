import Foundation
import XMLSupport

/// Writes the chosen part of a page as paragraphs: a block element (`p`, `li`, headings, `div`
/// with text, `br`) ends a paragraph; inline text is joined with white space collapsed.
/// Paragraphs that are mostly links, and the stock lines of page furniture, are dropped.
struct BlockWriter {
    let removed: Set<ObjectIdentifier>
    private(set) var paragraphs: [String] = []
    private var current = ""
    private var pendingSpace = false
    private var linkCharacters = 0
    private var linkDepth = 0

    init(removed: Set<ObjectIdentifier>) {
        self.removed = removed
    }

    mutating func write(_ element: HTMLElement) {
        guard !removed.contains(ObjectIdentifier(element)), !Vocabulary.invisible.contains(element.name) else { return }
        let isBlock = Vocabulary.blocks.contains(element.name) || element.name == "br"
        if isBlock { flush() }
        if element.name == "a" { linkDepth += 1 }
        if element.name == "td" || element.name == "th" { pendingSpace = true }
        for child in element.children {
            switch child {
            case .text(let text): append(text)
            case .element(let child): write(child)
            }
        }
        if element.name == "a" { linkDepth -= 1 }
        if isBlock { flush() }
    }

    private mutating func append(_ text: String) {
        for scalar in text.unicodeScalars {
            if scalar == " " || scalar == "\n" || scalar == "\t" || scalar == "\r" || scalar == "\u{0C}" {
                pendingSpace = true
            } else {
                if pendingSpace && !current.isEmpty { current.append(" ") }
                pendingSpace = false
                current.unicodeScalars.append(scalar)
                if linkDepth > 0 { linkCharacters += 1 }
            }
        }
    }

    mutating func flush() {
        defer {
            current = ""
            pendingSpace = false
            linkCharacters = 0
        }
        let text = current.trimmingCharacters(in: .whitespaces)
        guard !text.isEmpty else { return }
        let length = text.unicodeScalars.count
        if Double(linkCharacters) > 0.5 * Double(length) { return }
        if Boilerplate.isStockLine(text) { return }
        paragraphs.append(text)
    }
}

/// Lines that page furniture puts between or after paragraphs.
enum Boilerplate {
    static func isStockLine(_ text: String) -> Bool {
        let lower = text.lowercased()
        if lower.count <= 40 {
            let key = lower.trimmingCharacters(in: CharacterSet.alphanumerics.inverted)
            if stockLines.contains(key) { return true }
            if stockPrefixes.contains(where: { key.hasPrefix($0) }) { return true }
        }
        return false
    }

    static let stockLines: Set<String> = [
        "advertisement", "advertising", "ad", "sponsored", "sponsored content", "story continues below advertisement",
        "continue reading", "continue reading below", "read more", "read more below", "share", "share this", "share this article",
        "share this story", "tweet", "email", "print", "comments", "comment", "leave a comment", "leave a review",
        "close", "close close", "skip", "skip ad", "scroll to continue", "related", "related articles", "related stories",
        "most popular", "trending", "subscribe", "sign up", "log in", "login", "follow us", "loading", "loading...",
        "view comments", "show comments", "hide caption", "toggle caption", "enlarge this image", "image", "photo",
        "video", "watch", "listen", "back to top", "top", "next", "previous", "more", "see more", "load more",
        "article continues below", "story continues below", "content continues below",
    ]
    static let stockPrefixes = [
        "read more:", "read also:", "also read:", "see also:", "related:", "more:", "click here", "sign up for",
        "subscribe to", "follow us on", "photo:", "image:", "credit:", "getty images", "copyright ©", "©",
    ]
}

/// Paywall and consent pages: a short text that asks the reader to subscribe, log in or accept.
enum WallDetector {
    static func looksLikeWall(paragraphs: [String], page: ContentFinder) -> Bool {
        let text = paragraphs.joined(separator: " ").lowercased()
        let length = text.count
        guard length < 1500 else { return false }
        let phrases = [
            "subscribe to continue", "subscribe to read", "to continue reading", "already a subscriber", "subscribers only",
            "this content is for subscribers", "create a free account", "log in to continue", "sign in to continue",
            "we value your privacy", "accept all cookies", "accept cookies", "consent to the use", "cookie policy",
            "enable javascript", "please enable cookies", "you have reached your limit", "free articles",
            "become a member to", "abonnieren", "jetzt abonnieren", "zustimmen", "akzeptieren",
        ]
        return phrases.contains { text.contains($0) }
    }
}
