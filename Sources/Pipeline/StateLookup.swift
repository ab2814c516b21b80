import Dedupe
import FeedModel
import Foundation
import StateStore

/// The state as the deduplicator's exact-key lookup, and the corpus files for its exact check.
struct StateLookup: StoredStoryLookup {
    let state: StateStore
    let corpusRoot: String

    func story(url: String) throws -> StoredStoryRef? { try state.story(url: url) }
    func story(entryID: String) throws -> StoredStoryRef? { try state.story(entryID: entryID) }
    func story(sha256: String) throws -> StoredStoryRef? { try state.story(sha256: sha256) }
    func story(id: Int64) throws -> StoredStoryRef? { try state.story(id: id) }

    func text(of story: StoredStoryRef) -> StoryText? {
        // Read as bytes (a string read through Foundation is bridged, and slow to walk).
        guard let data = FileManager.default.contents(atPath: corpusRoot + "/" + story.file) else { return nil }
        return StoryText(fileContents: String(decoding: data, as: UTF8.self))
    }

    func fileSize(of story: StoredStoryRef) -> Int? {
        ((try? FileManager.default.attributesOfItem(atPath: corpusRoot + "/" + story.file))?[.size] as? NSNumber)?.intValue
    }
}
