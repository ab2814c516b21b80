import Foundation
import XMLSupport
import TextCleanup

/// Writes the chosen part of a page as paragraphs: a block element (`p`, `li`, headings, `div`
/// with text, `br`) ends a paragraph; inline text is joined with white space collapsed.
/// Paragraphs that are mostly links, and the stock lines of page furniture, are dropped.
struct BlockWriter {
    let removed: [Bool]
    let kinds: [TagKind]
    private(set) var paragraphs: [String] = []
    /// The paragraph being written, as UTF-8.
    private var current: [UInt8] = []
    private var pendingSpace = false
    private var characters = 0
    private var linkCharacters = 0
    private var linkDepth = 0

    init(removed: [Bool], kinds: [TagKind]) {
        self.removed = removed
        self.kinds = kinds
    }

    mutating func write(_ element: HTMLElement) {
        let kind = kinds[element.index]
        guard !removed[element.index], !kind.contains(.invisible) else { return }
        let isBlock = kind.contains(.breaking)
        if isBlock { flush() }
        if kind.contains(.link) { linkDepth += 1 }
        if kind.contains(.cell) { pendingSpace = true }
        for child in element.children {
            switch child {
            case .text(let text): append(text)
            case .element(let child): write(child)
            }
        }
        if kind.contains(.link) { linkDepth -= 1 }
        if isBlock { flush() }
    }

    private mutating func append(_ text: String) {
        var text = text
        text.withUTF8 { bytes in
            for byte in bytes {
                if byte == 0x20 || byte == 0x0A || byte == 0x09 || byte == 0x0D || byte == 0x0C {
                    pendingSpace = true
                } else {
                    if pendingSpace && !current.isEmpty {
                        current.append(0x20)
                        characters += 1
                    }
                    pendingSpace = false
                    current.append(byte)
                    // Count characters, not continuation bytes.
                    if byte & 0xC0 != 0x80 {
                        characters += 1
                        if linkDepth > 0 { linkCharacters += 1 }
                    }
                }
            }
        }
    }

    /// Unicode's white space and the zero-width space and BOM, trimmed from a paragraph's ends.
    static let spaces = CharacterSet.whitespacesAndNewlines.union(CharacterSet(charactersIn: "\u{200B}\u{FEFF}"))

    mutating func flush() {
        defer {
            current.removeAll(keepingCapacity: true)
            pendingSpace = false
            characters = 0
            linkCharacters = 0
        }
        guard !current.isEmpty else { return }
        if Double(linkCharacters) > 0.5 * Double(characters) { return }
        // Indentation and blank lines made of other spaces (no-break, ideographic, em...) go
        // too: a line of only "&nbsp;" is no paragraph.
        let text = String(decoding: current, as: UTF8.self).trimmingCharacters(in: Self.spaces)
        guard !text.isEmpty else { return }
        if characters <= 40, Boilerplate.isStockLine(text) { return }
        paragraphs.append(text)
    }
}

/// Lines that page furniture puts between or after paragraphs.
enum Boilerplate {
    static func isStockLine(_ text: String) -> Bool {
        let lower = text.lowercased()
        if lower.count <= 40 {
            let key = lower.trimmingCharacters(in: CharacterSet.alphanumerics.inverted)
            if stockLines.contains(key) || ReadMore.isLinkLine(key) { return true }
            if stockPrefixes.contains(where: { key.hasPrefix($0) }) { return true }
        }
        return false
    }

    /// Lines that are furniture, not story; the "read more" links are `ReadMore`'s.
    static let stockLines: Set<String> = [
        "advertisement", "advertising", "ad", "sponsored", "sponsored content", "story continues below advertisement",
        "share", "share this", "share this article",
        "share this story", "tweet", "email", "print", "comments", "comment", "leave a comment", "leave a review",
        "close", "close close", "skip", "skip ad", "scroll to continue", "related", "related articles", "related stories",
        "most popular", "trending", "subscribe", "sign up", "log in", "login", "follow us", "loading", "loading...",
        "view comments", "show comments", "hide caption", "toggle caption", "enlarge this image", "image", "photo",
        "video", "watch", "listen", "back to top", "top", "next", "previous", "more", "see more", "load more",
        "article continues below", "story continues below", "content continues below",
        // The same lines in the other languages most pages come in.
        "anzeige", "werbung", "teilen", "artikel teilen", "drucken", "kommentare",
        "kommentar", "kommentar schreiben", "kommentare schreiben", "kommentieren", "schließen", "mehr zum thema",
        "ähnliche artikel", "ähnliche beiträge", "verwandte artikel", "auch interessant", "das könnte sie auch interessieren",
        "meistgelesen", "abonnieren", "anmelden", "folgen sie uns", "zurück", "nach oben", "mehr", "mehr anzeigen",
        "publicité", "lire aussi", "partager", "imprimer", "commentaires", "fermer", "articles les plus lus",
        "à lire aussi", "sur le même sujet", "publicidad", "compartir", "imprimir", "comentarios", "cerrar",
        "te puede interesar", "lo más leído",
    ]
    static let stockPrefixes = [
        "read more:", "read also:", "also read:", "see also:", "related:", "more:", "click here", "sign up for",
        "subscribe to", "follow us on", "photo:", "image:", "credit:", "getty images", "copyright ©", "©",
        "lesen sie auch", "lies auch", "mehr zum thema", "mehr zu", "zum weiterlesen", "foto:", "bild:", "quelle:",
        "lire aussi", "à lire aussi", "photo :", "lea también", "lee también", "foto:",
    ]
}

/// Paywall and consent pages: a short text that asks the reader to subscribe, log in or accept.
enum WallDetector {
    static func looksLikeWall(paragraphs: [String]) -> Bool {
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
