import FeedModel
import Foundation

/// Where the deduplicator looks up the stored stories by exact keys (the state database).
public protocol StoredStoryLookup {
    func story(url: String) throws -> StoredStoryRef?
    func story(entryID: String) throws -> StoredStoryRef?
    func story(sha256: String) throws -> StoredStoryRef?
    func story(id: Int64) throws -> StoredStoryRef?
    /// The size in bytes of the stored story's file (for the keep-longer policy); nil if unknown.
    func fileSize(of story: StoredStoryRef) -> Int?
    /// The stored story's text (its corpus file), for the exact check before a near duplicate
    /// is dropped; nil when it cannot be read (the new story is then kept).
    func text(of story: StoredStoryRef) -> StoryText?
    /// What the exact check compares of the stored story: its headline and its distinct prose
    /// shingles, sorted (`TextFingerprint.proseShingles`); nil when unknown (the new story is
    /// then kept). By default worked out from `text(of:)`; a state that keeps the shingles
    /// (cluster mode, whose texts are pruned) gives them directly.
    func comparable(of story: StoredStoryRef) -> (headline: String, shingles: [UInt64])?
}

extension StoredStoryLookup {
    public func comparable(of story: StoredStoryRef) -> (headline: String, shingles: [UInt64])? {
        text(of: story).map { ($0.headline, TextFingerprint.proseShingles(of: $0)) }
    }
}

/// A new story as it reaches the dedupe stage: its text, fingerprints and identity.
public struct IncomingStory: Sendable {
    public var text: StoryText
    public var fingerprint: TextFingerprint
    /// Canonical URLs the story is known by (the entry's link, the page's canonical URL).
    public var urls: [String]
    /// The entry's id when it is globally unique (a URL, URN or tag id).
    public var globalID: String?
    /// Publication date, else the time it was fetched: the event window is measured on it.
    public var at: Date
    /// The names and figures its event is decided on.
    public var terms: EventTerms
    /// Its distinct prose shingles (`TextFingerprint.proseShingles`), for the exact check of a
    /// near-duplicate candidate.
    public var proseShingles: [UInt64]

    /// A story with its fingerprints, shingles and event terms computed here (callers that
    /// handle many stories compute them concurrently, before the one-at-a-time decision).
    public init(text: StoryText, urls: [String], globalID: String?, at: Date) {
        let (fingerprint, shingles) = TextFingerprint.withShingles(story: text)
        self.init(text: text, fingerprint: fingerprint, terms: EventTerms(story: text), proseShingles: shingles,
                  urls: urls, globalID: globalID, at: at)
    }

    public init(text: StoryText, fingerprint: TextFingerprint, terms: EventTerms, proseShingles: [UInt64]? = nil,
                urls: [String], globalID: String?, at: Date) {
        self.text = text
        self.fingerprint = fingerprint
        self.terms = terms
        self.proseShingles = proseShingles ?? TextFingerprint.proseShingles(of: text)
        self.urls = urls
        self.globalID = globalID
        self.at = at
    }
}

/// The story a duplicate duplicates: a stored one, or one accepted earlier in the same batch.
public enum DuplicateTarget: Sendable, Equatable {
    case stored(StoredStoryRef)
    /// Index into the batch's accepted stories.
    case batch(Int)
}

/// How close a verified near duplicate is: exact figures over the two texts' shingle sets once
/// confirmed (`decide`), MinHash estimates before (`nearMatch`, `nearDuplicate(of:)`).
public struct NearMatch: Sendable, Equatable {
    /// Jaccard similarity of the two texts' five-word shingle sets.
    public var jaccard: Double
    /// Share of the shorter text's shingles found in the longer one.
    public var containment: Double
    /// Hamming distance of the two SimHashes (informative: candidates are found by MinHash bands
    /// as well as by SimHash).
    public var distance: Int
}

/// What the dedupe stage decided for one story.
public enum DedupeDecision: Sendable, Equatable {
    /// Store it. `event` groups it with distinct stories on the same event; `supersedes` is the
    /// stored shorter version it replaces under the keep-longer policy.
    case store(event: String, supersedes: (StoredStoryRef, NearMatch)?)
    case duplicate(reason: DuplicateReason, of: DuplicateTarget, near: NearMatch?)

    public static func == (lhs: DedupeDecision, rhs: DedupeDecision) -> Bool {
        switch (lhs, rhs) {
        case let (.store(a, x), .store(b, y)): return a == b && x?.0 == y?.0 && x?.1 == y?.1
        case let (.duplicate(a, b, c), .duplicate(d, e, f)): return a == d && b == e && c == f
        default: return false
        }
    }
}

/// Thresholds of the near-duplicate decision (`dedupe:` in the config).
public struct NearDuplicateRule: Sendable, Equatable {
    /// SimHash Hamming distance within which a stored story is a candidate.
    public var simhashDistance: Int
    /// Estimated shingle Jaccard at or above which a candidate is a near duplicate.
    public var jaccard: Double
    /// Estimated containment of the shorter text in the longer at or above which a candidate is
    /// a near duplicate (a truncated copy or a teaser).
    public var containment: Double
    /// Keep a later, fuller version (a file at least 10 % larger) instead of dropping it.
    public var keepLonger: Bool

    /// Shingles the two texts must share at least, whatever the ratios: a text of a sentence or
    /// two is too short to be called a copy on its wording (two reports can share a stock
    /// sentence such as "did not immediately respond to a request for comment").
    public var minimumShared: Int

    public init(simhashDistance: Int = 3, jaccard: Double = 0.6, containment: Double = 0.8, keepLonger: Bool = false,
                minimumShared: Int = 25) {
        self.simhashDistance = simhashDistance
        self.jaccard = jaccard
        self.containment = containment
        self.keepLonger = keepLonger
        self.minimumShared = minimumShared
    }
}

/// The single owner of the dedupe decision: the ladder of identity checks (same URL, same id,
/// same text, near text), the near-duplicate indexes and the event grouper.
///
/// Near duplicates: candidates come from three indexes (MinHash bands of the whole text and of
/// its lead, and the SimHash within `simhashDistance`); the MinHash signatures estimate how
/// close each is, and the best few are then compared exactly, shingle by shingle, with the
/// candidate's text before anything is dropped: no hash collision or estimate alone drops a
/// story. Lookups cost the candidates they find, never a scan of the stored stories.
///
/// Use: `decide` each story of a batch in a fixed order, `accept` the ones that are stored, then
/// after the state commit `commit(ids:)` (or `discardBatch()` when the commit failed).
public struct Deduplicator: Sendable {
    public let rule: NearDuplicateRule
    private var simhashes: SimHashIndex
    /// The stored stories' signatures, by position (storing order), with their band indexes.
    private var wholeBands: BandIndex
    private var leadBands: BandIndex
    private var headlines = KeyIndex()
    /// Per position: the story's id and SimHash.
    private var ids: [Int64] = []
    private var hashes: [UInt64] = []
    private var events: EventGrouper
    private var batch: [(story: IncomingStory, event: String)] = []
    /// The batch's keys and band indexes, so that deciding against the batch costs what
    /// deciding against the stored stories does.
    private var batchURLs: [String: Int] = [:]
    private var batchIDs: [String: Int] = [:]
    private var batchTexts: [String: Int] = [:]
    private var batchWholeBands = BandIndex(bands: 16, rows: 4, slotCount: MinHashSignature.wholeSlots)
    private var batchLeadBands = BandIndex(bands: 6, rows: 4, slotCount: MinHashSignature.leadSlots)
    private var batchHeadlines = KeyIndex()

    /// Candidates checked exactly against their text, best estimates first, per new story.
    static let exactChecks = 8

    /// A stored story's fingerprints, as loaded from the state at start-up.
    public struct StoredFingerprint: Sendable {
        public var id: Int64
        public var simhash: UInt64
        public var signature: MinHashSignature
        public var leadSignature: MinHashSignature
        /// `TextFingerprint.headlineHash(_:)` of its headline.
        public var headlineHash: UInt64

        public init(id: Int64, simhash: UInt64, signature: MinHashSignature, leadSignature: MinHashSignature, headlineHash: UInt64 = 0) {
            self.id = id
            self.simhash = simhash
            self.signature = signature
            self.leadSignature = leadSignature
            self.headlineHash = headlineHash
        }
    }

    /// A deduplicator over the stored stories' fingerprints (in storing order) and the recent
    /// stories' events.
    public init(rule: NearDuplicateRule, stored: [StoredFingerprint], events: EventGrouper) {
        self.rule = rule
        self.events = events
        simhashes = SimHashIndex(maxDistance: rule.simhashDistance)
        wholeBands = BandIndex(bands: 16, rows: 4, slotCount: MinHashSignature.wholeSlots, capacity: stored.count)
        leadBands = BandIndex(bands: 6, rows: 4, slotCount: MinHashSignature.leadSlots, capacity: stored.count)
        ids.reserveCapacity(stored.count)
        headlines = KeyIndex(capacity: stored.count)
        for item in stored { appendSignatures(id: item.id, simhash: item.simhash, item.signature, item.leadSignature, headline: item.headlineHash) }
        simhashes = SimHashIndex.build(maxDistance: rule.simhashDistance, hashes.enumerated().map { (id: Int64($0.offset), fingerprint: $0.element) })
    }

    /// Stories indexed.
    public var count: Int { ids.count }
    /// The event grouper (for diagnostics and tests).
    public var eventGrouper: EventGrouper { events }

    /// Decides one story against the stored stories and the batch accepted so far.
    public mutating func decide(_ story: IncomingStory, lookup: some StoredStoryLookup) throws -> DedupeDecision {
        for url in story.urls {
            if let stored = try lookup.story(url: url) { return .duplicate(reason: .sameURL, of: .stored(stored), near: nil) }
            if let index = batchURLs[url] { return .duplicate(reason: .sameURL, of: .batch(index), near: nil) }
        }
        if let id = story.globalID {
            if let stored = try lookup.story(entryID: id) { return .duplicate(reason: .sameID, of: .stored(stored), near: nil) }
            if let index = batchIDs[id] { return .duplicate(reason: .sameID, of: .batch(index), near: nil) }
        }
        let fingerprint = story.fingerprint
        if let stored = try lookup.story(sha256: fingerprint.sha256) {
            return .duplicate(reason: .sameText, of: .stored(stored), near: nil)
        }
        if let index = batchTexts[fingerprint.sha256] { return .duplicate(reason: .sameText, of: .batch(index), near: nil) }

        var supersedes: (StoredStoryRef, NearMatch)?
        if let (target, match) = try confirmedNearDuplicate(story, lookup: lookup) {
            switch target {
            case let .stored(stored):
                if rule.keepLonger, let size = lookup.fileSize(of: stored), story.text.fileContents.utf8.count * 10 > size * 11 {
                    supersedes = (stored, match)
                } else {
                    return .duplicate(reason: .nearText, of: target, near: match)
                }
            case .batch:
                return .duplicate(reason: .nearText, of: target, near: match)
            }
        }
        let (event, _) = events.assign(terms: story.terms, at: story.at, newEvent: "ev-" + fingerprint.nameTail)
        return .store(event: event, supersedes: supersedes)
    }

    /// The ids of the stored stories whose texts `decide` may read for `story` (a superset: every
    /// stored candidate whose signatures pass the estimate, and those under the same headline).
    /// A caller whose stored texts are remote (cluster mode's workers) fetches them in one go
    /// before deciding, instead of one round trip per candidate.
    public func storedStoriesToCheck(for story: IncomingStory) -> [Int64] {
        let fingerprint = story.fingerprint
        var positions = storedCandidates(fingerprint).filter { verify(fingerprint, storedFingerprint(at: $0)) != nil }
        if fingerprint.headlineHash != 0 {
            positions += sameHeadlineStored(fingerprint).map { Int($0) }
        }
        return Set(positions.map { ids[$0] }).sorted()
    }

    /// The near duplicate `story` is, confirmed exactly: candidates from the indexes (stored and
    /// batch), ranked by their MinHash estimates, and the best `exactChecks` of those that pass
    /// the estimate compared shingle by shingle with the candidate's text. The closest confirmed
    /// one wins (ties to the earliest stored, then the batch).
    func confirmedNearDuplicate(_ story: IncomingStory, lookup: some StoredStoryLookup) throws -> (DuplicateTarget, NearMatch)? {
        let fingerprint = story.fingerprint
        var ranked: [(target: DuplicateTarget, estimate: NearMatch)] = []
        for position in storedCandidates(fingerprint) {
            if let estimate = verify(fingerprint, storedFingerprint(at: position)), let stored = try lookup.story(id: ids[position]) {
                ranked.append((.stored(stored), estimate))
            }
        }
        var batchPositions = Set(batchWholeBands.candidates(fingerprint.signature))
        batchPositions.formUnion(batchLeadBands.candidates(fingerprint.leadSignature))
        for index in batchPositions.sorted() {
            if let estimate = verify(fingerprint, batch[Int(index)].story.fingerprint) { ranked.append((.batch(Int(index)), estimate)) }
        }
        ranked.sort { max($0.estimate.jaccard, $0.estimate.containment) > max($1.estimate.jaccard, $1.estimate.containment) }
        var checks = Array(ranked.prefix(Self.exactChecks))
        // Stories under the same headline are checked whatever the estimates say (a teaser's
        // estimates against a full text are too noisy to rank it), a few at most.
        if fingerprint.headlineHash != 0 {
            var extra: [(target: DuplicateTarget, estimate: NearMatch)] = []
            for position in sameHeadlineStored(fingerprint) {
                guard let stored = try lookup.story(id: ids[Int(position)]) else { continue }
                if !checks.contains(where: { $0.target == .stored(stored) }) {
                    extra.append((.stored(stored), NearMatch(jaccard: 0, containment: 0, distance: SimHash.distance(fingerprint.simhash, hashes[Int(position)]))))
                }
            }
            for index in batchHeadlines.positions(fingerprint.headlineHash).prefix(Self.exactChecks) where Int(index) < batch.count {
                guard Self.estimatesAreNoisy(fingerprint.signature.shingleCount, batch[Int(index)].story.fingerprint.signature.shingleCount) else { continue }
                if !checks.contains(where: { $0.target == .batch(Int(index)) }) {
                    let distance = SimHash.distance(fingerprint.simhash, batch[Int(index)].story.fingerprint.simhash)
                    extra.append((.batch(Int(index)), NearMatch(jaccard: 0, containment: 0, distance: distance)))
                }
            }
            checks += extra.prefix(4)
        }
        guard !checks.isEmpty else { return nil }
        let shingles = story.proseShingles
        let headline = HashNormalizer.normalize(story.text.headline)
        var best: (DuplicateTarget, NearMatch)?
        for candidate in checks {
            let other: (headline: String, shingles: [UInt64])?
            switch candidate.target {
            case let .stored(stored): other = lookup.comparable(of: stored)
            case let .batch(index): other = (batch[index].story.text.headline, batch[index].story.proseShingles)
            }
            guard let other, var match = exactMatch(shingles, headline: headline, otherHeadline: other.headline, other.shingles) else { continue }
            match.distance = candidate.estimate.distance
            if best == nil || match.jaccard > best!.1.jaccard { best = (candidate.target, match) }
        }
        return best
    }

    /// Stored stories under `fingerprint`'s headline whose MinHash estimates against it are too
    /// noisy to be trusted (see `estimatesAreNoisy`), a few at most: they are checked exactly
    /// whatever the estimates say. Same-headline stories of comparable lengths are left to the
    /// estimates like any other candidate: generic headlines repeat ("Morning briefing"), and
    /// reading every earlier story under one would cost more the larger the corpus grows.
    private func sameHeadlineStored(_ fingerprint: TextFingerprint) -> [Int32] {
        let count = fingerprint.signature.shingleCount
        return Array(headlines.positions(fingerprint.headlineHash).lazy
            .filter { Self.estimatesAreNoisy(count, wholeBands.shingleCount(at: Int($0))) }
            .prefix(Self.exactChecks))
    }

    /// Whether MinHash estimates between texts of `a` and `b` shingles are too noisy to rank or
    /// dismiss a candidate: a short text (a teaser: its Jaccard with a full text is small even
    /// when all of it is contained), very different lengths (likewise), or a count unknown.
    /// Between two texts of at least `reliableShingles` shingles within a factor of two, a
    /// copy at the containment threshold (0.8) has a Jaccard of at least 0.36, which the 64-slot
    /// estimate gives within about 0.06 (one standard error): the estimate stage treats such a
    /// pair as it treats every candidate without a shared headline.
    static func estimatesAreNoisy(_ a: Int, _ b: Int) -> Bool {
        let (small, large) = a <= b ? (a, b) : (b, a)
        return small < reliableShingles || large >= 2 * small
    }

    /// Shingles a text needs for its MinHash estimates to be trusted under the same headline.
    static let reliableShingles = 150

    /// The exact check of a story (its shingles and normalised headline) against another text.
    private func exactMatch(_ shingles: [UInt64], headline: String, otherHeadline: String, _ otherShingles: [UInt64]) -> NearMatch? {
        let sameHeadline = !headline.isEmpty && headline == HashNormalizer.normalize(otherHeadline)
        return exactMatch(shingles, otherShingles, sameHeadline: sameHeadline)
    }

    /// The exact check: the shared shingles are at least `rule.minimumShared` (or, for a short
    /// text under the same headline, at least a fifth of that), and their Jaccard reaches
    /// `rule.jaccard` or the shorter text's share in the longer `rule.containment`.
    func exactMatch(_ a: [UInt64], _ b: [UInt64], sameHeadline: Bool = false) -> NearMatch? {
        let small = a.count <= b.count ? a : b
        guard !small.isEmpty else { return nil }
        let shared = Shingles.sharedCount(a, b)
        guard shared >= (sameHeadline ? max(1, rule.minimumShared / 5) : rule.minimumShared) else { return nil }
        let jaccard = Double(shared) / Double(a.count + b.count - shared)
        let containment = Double(shared) / Double(small.count)
        guard jaccard >= rule.jaccard || containment >= rule.containment else { return nil }
        return NearMatch(jaccard: jaccard, containment: containment, distance: 0)
    }

    /// Adds a story decided `.store` to the batch (it is now a duplicate target for the rest of
    /// the batch, and a member of its event).
    public mutating func accept(_ story: IncomingStory, event: String) {
        let index = batch.count
        for url in story.urls where batchURLs[url] == nil { batchURLs[url] = index }
        if let id = story.globalID, batchIDs[id] == nil { batchIDs[id] = index }
        if batchTexts[story.fingerprint.sha256] == nil { batchTexts[story.fingerprint.sha256] = index }
        batchWholeBands.insert(story.fingerprint.signature)
        batchLeadBands.insert(story.fingerprint.leadSignature)
        if story.fingerprint.headlineHash != 0 { batchHeadlines.insert(story.fingerprint.headlineHash, position: Int32(index)) }
        batch.append((story, event))
        events.add(.init(id: -1, event: event, terms: story.terms, at: story.at))
    }

    /// The batch is committed: its stories, with the ids the state gave them, join the indexes.
    public mutating func commit(ids newIDs: [Int64]) {
        precondition(newIDs.count == batch.count, "one id per accepted story")
        for (id, item) in zip(newIDs, batch) {
            let fingerprint = item.story.fingerprint
            let position = appendSignatures(id: id, simhash: fingerprint.simhash, fingerprint.signature, fingerprint.leadSignature,
                                            headline: fingerprint.headlineHash)
            simhashes.insert(fingerprint.simhash, id: Int64(position))
        }
        clearBatch()
    }

    /// Stories that another process committed since these indexes last looked (cluster mode:
    /// the stories other workers committed, read under the commit lock before deciding): they
    /// join the near-duplicate indexes and their events as if committed here. Call it with no
    /// batch in hand.
    public mutating func catchUp(_ stored: [StoredFingerprint], events members: [EventGrouper.Member]) {
        precondition(batch.isEmpty, "catch up between batches")
        for item in stored {
            let position = appendSignatures(id: item.id, simhash: item.simhash, item.signature, item.leadSignature, headline: item.headlineHash)
            simhashes.insert(item.simhash, id: Int64(position))
        }
        for member in members { events.add(member) }
    }

    /// The batch was not committed (a write failed): forget it, so its stories are decided again.
    public mutating func discardBatch() {
        clearBatch()
    }

    private mutating func clearBatch() {
        batch.removeAll()
        batchURLs.removeAll()
        batchIDs.removeAll()
        batchTexts.removeAll()
        batchWholeBands = BandIndex(bands: 16, rows: 4, slotCount: MinHashSignature.wholeSlots)
        batchLeadBands = BandIndex(bands: 6, rows: 4, slotCount: MinHashSignature.leadSlots)
        batchHeadlines = KeyIndex()
    }

    /// Forgets event members too old to match (see `EventGrouper.prune`).
    public mutating func pruneEvents(before now: Date) {
        events.prune(before: now)
    }

    /// The stored story `fingerprint` is a verified near duplicate of, if any: its id and how
    /// close it is (for diagnostics and benchmarks; `decide` runs the whole ladder).
    public func nearDuplicate(of fingerprint: TextFingerprint) -> (id: Int64, match: NearMatch)? {
        nearestStored(fingerprint).map { (ids[$0.0], $0.1) }
    }

    /// Whether the signatures of `a` and `b` pass the estimate stage (a candidate worth an exact
    /// check), and the estimates.
    public func nearMatch(_ a: TextFingerprint, _ b: TextFingerprint) -> NearMatch? {
        verify(a, b)
    }

    /// Whether two texts are near duplicates by the exact check `decide` applies (shared
    /// shingles, Jaccard or containment, the same-headline allowance), and how close they are.
    public func confirmedMatch(_ a: StoryText, _ b: StoryText) -> NearMatch? {
        exactMatch(TextFingerprint.proseShingles(of: a), headline: HashNormalizer.normalize(a.headline), otherHeadline: b.headline,
                   TextFingerprint.proseShingles(of: b))
    }

    /// Bytes held by the indexes and signatures (for benchmarks).
    public var memoryBytes: Int {
        wholeBands.memoryBytes + leadBands.memoryBytes + headlines.memoryBytes + ids.count * 8 + hashes.count * 8
            + simhashes.memoryBytes
    }

    /// Positions of stored stories that are near-duplicate candidates of `fingerprint`.
    func storedCandidates(_ fingerprint: TextFingerprint) -> [Int] {
        var candidates = Set<Int32>()
        candidates.formUnion(wholeBands.candidates(fingerprint.signature))
        candidates.formUnion(leadBands.candidates(fingerprint.leadSignature))
        for match in simhashes.matches(fingerprint.simhash) { candidates.insert(Int32(match.id)) }
        return candidates.sorted().map(Int.init)
    }

    /// The candidate stored story whose signatures verify as the closest near duplicate
    /// (highest estimated Jaccard, ties to the earliest stored), if any.
    func nearestStored(_ fingerprint: TextFingerprint) -> (Int, NearMatch)? {
        var best: (Int, NearMatch)?
        for position in storedCandidates(fingerprint) {
            guard let match = verify(fingerprint, storedFingerprint(at: position)) else { continue }
            if best == nil || match.jaccard > best!.1.jaccard { best = (position, match) }
        }
        return best
    }

    /// The estimate stage: `nil` unless the signatures suggest a near duplicate worth an exact
    /// check (`exactMatch` decides). It errs on the side of checking: an estimated Jaccard or
    /// containment within a margin of the thresholds passes, containment estimated on the whole
    /// texts and, for a shorter text no longer than a lead or whose lead is contained, on the
    /// leads.
    func verify(_ a: TextFingerprint, _ b: TextFingerprint) -> NearMatch? {
        guard a.signature.shingleCount > 0, b.signature.shingleCount > 0 else { return nil }
        let margin = 0.15
        let jaccard = a.signature.jaccard(b.signature)
        let distance = SimHash.distance(a.simhash, b.simhash)
        let containment = a.signature.containment(b.signature, jaccard: jaccard)
        if jaccard >= rule.jaccard - margin || containment >= rule.containment - margin {
            return NearMatch(jaccard: jaccard, containment: containment, distance: distance)
        }
        let leadContainment = a.leadSignature.containment(b.leadSignature)
        if leadContainment >= rule.containment - margin {
            return NearMatch(jaccard: jaccard, containment: max(containment, leadContainment), distance: distance)
        }
        return nil
    }

    private func storedFingerprint(at position: Int) -> TextFingerprint {
        TextFingerprint(sha256: "", simhash: hashes[position], signature: wholeBands.signature(at: position),
                        leadSignature: leadBands.signature(at: position))
    }

    @discardableResult
    private mutating func appendSignatures(id: Int64, simhash: UInt64, _ whole: MinHashSignature, _ lead: MinHashSignature,
                                           headline: UInt64) -> Int {
        let position = ids.count
        ids.append(id)
        hashes.append(simhash)
        wholeBands.insert(whole)
        leadBands.insert(lead)
        if headline != 0 { headlines.insert(headline, position: Int32(position)) }
        return position
    }
}
