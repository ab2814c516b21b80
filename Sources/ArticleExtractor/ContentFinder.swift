import Foundation
import XMLSupport

/// Finds the article body in a page's element tree.
///
/// 1. Leaves out what is never article text: scripts, forms' controls, navigation, asides,
///    footers, figures and captions, hidden elements, and elements whose class or id names
///    boilerplate (share, comments, related, newsletter, cookie, ...), unless the element holds
///    most of the page's paragraph text.
/// 2. Scores containers by the paragraphs inside them (length, commas), weighted by class/id
///    hints and link density, and picks the best; siblings that look like more of the same
///    story are added.
/// 3. Writes the chosen blocks out one paragraph per line, dropping link lists and stock
///    boilerplate lines ("Advertisement", "Read more", ...).
struct ContentFinder {
    let root: HTMLElement
    // Per element, indexed by `HTMLElement.index`.
    private var removed: [Bool]
    private var stats: [TextStats]
    private var scores: [Double]
    private var scored: [Bool]
    private var content: [ContentMeasure]
    private var kinds: [TagKind]
    private var hintCache = ClassHintCache()
    /// Characters inside `p` elements on the whole page: an element holding most of them is
    /// never boilerplate.
    private var pageParagraphLength = 0
    /// Characters of the body's text outside links.
    private var pageUnlinkedLength = 0
    /// The blocks named like an article ("post", "entry", "article-body"...) that hold a good
    /// part of the page's prose (see `isArticleBlock`), found before boilerplate is marked.
    private var articleBlocks: [HTMLElement] = []
    /// Whether a class or id word, a role or `aria-hidden` may remove an element (weak
    /// evidence: sites hide the story while a script loads, or mark the page behind a dialog
    /// hidden). The fallback pass sets it to false.
    private var trustClassNames = true
    /// The elements that hold an `itemprop="articleBody"` element with prose: the publisher's own
    /// statement of where the story is, so a container around it (an `aside` some templates wrap
    /// the whole article in) is never removed as boilerplate.
    private var holdsMicrodataBody: [Bool]

    struct TextStats {
        /// Characters of text (white space runs count once).
        var length = 0
        /// Characters inside links.
        var linkLength = 0
        /// Characters inside `p` elements.
        var paragraphLength = 0
        var commas = 0
        /// Sentence-ending punctuation marks.
        var stops = 0
        var linkDensity: Double { length == 0 ? 0 : Double(linkLength) / Double(length) }
        /// Reads like running text: long enough, few links, and a sentence in it (a title or
        /// a teaser headline has no full stop).
        var isProse: Bool { length >= 25 && linkDensity < 0.5 && (length >= 120 || stops > 0) }
    }

    init(root: HTMLElement) {
        self.root = root
        let count = max(root.elementCount, 1)
        removed = Array(repeating: false, count: count)
        stats = Array(repeating: TextStats(), count: count)
        scores = Array(repeating: 0, count: count)
        scored = Array(repeating: false, count: count)
        content = Array(repeating: ContentMeasure(), count: count)
        kinds = Array(repeating: [], count: count)
        holdsMicrodataBody = Array(repeating: false, count: count)
        var kindOfName: [String: TagKind] = [:]
        var microdataBodies: [HTMLElement] = []
        func classify(_ element: HTMLElement) {
            if let known = kindOfName[element.name] {
                kinds[element.index] = known
            } else {
                let kind = TagKind(name: element.name)
                kindOfName[element.name] = kind
                kinds[element.index] = kind
            }
            if let itemprop = element.attribute("itemprop"), itemprop.lowercased().split(separator: " ").contains("articlebody") {
                microdataBodies.append(element)
            }
            for child in element.childElements { classify(child) }
        }
        classify(root)
        for body in microdataBodies where body.textContent.count >= Self.microdataBodyMinimum {
            var node = body.parent
            while let current = node, !holdsMicrodataBody[current.index] {
                holdsMicrodataBody[current.index] = true
                node = current.parent
            }
        }
    }

    /// Characters an `itemprop="articleBody"` element must hold to protect its containers.
    static let microdataBodyMinimum = 200

    mutating func bodyParagraphs() -> [String] {
        let body = root.childElements.first(where: { $0.name == "body" }) ?? root
        _ = measure(body, insideLink: false, insideParagraph: false)
        pageParagraphLength = stats[body.index].paragraphLength
        pageUnlinkedLength = stats[body.index].length - stats[body.index].linkLength
        findArticleBlocks(body)
        if Self.debugging {
            for child in body.childElements { debug("body child (\(stats(of: child).length) chars, \(child.childElements.count) children)", child) }
        }
        let found = paragraphs(in: body)
        // Class names are weak evidence: when they leave next to nothing of a page with a good
        // deal of prose ("tag-…" post classes, "has-paywall", sections marked "--ads"), the
        // page is read again without them, and the larger result is taken.
        let foundLength = found.reduce(0) { $0 + $1.count }
        let bodyStats = stats[body.index]
        let pageProse = max(pageParagraphLength, (bodyStats.length - bodyStats.linkLength) / 3)
        let tiny = foundLength < Self.fallbackBelow || Double(foundLength) < Self.fallbackShare * Double(pageParagraphLength)
        guard tiny, pageProse >= 2 * Self.fallbackBelow else { return found }
        debug("fallback without class names (\(foundLength) chars found)", body)
        trustClassNames = false
        removed = Array(repeating: false, count: removed.count)
        scores = Array(repeating: 0, count: scores.count)
        scored = Array(repeating: false, count: scored.count)
        content = Array(repeating: ContentMeasure(), count: content.count)
        let fallback = paragraphs(in: body)
        return fallback.reduce(0) { $0 + $1.count } > foundLength ? fallback : found
    }

    /// A body shorter than this (characters) on a page with at least twice as much prose is read
    /// again without class names.
    static let fallbackBelow = 250
    /// The same for a body shorter than this share of the page's paragraph text.
    static let fallbackShare = 0.15

    private mutating func paragraphs(in body: HTMLElement) -> [String] {
        markBoilerplate(body)
        let chosen = chooseContent(body)
        for element in chosen { debug("chosen", element) }
        var writer = BlockWriter(removed: removed, kinds: kinds)
        for element in chosen { writer.write(element) }
        writer.flush()
        return writer.paragraphs
    }

    /// `FEEDCORPUS_EXTRACT_DEBUG=1` prints the chosen elements to standard error.
    private static let debugging = ProcessInfo.processInfo.environment["FEEDCORPUS_EXTRACT_DEBUG"] != nil

    private func debug(_ label: String, _ element: HTMLElement) {
        guard Self.debugging else { return }
        var path: [String] = []
        var node: HTMLElement? = element
        while let current = node {
            path.append(current.name + (current.attribute("class").map { "." + $0.prefix(40) } ?? ""))
            node = current.parent
        }
        let measure = content[element.index]
        FileHandle.standardError.write(Data("\(label) score=\(scores[element.index]) good=\(measure.good) total=\(measure.total): \(path.reversed().joined(separator: " > "))\n".utf8))
    }

    // MARK: - Measuring

    @discardableResult
    private mutating func measure(_ element: HTMLElement, insideLink: Bool, insideParagraph: Bool) -> TextStats {
        var total = TextStats()
        let link = insideLink || element.name == "a"
        let paragraph = insideParagraph || element.name == "p"
        if kinds[element.index].contains(.invisible) { return total }
        for child in element.children {
            switch child {
            case .text(let text):
                let (length, commas, stops) = Self.countText(text)
                total.length += length
                total.commas += commas
                total.stops += stops
                if link { total.linkLength += length }
                if paragraph { total.paragraphLength += length }
            case .element(let child):
                let childStats = measure(child, insideLink: link, insideParagraph: paragraph)
                total.length += childStats.length
                total.linkLength += childStats.linkLength
                total.paragraphLength += childStats.paragraphLength
                total.commas += childStats.commas
                total.stops += childStats.stops
            }
        }
        stats[element.index] = total
        return total
    }

    static func countText(_ text: String) -> (length: Int, commas: Int, stops: Int) {
        var length = 0
        var commas = 0
        var stops = 0
        var previousSpace = true
        for scalar in text.unicodeScalars {
            if scalar == " " || scalar == "\n" || scalar == "\t" || scalar == "\r" {
                if !previousSpace { length += 1 }
                previousSpace = true
            } else {
                length += 1
                previousSpace = false
                if scalar == "," || scalar == "，" || scalar == "、" { commas += 1 }
                if scalar == "." || scalar == "!" || scalar == "?" || scalar == "。" || scalar == "！" || scalar == "？" || scalar == "…" { stops += 1 }
            }
        }
        return (length, commas, stops)
    }

    func stats(of element: HTMLElement) -> TextStats { stats[element.index] }

    // MARK: - Boilerplate

    private mutating func markBoilerplate(_ element: HTMLElement) {
        for child in element.childElements {
            if isBoilerplate(child) {
                removed[child.index] = true
                if Self.debugging, stats(of: child).length >= 500 { debug("removed (\(stats(of: child).length) chars)", child) }
            } else {
                markBoilerplate(child)
            }
        }
    }

    private mutating func isBoilerplate(_ element: HTMLElement) -> Bool {
        let name = element.name
        let kind = kinds[element.index]
        if kind.contains(.invisible) { return true }
        if element.attribute("hidden") != nil { return true }
        if trustClassNames, element.attribute("aria-hidden") == "true" { return true }
        if let style = element.attribute("style")?.lowercased().filter({ $0 != " " }),
           style.contains("display:none") || style.contains("visibility:hidden") { return true }
        if holdsMicrodataBody[element.index] { return false }
        if kind.contains(.neverContent) { return true }
        let holdsMostText = pageParagraphLength > 0 && Double(stats(of: element).paragraphLength) > 0.5 * Double(pageParagraphLength)
        // Most of the text is no proof of being the story when the story has a block of its own
        // beside it: a long comment thread outweighs many articles.
        if holdsMostText, !(trustClassNames && hintCache.hints(element).contains(.strongNegative) && hasArticleBlockOutside(element)) {
            return false
        }
        if kind.contains(.structuralBoilerplate) {
            // ASP.NET pages wrap the whole page in one `form`; a forum's posts may be in `div`s
            // without a paragraph: furniture never holds most of the page's unlinked text.
            let unlinked = stats(of: element).length - stats(of: element).linkLength
            return !(unlinked >= Self.fallbackBelow && Double(unlinked) > 0.5 * Double(pageUnlinkedLength))
        }
        if trustClassNames, let role = element.attribute("role")?.lowercased(), Vocabulary.boilerplateRoles.contains(role) { return true }
        guard trustClassNames else { return false }
        let hints = hintCache.hints(element)
        if hints.isEmpty || name == "body" || name == "html" { return false }
        let negative = hints.contains(.strongNegative) || (hints.contains(.negative) && !hints.contains(.positive))
        guard negative else { return false }
        // A block named like an article that holds a good part of the page's prose is the story
        // even when another of its class words sounds like boilerplate (WordPress lists the
        // post's tags and state there: "tag-jobs", "has-paywall").
        if articleBlocks.contains(where: { $0 === element }) { return false }
        return !Self.holdsEmbeddedPost(element)
    }

    /// Visible text below an element once boilerplate is left out, and how much of it is in
    /// paragraphs (blocks of text with few links).
    struct ContentMeasure {
        var good = 0
        var total = 0
    }

    private mutating func measureContent(_ element: HTMLElement) -> ContentMeasure {
        var measure = ContentMeasure()
        var run = TextStats()
        func endRun() {
            if run.isProse { measure.good += run.length }
            run = TextStats()
        }
        for child in element.children {
            switch child {
            case .text(let text):
                let counted = Self.countText(text)
                run.length += counted.length
                run.stops += counted.stops
                measure.total += counted.length
            case .element(let child):
                let kind = kinds[child.index]
                if removed[child.index] || kind.contains(.invisible) { continue }
                if kind.contains(.breaking) {
                    endRun()
                    if kind.contains(.paragraphLike) || kind.contains(.heading) {
                        let childStats = stats(of: child)
                        let isGood = childStats.isProse || (kind.contains(.heading) && childStats.linkDensity < 0.5)
                        let childMeasure = ContentMeasure(good: isGood ? childStats.length : 0, total: childStats.length)
                        content[child.index] = childMeasure
                        measure.good += childMeasure.good
                        measure.total += childMeasure.total
                    } else {
                        let inner = measureContent(child)
                        measure.good += inner.good
                        measure.total += inner.total
                    }
                } else {
                    let childStats = stats(of: child)
                    run.length += childStats.length
                    run.linkLength += childStats.linkLength
                    run.stops += childStats.stops
                    measure.total += childStats.length
                }
            }
        }
        endRun()
        content[element.index] = measure
        return measure
    }

    /// A block named like an article ("post", "entry", "article"...: a positive class word)
    /// holding at least 1,000 characters of paragraph text, a quarter of the page's, with few
    /// links.
    private mutating func isArticleBlock(_ element: HTMLElement) -> Bool {
        let elementStats = stats(of: element)
        guard elementStats.paragraphLength >= 1_000, Double(elementStats.paragraphLength) >= 0.25 * Double(pageParagraphLength),
              elementStats.linkDensity < 0.3, element.name != "body", element.name != "html" else { return false }
        return hintCache.hints(element).contains(.positive)
    }

    private mutating func findArticleBlocks(_ element: HTMLElement) {
        for child in element.childElements where !kinds[child.index].contains(.invisible) && stats(of: child).paragraphLength >= 1_000 {
            if isArticleBlock(child) { articleBlocks.append(child) }
            findArticleBlocks(child)
        }
    }

    /// True when an article block lies outside `element` (neither inside it nor around it).
    private func hasArticleBlockOutside(_ element: HTMLElement) -> Bool {
        articleBlocks.contains { $0 !== element && !Self.isAncestor(element, of: $0) && !Self.isAncestor($0, of: element) }
    }

    /// Embedded social posts (tweets, Instagram posts) quoted in a story are part of it, though
    /// their wrappers are named "social" or "embed".
    static func holdsEmbeddedPost(_ element: HTMLElement) -> Bool {
        var found = false
        element.descendants { descendant in
            if !found, descendant.name == "blockquote", let hints = descendant.attribute("class")?.lowercased(),
               hints.contains("twitter-tweet") || hints.contains("instagram-media") || hints.contains("tiktok-embed") {
                found = true
            }
        }
        return found
    }

    // MARK: - Choosing the content

    private mutating func chooseContent(_ body: HTMLElement) -> [HTMLElement] {
        var candidatesByScore: [(HTMLElement, Double)] = []
        scoreParagraphs(body)
        _ = measureContent(body)
        var all: [HTMLElement] = []
        collectScored(body, into: &all)
        for element in all {
            let raw = scores[element.index]
            candidatesByScore.append((element, raw * (1 - stats(of: element).linkDensity)))
        }
        guard var (top, topScore) = candidatesByScore.max(by: { $0.1 < $1.1 }) else { return [body] }

        // Several strong candidates sharing an ancestor: the story is split into sections.
        let strong = candidatesByScore.filter { $0.0 !== top && $0.1 >= topScore * 0.75 }.map(\.0)
        if strong.count >= 2 {
            var ancestor = top.parent
            while let current = ancestor, current !== body {
                let containing = strong.filter { Self.isAncestor(current, of: $0) }.count
                if containing >= 2 {
                    top = current
                    break
                }
                ancestor = current.parent
            }
        }
        // A parent that adds nothing but a wrapper.
        while let parent = top.parent, parent !== body, parent.childElements.filter({ !removed[$0.index] }).count == 1 {
            top = parent
        }
        // Grow to an ancestor (within a few levels) when that adds mostly paragraph text:
        // stories split into chunks between ad slots, or continued after an inline box.
        let inner = content[top.index]
        var ancestor = top.parent
        var levels = 0
        var grown = top
        while let current = ancestor, current !== body, levels < 4 {
            let outer = content[current.index]
            let addedGood = outer.good - inner.good
            let addedTotal = outer.total - inner.total
            if addedGood >= 150, Double(addedGood) >= 0.75 * Double(addedTotal) { grown = current }
            ancestor = current.parent
            levels += 1
        }
        debug("top", top)
        top = grown
        topScore = max(topScore, scores[top.index])

        // Siblings that continue the story.
        guard let parent = top.parent else { return [top] }
        let threshold = max(10, topScore * 0.2)
        let topClass = top.attribute("class")
        var chosen: [HTMLElement] = []
        for sibling in parent.childElements where !removed[sibling.index] {
            if sibling === top {
                chosen.append(sibling)
                continue
            }
            var bonus = 0.0
            if let topClass, !topClass.isEmpty, sibling.attribute("class") == topClass { bonus = topScore * 0.2 }
            let score = scores[sibling.index] * (1 - stats(of: sibling).linkDensity) + bonus
            let siblingContent = content[sibling.index]
            if score >= threshold, Double(siblingContent.good) >= 0.6 * Double(siblingContent.total) {
                chosen.append(sibling)
            } else if sibling.name == "p" {
                let siblingStats = stats(of: sibling)
                let text = HTMLText.collapseWhitespace(sibling.textContent)
                if siblingStats.length > 80, siblingStats.linkDensity < 0.25 {
                    chosen.append(sibling)
                } else if siblingStats.length > 0, siblingStats.linkDensity == 0, text.range(of: #"\.( |$)"#, options: .regularExpression) != nil {
                    chosen.append(sibling)
                }
            }
        }
        return chosen
    }

    private func collectScored(_ element: HTMLElement, into list: inout [HTMLElement]) {
        for child in element.childElements where !removed[child.index] {
            if scored[child.index] { list.append(child) }
            collectScored(child, into: &list)
        }
    }

    static func isAncestor(_ ancestor: HTMLElement, of element: HTMLElement) -> Bool {
        var current = element.parent
        while let node = current {
            if node === ancestor { return true }
            current = node.parent
        }
        return false
    }

    /// Readability's scoring: each paragraph gives 1 + its commas + a point per 100 characters
    /// (at most 3) to its parent, half to its grandparent, and a third of a third further up.
    private mutating func scoreParagraphs(_ element: HTMLElement) {
        // Text directly inside a container (between its blocks) counts as paragraphs of it.
        if hasBlockChild(element) {
            var run = TextStats()
            for child in element.children {
                switch child {
                case .text(let text):
                    let counted = Self.countText(text)
                    run.length += counted.length
                    run.commas += counted.commas
                case .element(let child):
                    if kinds[child.index].contains(.breaking) {
                        addParagraphScore(run, from: element, level: 0)
                        run = TextStats()
                    } else if !removed[child.index] && !kinds[child.index].contains(.invisible) {
                        let childStats = stats(of: child)
                        run.length += childStats.length
                        run.linkLength += childStats.linkLength
                        run.commas += childStats.commas
                    }
                }
            }
            addParagraphScore(run, from: element, level: 0)
        }
        for child in element.childElements where !removed[child.index] {
            if kinds[child.index].contains(.paragraphLike) || (child.name == "div" && !hasBlockChild(child)) {
                if let parent = child.parent { addParagraphScore(stats(of: child), from: parent, level: 0) }
                if child.name != "div" { continue }
            }
            scoreParagraphs(child)
        }
    }

    private mutating func addParagraphScore(_ paragraph: TextStats, from element: HTMLElement, level start: Int) {
        guard paragraph.length >= 25, paragraph.linkDensity < 0.5 else { return }
        let score = 1 + Double(paragraph.commas) + min(Double(paragraph.length / 100), 3)
        var ancestor: HTMLElement? = element
        var level = start
        while let current = ancestor, level < 5 {
            let key = current.index
            if !scored[key] {
                scores[key] = initialScore(current)
                scored[key] = true
            }
            let divider: Double = level == 0 ? 1 : level == 1 ? 2 : Double(level) * 3
            scores[key] += score / divider
            ancestor = current.parent
            level += 1
        }
    }

    func hasBlockChild(_ element: HTMLElement) -> Bool {
        element.childElements.contains { kinds[$0.index].contains(.block) }
    }

    private mutating func initialScore(_ element: HTMLElement) -> Double {
        var score: Double
        switch element.name {
        case "div", "article", "main", "section": score = 5
        case "pre", "td", "blockquote": score = 3
        case "address", "ol", "ul", "dl", "dd", "dt", "li", "form": score = -3
        case "h1", "h2", "h3", "h4", "h5", "h6", "th": score = -5
        default: score = 0
        }
        let hints = hintCache.hints(element)
        if hints.contains(.negative) { score -= 25 }
        if hints.contains(.positive) { score += 25 }
        if element.attribute("itemprop")?.lowercased() == "articlebody" { score += 50 }
        return score
    }
}

/// What the class, id and itemprop of an element say about it.
struct ClassHints: OptionSet {
    let rawValue: UInt8
    static let strongNegative = ClassHints(rawValue: 1)
    static let negative = ClassHints(rawValue: 2)
    static let positive = ClassHints(rawValue: 4)
    static let present = ClassHints(rawValue: 8)

    /// Classifies one attribute value (lower-cased words, and parts of words for the longer
    /// names).
    static func classify(_ value: String) -> ClassHints {
        let raw = Array(value.lowercased().utf8)
        let words = Set(raw.split(whereSeparator: { !(($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x30 && $0 <= 0x39) || $0 >= 0x80) })
            .map { String(decoding: $0, as: UTF8.self) })
        guard !words.isEmpty else { return [] }
        func containsAny(_ parts: [[UInt8]]) -> Bool {
            parts.contains { part in
                guard part.count <= raw.count, let first = part.first else { return false }
                var start = 0
                while start + part.count <= raw.count {
                    if raw[start] == first, raw[start..<start + part.count].elementsEqual(part) { return true }
                    start += 1
                }
                return false
            }
        }
        var hints: ClassHints = .present
        if !words.isDisjoint(with: Vocabulary.strongNegativeWords) || containsAny(Vocabulary.strongNegativeParts) {
            hints.insert(.strongNegative)
        }
        if !words.isDisjoint(with: Vocabulary.negativeWords) || containsAny(Vocabulary.negativeParts) {
            hints.insert(.negative)
        }
        if containsAny(Vocabulary.positiveParts) { hints.insert(.positive) }
        return hints
    }
}

/// Remembers the classification of each distinct attribute value (pages repeat class names).
struct ClassHintCache {
    private var known: [String: ClassHints] = [:]

    mutating func hints(_ element: HTMLElement) -> ClassHints {
        var hints: ClassHints = []
        for attribute in element.attributes where attribute.name == "class" || attribute.name == "id" || attribute.name == "itemprop" {
            if let cached = known[attribute.value] {
                hints.formUnion(cached)
            } else {
                let computed = ClassHints.classify(attribute.value)
                known[attribute.value] = computed
                hints.formUnion(computed)
            }
        }
        return hints
    }
}

/// What a tag name is, for the scoring and writing rules.
struct TagKind: OptionSet {
    let rawValue: UInt16
    static let invisible = TagKind(rawValue: 1)
    static let neverContent = TagKind(rawValue: 2)
    static let structuralBoilerplate = TagKind(rawValue: 4)
    static let paragraphLike = TagKind(rawValue: 8)
    static let heading = TagKind(rawValue: 16)
    static let block = TagKind(rawValue: 32)
    /// A block or `br`: ends a run of inline text.
    static let breaking = TagKind(rawValue: 64)
    static let link = TagKind(rawValue: 128)
    static let cell = TagKind(rawValue: 256)

    init(rawValue: UInt16) { self.rawValue = rawValue }

    init(name: String) {
        var kind: TagKind = []
        if Vocabulary.invisible.contains(name) { kind.insert(.invisible) }
        if Vocabulary.neverContent.contains(name) { kind.insert(.neverContent) }
        if Vocabulary.structuralBoilerplate.contains(name) { kind.insert(.structuralBoilerplate) }
        if Vocabulary.paragraphLike.contains(name) { kind.insert(.paragraphLike) }
        if Vocabulary.headings.contains(name) { kind.insert(.heading) }
        if Vocabulary.blocks.contains(name) { kind.insert([.block, .breaking]) }
        if name == "br" { kind.insert(.breaking) }
        if name == "a" { kind.insert(.link) }
        if name == "td" || name == "th" { kind.insert(.cell) }
        self = kind
    }
}

enum Vocabulary {
    /// Elements whose content is never visible text.
    static let invisible: Set<String> = [
        "script", "style", "noscript", "template", "head", "svg", "canvas", "iframe", "object", "embed",
        "video", "audio", "picture", "map", "math", "title", "meta", "link",
    ]
    /// Elements that are never part of an article's text.
    static let neverContent: Set<String> = [
        "button", "select", "input", "textarea", "label", "option", "nav", "aside", "figure", "figcaption",
        "dialog", "menu", "h1",
    ]
    /// Page furniture, unless it holds most of the page's text.
    static let structuralBoilerplate: Set<String> = ["header", "footer", "form"]
    static let boilerplateRoles: Set<String> = [
        "navigation", "banner", "contentinfo", "complementary", "dialog", "alert", "alertdialog", "menu", "menubar", "search",
    ]
    static let paragraphLike: Set<String> = ["p", "pre", "blockquote", "td"]
    static let headings: Set<String> = ["h2", "h3", "h4", "h5", "h6"]
    static let blocks: Set<String> = [
        "address", "article", "aside", "blockquote", "dd", "details", "dialog", "div", "dl", "dt", "fieldset", "figure",
        "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr", "li", "main", "nav", "ol", "p", "pre",
        "section", "table", "ul", "tr", "td", "th", "tbody", "thead",
    ]

    static let strongNegativeWords: Set<String> = [
        "share", "sharing", "social", "comments", "comment", "related", "newsletter", "cookie", "cookies", "consent",
        "outbrain", "taboola", "caption", "captions", "credit", "credits", "breadcrumb", "breadcrumbs", "byline",
        "promo", "advertisement", "ad", "ads", "advert", "sidebar", "subscribe", "subscription", "signup", "popup",
        "modal", "trending", "recommended", "recommendations", "nav", "navigation", "menu", "footer", "masthead", "tags",
        "tag", "toolbar", "print", "sponsored", "disqus", "paywall", "inline", "newsletters",
    ]
    static let strongNegativeParts: [[UInt8]] = [
        "comment", "share", "social", "newsletter", "related", "recommend", "outbrain", "taboola", "cookie", "consent",
        "caption", "breadcrumb", "advert", "sidebar", "subscribe", "signup", "sign-up", "popular", "most-read", "mostread",
        "trending", "promo", "byline", "author-info", "authorinfo", "author-bio", "more-stories", "morestories",
        "read-more", "readmore", "also-read", "alsoread", "further-reading", "tags",
    ].map { Array($0.utf8) }
    static let negativeWords: Set<String> = [
        "banner", "combx", "contact", "foot", "footnote", "gdpr", "meta", "scroll", "shoutbox", "skyscraper", "sponsor",
        "shopping", "tool", "tools", "widget", "hidden", "hid", "extra", "remark", "replies", "rss", "supplemental",
        "pagination", "pager", "header", "legends", "agegate", "media", "video", "photo", "gallery", "embed",
    ]
    static let negativeParts: [[UInt8]] = ["-ad-", "widget", "footer", "header", "sponsor", "gallery", "slideshow"].map { Array($0.utf8) }
    static let positiveParts: [[UInt8]] = [
        "article", "body", "content", "entry", "hentry", "main", "post", "text", "blog", "story", "prose",
    ].map { Array($0.utf8) }
}
