import DatesAndCharsets
import Foundation

/// Where a story's text came from: the feed document or the fetched article page.
public enum TextSource: String, Sendable, Codable {
    case feed
    case page
}

/// How a story that was not in its feed's current document was found (`via` in the manifest).
public enum StoryVia: String, Sendable, Codable {
    /// An RFC 5005 archive or paged-feed document of the feed.
    case archive
    /// The site's (news) sitemap.
    case sitemap
}

/// Everything known about one stored story: one line of `manifest.jsonl` and one row of state.
public struct StoryRecord: Sendable, Equatable, Codable {
    /// Path of the story file relative to the corpus root, e.g. `2024-11-04/000_7e39f8ebbce6b66f.txt`.
    public var file: String
    /// Lower-case hex SHA-256 of the normalised text (see `Dedupe.TextFingerprint`).
    public var sha256: String
    /// 64-bit SimHash of the normalised text, 16 lower-case hex digits.
    public var simhash: String
    /// The entry link after URL canonicalisation.
    public var url: String?
    /// The name of the feed the story came from.
    public var feed: String
    /// The configured URL of that feed.
    public var feedURL: String
    /// The entry's id (`guid` / `atom:id`) as the feed gave it.
    public var entryID: String?
    public var title: String
    public var published: Date?
    public var fetched: Date
    /// BCP 47 language tag when known (entry or feed language), else nil.
    public var language: String?
    public var textSource: TextSource
    /// Near-duplicate and event information from the dedupe stage: `duplicateOf` is always nil
    /// for a stored story (duplicates are not stored; see `feedcorpus duplicates`); `supersedes`
    /// names the earlier, shorter near duplicate this story was kept instead of (keep-longer policy)
    /// and `nearDistance` their SimHash distance; `event` groups distinct stories on one event.
    public var duplicateOf: String?
    public var supersedes: String?
    public var nearDistance: Int?
    public var event: String?
    /// The article page's author, when the text came from the page.
    public var author: String?
    /// The page's own canonical URL (link rel=canonical / og:url), when the page was fetched.
    public var canonicalURL: String?
    /// Set when backfill found the story (nil: it was in the feed's document when polled).
    public var via: StoryVia?

    public init(
        file: String, sha256: String, simhash: String, url: String?, feed: String, feedURL: String,
        entryID: String?, title: String, published: Date?, fetched: Date, language: String?,
        textSource: TextSource, duplicateOf: String? = nil, supersedes: String? = nil, nearDistance: Int? = nil, event: String? = nil,
        author: String? = nil, canonicalURL: String? = nil, via: StoryVia? = nil
    ) {
        self.via = via
        self.author = author
        self.canonicalURL = canonicalURL
        self.supersedes = supersedes
        self.nearDistance = nearDistance
        self.file = file
        self.sha256 = sha256
        self.simhash = simhash
        self.url = url
        self.feed = feed
        self.feedURL = feedURL
        self.entryID = entryID
        self.title = title
        self.published = published
        self.fetched = fetched
        self.language = language.flatMap(LanguageTag.normalized)
        self.textSource = textSource
        self.duplicateOf = duplicateOf
        self.event = event
    }

    enum CodingKeys: String, CodingKey {
        case file, sha256, simhash, url, feed
        case feedURL = "feed_url"
        case entryID = "entry_id"
        case title, published, fetched, language
        case textSource = "text_source"
        case duplicateOf = "duplicate_of"
        case supersedes
        case nearDistance = "near_distance"
        case event
        case author
        case canonicalURL = "canonical_url"
        case via
    }

    /// Encodes the record as one compact JSON line (no trailing newline), keys sorted, dates as
    /// ISO 8601 UTC and absent values as `null` so every line has every key. Written by hand
    /// (the same bytes `JSONSerialization` gives with sorted keys and unescaped slashes, which a
    /// test checks), because it runs for every stored story.
    public func jsonLine() throws -> String {
        let fields: [(CodingKeys, String?)] = [
            (.author, author), (.canonicalURL, canonicalURL), (.duplicateOf, duplicateOf), (.entryID, entryID),
            (.event, event), (.feed, feed), (.feedURL, feedURL), (.fetched, ISO8601.string(fetched)), (.file, file),
            (.language, language), (.nearDistance, nil), (.published, published.map(ISO8601.string)), (.sha256, sha256),
            (.simhash, simhash), (.supersedes, supersedes), (.textSource, textSource.rawValue), (.title, title), (.url, url),
            (.via, via?.rawValue),
        ]
        var out: [UInt8] = [UInt8(ascii: "{")]
        out.reserveCapacity(512)
        for (index, (key, value)) in fields.enumerated() {
            if index > 0 { out.append(UInt8(ascii: ",")) }
            JSONText.appendString(key.rawValue, to: &out)
            out.append(UInt8(ascii: ":"))
            if key == .nearDistance {
                if let nearDistance { out.append(contentsOf: String(nearDistance).utf8) } else { out.append(contentsOf: "null".utf8) }
            } else if let value {
                JSONText.appendString(value, to: &out)
            } else {
                out.append(contentsOf: "null".utf8)
            }
        }
        out.append(UInt8(ascii: "}"))
        return String(decoding: out, as: UTF8.self)
    }
}

/// A manifest line that is not a story record.
public struct StoryRecordLineError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public var description: String { "not a story record line: \(message)" }
}

extension StoryRecord {
    /// Reads one manifest line as `jsonLine()` writes it (dates as ISO 8601 UTC).
    public init(jsonLine line: String) throws(StoryRecordLineError) {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .custom { decoder in
            let text = try decoder.singleValueContainer().decode(String.self)
            guard let date = ISO8601.parse(text) else {
                throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "not a date: \(text)"))
            }
            return date
        }
        do {
            self = try decoder.decode(StoryRecord.self, from: Data(line.utf8))
        } catch {
            throw StoryRecordLineError(message: "\(error)")
        }
    }
}

/// JSON string escaping as `JSONSerialization` does it with unescaped slashes: `"` and `\\`
/// escaped, control characters as `\n`, `\t`... or `\u00xx`, everything else as UTF-8.
public enum JSONText {
    public static func appendString(_ text: String, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\""): out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\"")])
            case UInt8(ascii: "\\"): out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\\")])
            case 0x0A: out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "n")])
            case 0x0D: out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "r")])
            case 0x09: out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "t")])
            case 0x08: out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "b")])
            case 0x0C: out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "f")])
            case 0..<0x20:
                let hex = Array("0123456789abcdef".utf8)
                out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0"),
                                        hex[Int(byte >> 4)], hex[Int(byte & 0xF)]])
            default: out.append(byte)
            }
        }
        out.append(UInt8(ascii: "\""))
    }
}

/// ISO 8601 UTC formatting with whole seconds, as used in the manifest and in JSON output.
public enum ISO8601 {
    /// Formats `date` as `2024-11-04T12:00:00Z`.
    public static func string(_ date: Date) -> String {
        let seconds = Int64(date.timeIntervalSince1970.rounded(.down))
        let days = floorDiv(seconds, 86_400)
        let secondOfDay = seconds - days * 86_400
        let (year, month, day) = civilDate(fromDays: days)
        guard (0...9999).contains(year) else {
            return String(format: "%04d-%02d-%02dT%02d:%02d:%02dZ", year, month, day,
                          Int(secondOfDay / 3600), Int(secondOfDay % 3600 / 60), Int(secondOfDay % 60))
        }
        var out = ""
        out.reserveCapacity(20)
        out += DecimalText.zeroPadded(year, width: 4) + "-" + DecimalText.zeroPadded(month, width: 2) + "-"
        out += DecimalText.zeroPadded(day, width: 2) + "T" + DecimalText.zeroPadded(Int(secondOfDay / 3600), width: 2) + ":"
        out += DecimalText.zeroPadded(Int(secondOfDay % 3600 / 60), width: 2) + ":" + DecimalText.zeroPadded(Int(secondOfDay % 60), width: 2) + "Z"
        return out
    }

    /// Reads `2024-11-04` (midnight UTC), `2024-11-04T12:00:00Z` or any other date `FeedDate` reads.
    public static func parse(_ text: String) -> Date? {
        FeedDate.parse(text)
    }

    /// An instant as an operator writes it: an ISO 8601 date or instant, or relative to `now`:
    /// `30m`, `24h`, `7d`, `2w` (that long ago), `today`, `yesterday` (the UTC day's start).
    public static func parse(relative text: String, now: Date) -> Date? {
        let trimmed = text.trimmingCharacters(in: .whitespaces).lowercased()
        let startOfToday = Date(timeIntervalSince1970: (now.timeIntervalSince1970 / 86_400).rounded(.down) * 86_400)
        switch trimmed {
        case "today": return startOfToday
        case "yesterday": return startOfToday.addingTimeInterval(-86_400)
        default: break
        }
        if let unit = trimmed.last, let amount = Double(trimmed.dropLast()), amount >= 0 {
            let seconds: Double? = ["s": 1, "m": 60, "h": 3600, "d": 86_400, "w": 604_800][unit]
            if let seconds { return now.addingTimeInterval(-amount * seconds) }
        }
        return parse(text)
    }

    /// The UTC calendar day of `date` as `2024-11-04`.
    public static func day(_ date: Date) -> String {
        String(string(date).prefix(10))
    }

    private static func floorDiv(_ a: Int64, _ b: Int64) -> Int64 {
        let q = a / b
        return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q
    }

    // Howard Hinnant's days-to-civil algorithm: no Calendar, no time zone database.
    private static func civilDate(fromDays z0: Int64) -> (Int, Int, Int) {
        let z = z0 + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let y = yoe + era * 400
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (Int(m <= 2 ? y + 1 : y), Int(m), Int(d))
    }
}

/// A stored story's id in the state and its file in the corpus.
public struct StoredStoryRef: Sendable, Equatable {
    public var id: Int64
    public var file: String

    public init(id: Int64, file: String) {
        self.id = id
        self.file = file
    }
}

/// Why an entry was not stored although it was new.
public enum DuplicateReason: String, Sendable, Codable {
    /// The same globally unique entry id (a URL, URN or tag id) as a stored story from any feed.
    case sameID = "same_id"
    /// The same canonical article URL as a stored story.
    case sameURL = "same_url"
    /// Same SHA-256 of the normalised text as a stored story.
    case sameText = "same_text"
    /// Verified near duplicate of a stored story: a MinHash / SimHash candidate whose estimated
    /// shingle Jaccard or containment passed the thresholds (`similarity` says how close).
    case nearText = "near_text"
}


/// BCP 47 language tags in their conventional case (RFC 5646 §2.1.1): `en-US`, `zh-Hant-TW`,
/// `es-419`, never `en-us` or `EN_us`.
public enum LanguageTag {
    /// `tag` with `_` read as `-` and each subtag in its conventional case; nil for an empty or
    /// malformed tag (subtags of 1 to 8 letters or digits).
    public static func normalized(_ tag: String) -> String? {
        // Foundation's trimming and replacing only when there is something to trim or replace.
        var text = tag.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) ? tag : tag.trimmingCharacters(in: .whitespaces)
        if text.utf8.contains(UInt8(ascii: "_")) { text = text.replacingOccurrences(of: "_", with: "-") }
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard let first = parts.first, !first.isEmpty,
              parts.allSatisfy({ (1...8).contains($0.count) && $0.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber) } }) else {
            return nil
        }
        var out: [String] = [first.lowercased()]
        var singleton = false  // after an extension or private-use singleton, everything is lower case
        for part in parts.dropFirst() {
            if part.count == 1 { singleton = true }
            if singleton {
                out.append(part.lowercased())
            } else if part.count == 2 && part.allSatisfy(\.isLetter) {
                out.append(part.uppercased())  // region
            } else if part.count == 4 && part.allSatisfy(\.isLetter) {
                out.append(part.prefix(1).uppercased() + part.dropFirst().lowercased())  // script
            } else {
                out.append(part.lowercased())
            }
        }
        return out.joined(separator: "-")
    }
}
