import Foundation

/// Parses the dates feeds carry into UTC instants.
///
/// Accepts RFC 822/2822 and the variants seen in the wild (two-digit years, no seconds, no
/// weekday, named zones, numeric zones without colon, lower case, extra spaces) and RFC 3339 /
/// ISO 8601 / W3CDTF (date only, no seconds, fractions, no zone = UTC). Garbage gives nil.
public enum FeedDate {
    /// The instant `text` names, or nil when it is not a date this parser can read with certainty.
    public static func parse(_ text: String) -> Date? {
        let trimmed = XMLWhitespace.trimmed(text)
        guard !trimmed.isEmpty, trimmed.utf8.count < 80 else { return nil }
        if let first = trimmed.utf8.first, first >= UInt8(ascii: "0"), first <= UInt8(ascii: "9"),
           let date = parseISO8601(trimmed) {
            return date
        }
        return parseCanonicalRFC822(trimmed) ?? parseRFC822(trimmed)
    }

    // MARK: ISO 8601 / RFC 3339 / W3CDTF

    static func parseISO8601(_ text: String) -> Date? {
        var scanner = ByteScanner(Array(text.utf8))
        guard let year = scanner.digits(exactly: 4) else { return nil }
        var month = 1, day = 1
        if scanner.skip("-") {
            guard let m = scanner.digits(exactly: 2) else { return nil }
            month = m
            if scanner.skip("-") {
                guard let d = scanner.digits(exactly: 2) else { return nil }
                day = d
            }
        } else if let m = scanner.digits(exactly: 2) {  // basic format 20241104
            month = m
            guard let d = scanner.digits(exactly: 2) else { return nil }
            day = d
        }
        var hour = 0, minute = 0, second = 0
        var fraction = 0.0
        var offset = 0
        if scanner.skip("T") || scanner.skip("t") || scanner.skip(" ") {
            guard let h = scanner.digits(exactly: 2) else { return nil }
            hour = h
            _ = scanner.skip(":")
            guard let mi = scanner.digits(exactly: 2) else { return nil }
            minute = mi
            if scanner.skip(":") || scanner.peekDigit {
                guard let s = scanner.digits(exactly: 2) else { return nil }
                second = s
                if scanner.skip(".") || scanner.skip(",") {
                    let start = scanner.position
                    while scanner.peekDigit { scanner.position += 1 }
                    let digits = scanner.bytes[start..<scanner.position]
                    guard !digits.isEmpty else { return nil }
                    fraction = Double("0." + String(decoding: digits.prefix(9), as: UTF8.self)) ?? 0
                }
            }
            scanner.skipSpaces()
            if scanner.skip("Z") || scanner.skip("z") {
                offset = 0
            } else if let sign = scanner.sign() {
                guard let oh = scanner.digits(exactly: 2) else { return nil }
                _ = scanner.skip(":")
                let om = scanner.digits(exactly: 2) ?? 0
                guard oh <= 23, om <= 59 else { return nil }
                offset = sign * (oh * 3600 + om * 60)
            } else if !scanner.atEnd {
                // A named zone after an ISO date ("2024-11-04 12:00:00 GMT").
                let rest = String(decoding: scanner.bytes[scanner.position...], as: UTF8.self)
                guard let zone = zoneOffset(rest.trimmingCharacters(in: .whitespaces)) else { return nil }
                offset = zone
                scanner.position = scanner.bytes.count
            }
        }
        scanner.skipSpaces()
        guard scanner.atEnd else { return nil }
        return makeDate(year: year, month: month, day: day, hour: hour, minute: minute,
                        second: second, offset: offset).map { $0.addingTimeInterval(fraction) }
    }

    // MARK: RFC 822 and friends

    /// The form nearly every RSS feed uses, read without allocating:
    /// `Mon, 04 Nov 2024 12:00:00 +0000` (or `GMT`/`UT`/`Z`), weekday optional, day of one or two digits.
    static func parseCanonicalRFC822(_ text: String) -> Date? {
        var text = text
        return text.withUTF8 { bytes -> Date? in
            var scanner = ByteScanner(Array(bytes))
            if scanner.bytes.count > 4, scanner.bytes[3] == UInt8(ascii: ",") {
                scanner.position = 4
                scanner.skipSpaces()
            }
            guard let day = scanner.digits(exactly: 2) ?? scanner.digits(exactly: 1), scanner.skip(" "),
                  scanner.position + 3 <= scanner.bytes.count else { return nil }
            let monthKey = scanner.bytes[scanner.position..<scanner.position + 3].reduce(0) { $0 << 8 | Int($1 | 0x20) }
            guard let month = Self.monthKeys[monthKey] else { return nil }
            scanner.position += 3
            guard scanner.skip(" "), let year = scanner.digits(exactly: 4), scanner.skip(" "),
                  let hour = scanner.digits(exactly: 2), scanner.skip(":"), let minute = scanner.digits(exactly: 2) else { return nil }
            var second = 0
            if scanner.skip(":") {
                guard let value = scanner.digits(exactly: 2) else { return nil }
                second = value
            }
            guard scanner.skip(" ") else { return nil }
            let offset: Int
            if let sign = scanner.sign() {
                guard let hours = scanner.digits(exactly: 2), let minutes = scanner.digits(exactly: 2), minutes < 60 else { return nil }
                offset = sign * (hours * 3600 + minutes * 60)
            } else {
                let rest = scanner.bytes[scanner.position...]
                guard rest.elementsEqual("GMT".utf8) || rest.elementsEqual("UT".utf8) || rest.elementsEqual("UTC".utf8) || rest.elementsEqual("Z".utf8) else {
                    return nil
                }
                scanner.position = scanner.bytes.count
                offset = 0
            }
            guard scanner.atEnd else { return nil }
            return makeDate(year: year, month: month, day: day, hour: hour, minute: minute, second: second, offset: offset)
        }
    }

    private static let monthKeys: [Int: Int] = {
        var keys: [Int: Int] = [:]
        for (index, name) in ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"].enumerated() {
            keys[name.utf8.reduce(0) { $0 << 8 | Int($1) }] = index + 1
        }
        return keys
    }()

    static func parseRFC822(_ text: String) -> Date? {
        let tokens = tokenize(text)
        var day: Int?, month: Int?, year: Int?
        var hour = 0, minute = 0, second = 0
        var sawTime = false
        var offset: Int?
        var index = 0
        while index < tokens.count {
            var token = tokens[index]
            index += 1
            if token.hasSuffix(".") { token.removeLast() }
            if token.isEmpty { continue }
            if (token.first == "+" || token.first == "-"), sawTime, offset == nil, let zone = zoneOffset(token) {
                offset = zone  // "-05:00" after the time.
            } else if token.utf8.contains(UInt8(ascii: ":")) {
                guard !sawTime else { return nil }
                var timeToken = Substring(token)
                // "12:00:00+0100" or "12:00:00z": a zone glued to the time.
                if let zoneStart = timeToken.firstIndex(where: { $0 == "+" || $0 == "-" || $0.isLetter }) {
                    guard offset == nil, let zone = zoneOffset(String(timeToken[zoneStart...])) else { return nil }
                    offset = zone
                    timeToken = timeToken[..<zoneStart]
                }
                let parts = timeToken.split(separator: ":", omittingEmptySubsequences: false)
                guard (2...3).contains(parts.count),
                      let h = Int(parts[0]), let m = Int(parts[1]) else { return nil }
                hour = h
                minute = m
                if parts.count == 3 {
                    let secondsPart = parts[2].split(separator: ".").first ?? ""
                    guard let s = Int(secondsPart) else { return nil }
                    second = s
                }
                sawTime = true
            } else if let m = monthNumber(token) {
                guard month == nil else { return nil }
                month = m
            } else if weekdayNames.contains(token) {
                continue
            } else if token.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) {
                guard let value = Int(token) else { return nil }
                if day == nil && token.count <= 2 && (1...31).contains(value) {
                    day = value
                    continue
                }
                if year != nil && sawTime && token.count == 4, let zone = zoneOffset(token), offset == nil {
                    offset = zone  // A numeric zone written without its sign: "12:00:00 0530".
                    continue
                }
                guard year == nil else { return nil }
                if token.count == 4 {
                    year = value
                } else if token.count == 2 {
                    year = value < 50 ? 2000 + value : 1900 + value
                } else if token.count == 3 {
                    year = 1900 + value  // Some old generators write years since 1900.
                } else {
                    return nil
                }
            } else if let zone = zoneOffset(token) {
                guard offset == nil else { return nil }
                offset = zone
            } else if ["at", "on", "de", "del", "um", "à", "a", "le", "den", "der", "el", "h", "o"].contains(token) {
                continue
            } else {
                return nil
            }
        }
        guard let day, let month, let year else { return nil }
        return makeDate(year: year, month: month, day: day, hour: hour, minute: minute,
                        second: second, offset: offset ?? 0)
    }

    /// Lower-cased tokens split at white space and commas, without Foundation's string machinery
    /// (this runs once per entry and date).
    static func tokenize(_ text: String) -> [String] {
        var tokens: [String] = []
        var current = String.UnicodeScalarView()
        var ascii = true
        func flush() {
            guard !current.isEmpty else { return }
            let token = String(current)
            tokens.append(ascii ? token : token.lowercased())
            current.removeAll(keepingCapacity: true)
            ascii = true
        }
        for scalar in text.unicodeScalars {
            switch scalar {
            case " ", "\t", "\n", "\r", ",":
                flush()
            case "A"..."Z":
                current.append(Unicode.Scalar(scalar.value + 32)!)
            default:
                if !scalar.isASCII { ascii = false }
                current.append(scalar)
            }
        }
        flush()
        return tokens
    }

    static func monthNumber(_ token: String) -> Int? {
        if let number = monthNames[token] { return number }
        // English abbreviations of any length ("Sept", "Febr").
        if token.count > 3, token.allSatisfy(\.isASCII), let number = englishMonths[String(token.prefix(3))] { return number }
        return nil
    }

    private static let englishMonths: [String: Int] = [
        "jan": 1, "feb": 2, "mar": 3, "apr": 4, "may": 5, "jun": 6, "jul": 7, "aug": 8, "sep": 9, "oct": 10, "nov": 11, "dec": 12,
    ]

    /// Month names and abbreviations in English, German, French, Spanish, Italian, Portuguese,
    /// Dutch, Swedish/Danish/Norwegian and Polish, lower-cased.
    private static let monthNames: [String: Int] = {
        let names: [[String]] = [
            ["jan", "january", "januar", "jänner", "janv", "janvier", "ene", "enero", "gen", "gennaio", "janeiro", "januari", "januar", "sty", "stycznia", "styczeń"],
            ["feb", "february", "februar", "févr", "fevr", "février", "fevrier", "febrero", "febbraio", "fev", "fevereiro", "februari", "lut", "lutego", "luty"],
            ["mar", "march", "mär", "märz", "maerz", "mars", "marzo", "março", "marco", "maart", "mrt", "mars", "mar", "marca", "marzec"],
            ["apr", "april", "avr", "avril", "abr", "abril", "aprile", "kwi", "kwietnia", "kwiecień"],
            ["may", "mai", "mayo", "mag", "maggio", "maio", "mei", "maj", "maja"],
            ["jun", "june", "juni", "juin", "junio", "giu", "giugno", "junho", "cze", "czerwca", "czerwiec"],
            ["jul", "july", "juli", "juil", "juillet", "julio", "lug", "luglio", "julho", "lip", "lipca", "lipiec"],
            ["aug", "august", "août", "aout", "ago", "agosto", "augustus", "sie", "sierpnia", "sierpień"],
            ["sep", "sept", "september", "septembre", "septiembre", "setiembre", "set", "settembre", "setembro", "wrz", "września", "wrzesień"],
            ["oct", "october", "okt", "oktober", "octobre", "octubre", "ott", "ottobre", "out", "outubro", "paź", "października", "październik"],
            ["nov", "november", "novembre", "noviembre", "novembro", "lis", "listopada", "listopad"],
            ["dec", "december", "dez", "dezember", "déc", "decembre", "décembre", "dic", "diciembre", "dicembre", "dezembro", "des", "desember", "gru", "grudnia", "grudzień"],
        ]
        var table: [String: Int] = [:]
        for (index, list) in names.enumerated() {
            for name in list where table[name] == nil { table[name] = index + 1 }
        }
        return table
    }()

    /// Weekday names and abbreviations in the same languages; they carry no information.
    private static let weekdayNames: Set<String> = [
        "mon", "tue", "tues", "wed", "thu", "thur", "thurs", "fri", "sat", "sun", "monday", "tuesday", "wednesday",
        "thursday", "friday", "saturday", "sunday",
        "mo", "di", "mi", "do", "fr", "sa", "so", "montag", "dienstag", "mittwoch", "donnerstag", "freitag", "samstag", "sonnabend", "sonntag",
        "lun", "mer", "jeu", "ven", "sam", "dim", "lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche",
        "lunes", "martes", "miércoles", "miercoles", "jueves", "viernes", "sábado", "sabado", "domingo", "mié", "jue", "vie", "sáb", "dom",
        "lunedì", "martedì", "mercoledì", "giovedì", "venerdì", "sabato", "domenica", "gio", "lunedi", "martedi", "mercoledi", "giovedi", "venerdi",
        "segunda", "terça", "quarta", "quinta", "sexta", "seg", "ter", "qua", "qui", "sex", "segunda-feira", "terça-feira", "quarta-feira", "quinta-feira", "sexta-feira",
        "maandag", "dinsdag", "woensdag", "donderdag", "vrijdag", "zaterdag", "zondag", "ma", "wo", "vr", "za", "zo",
        "måndag", "tisdag", "onsdag", "torsdag", "fredag", "lördag", "söndag", "mandag", "tirsdag", "lørdag", "søndag", "mån", "tis", "ons", "tor", "fre", "lör", "sön",
        "pon", "wt", "śr", "czw", "pt", "sob", "niedz", "poniedziałek", "wtorek", "środa", "czwartek", "piątek", "sobota", "niedziela",
    ]

    private static let namedZones: [String: Int] = [
        "gmt": 0, "ut": 0, "utc": 0, "z": 0, "wet": 0,
        "est": -5, "edt": -4, "cst": -6, "cdt": -5, "mst": -7, "mdt": -6, "pst": -8, "pdt": -7,
        "akst": -9, "akdt": -8, "hst": -10, "ast": -4, "adt": -3, "nst": -3,
        "bst": 1, "cet": 1, "cest": 2, "met": 1, "mest": 2, "eet": 2, "eest": 3, "west": 1,
        "msk": 3, "ist": 5, "jst": 9, "kst": 9, "aest": 10, "aedt": 11, "nzst": 12, "nzdt": 13,
    ]

    /// Seconds east of UTC for a zone token: `+0100`, `-05:00`, `0100` (no sign), `GMT+1`, names.
    static func zoneOffset(_ raw: String) -> Int? {
        var token = raw.lowercased()
        if let hours = namedZones[token] { return hours * 3600 }
        for prefix in ["gmt", "utc", "ut"] where token.hasPrefix(prefix) && token.count > prefix.count {
            token.removeFirst(prefix.count)
            break
        }
        var sign = 1
        if token.hasPrefix("+") { token.removeFirst() } else if token.hasPrefix("-") { sign = -1; token.removeFirst() }
        token.removeAll(where: { $0 == ":" })
        guard !token.isEmpty, token.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }), let value = Int(token) else {
            return raw.count == 1 && raw.first?.isLetter == true ? 0 : nil  // Military letters: RFC 2822 says treat as unknown (UTC).
        }
        let hours: Int, minutes: Int
        switch token.count {
        case 1, 2: hours = value; minutes = 0
        case 3, 4: hours = value / 100; minutes = value % 100
        default: return nil
        }
        guard hours <= 23, minutes <= 59 else { return nil }
        return sign * (hours * 3600 + minutes * 60)
    }

    /// Builds an instant from UTC-offset civil time, rejecting out-of-range fields.
    static func makeDate(year: Int, month: Int, day: Int, hour: Int, minute: Int, second: Int, offset: Int) -> Date? {
        guard (1...9999).contains(year), (1...12).contains(month), day >= 1,
              day <= daysInMonth(year: year, month: month), (0...24).contains(hour),
              (0...59).contains(minute), (0...60).contains(second) else { return nil }
        if hour == 24 && (minute != 0 || second != 0) { return nil }
        let days = daysFromCivil(year: year, month: month, day: day)
        let seconds = days * 86_400 + hour * 3600 + minute * 60 + min(second, 59) - offset
        return Date(timeIntervalSince1970: TimeInterval(seconds))
    }

    static func daysInMonth(year: Int, month: Int) -> Int {
        switch month {
        case 2: return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    static func daysFromCivil(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = (month + 9) % 12
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }
}

struct ByteScanner {
    let bytes: [UInt8]
    var position = 0

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    var atEnd: Bool { position >= bytes.count }
    var peekDigit: Bool { !atEnd && bytes[position] >= 48 && bytes[position] <= 57 }

    mutating func skip(_ character: Unicode.Scalar) -> Bool {
        guard !atEnd, bytes[position] == UInt8(character.value) else { return false }
        position += 1
        return true
    }

    mutating func skipSpaces() {
        while !atEnd && bytes[position] == 32 { position += 1 }
    }

    mutating func sign() -> Int? {
        if skip("+") { return 1 }
        if skip("-") { return -1 }
        return nil
    }

    mutating func digits(exactly count: Int) -> Int? {
        guard position + count <= bytes.count else { return nil }
        var value = 0
        for offset in 0..<count {
            let byte = bytes[position + offset]
            guard byte >= 48 && byte <= 57 else { return nil }
            value = value * 10 + Int(byte - 48)
        }
        position += count
        return value
    }
}
