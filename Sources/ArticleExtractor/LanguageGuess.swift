/// Guesses the language of a text from its most frequent function words, for pages that do not
/// declare one. Covers the main European languages; returns nil when no language clearly wins.
public enum LanguageGuess {
    static let stopWords: [String: Set<String>] = [
        "en": ["the", "and", "of", "to", "in", "is", "that", "for", "it", "with", "was", "on", "as", "he", "she", "by", "are", "this", "have", "from"],
        "de": ["der", "die", "und", "das", "ist", "nicht", "zu", "den", "mit", "sich", "des", "auf", "für", "dem", "ein", "eine", "auch", "es", "von", "wird"],
        "fr": ["le", "la", "les", "et", "des", "est", "une", "un", "du", "que", "dans", "pour", "qui", "pas", "sur", "au", "avec", "il", "elle", "ce"],
        "es": ["el", "la", "los", "las", "y", "de", "que", "en", "un", "una", "por", "con", "para", "es", "se", "del", "al", "lo", "como", "más"],
        "it": ["il", "di", "che", "e", "la", "per", "un", "una", "del", "della", "non", "sono", "con", "gli", "le", "si", "da", "nel", "è", "alla"],
        "nl": ["de", "het", "een", "en", "van", "is", "dat", "niet", "op", "te", "met", "voor", "zijn", "ook", "maar", "bij", "er", "aan", "wordt", "hij"],
        "pt": ["o", "a", "os", "as", "de", "que", "e", "do", "da", "em", "um", "uma", "para", "com", "não", "se", "por", "mais", "no", "na"],
        "sv": ["och", "att", "det", "som", "en", "på", "är", "av", "för", "med", "till", "den", "har", "inte", "om", "ett", "de", "jag", "men", "var"],
        "pl": ["i", "w", "nie", "na", "się", "z", "że", "do", "to", "jest", "jak", "o", "ale", "po", "co", "tak", "za", "od", "przez", "już"],
    ]

    /// The ISO 639-1 code of the likeliest language, or nil for short or unclear texts.
    public static func guess(_ text: String) -> String? {
        var counts: [String: Int] = [:]
        var words = 0
        for word in text.lowercased().split(whereSeparator: { !$0.isLetter }).prefix(2000) {
            words += 1
            let key = String(word)
            for (language, set) in stopWords where set.contains(key) { counts[language, default: 0] += 1 }
        }
        guard words >= 20 else { return nil }
        let ranked = counts.sorted { $0.value > $1.value || ($0.value == $1.value && $0.key < $1.key) }
        guard let best = ranked.first, Double(best.value) >= Double(words) * 0.1 else { return nil }
        if ranked.count > 1, Double(ranked[1].value) > Double(best.value) * 0.8 { return nil }
        return best.key
    }
}
