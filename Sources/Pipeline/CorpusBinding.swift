import CorpusWriter
import Foundation
import StateStore

/// Ties a corpus folder to the one state file that writes it. The same random id is kept in the
/// state and in the corpus root (`.feedcorpus-id`); a run refuses a corpus whose id is not its
/// state's, so a new, empty or other configuration's state never treats another state's stories
/// as debris.
enum CorpusBinding {
    /// Why a corpus and a state do not belong together, with what to do.
    struct Mismatch: Error, CustomStringConvertible {
        var corpus: String
        var statePath: String
        var corpusID: String
        var stateID: String?

        var description: String {
            let which = stateID.map { "this state belongs to the corpus \($0)" } ?? "this state is new or has never written to it"
            return "the corpus folder \(corpus) was written by another state file (corpus id \(corpusID)); \(which) (\(statePath)). "
                + "Two configurations must not share a corpus folder: give this one its own `corpus:`, or point `state:` at the state that wrote this corpus. "
                + "To make this state take the corpus over on purpose, delete \(corpus)/\(CorpusWriter.idFileName) "
                + "(story files this state does not know are then moved to \(quarantine(statePath: statePath)), never deleted)"
        }
    }

    /// Where story files the state does not know are moved (the same folder `verify --repair` uses).
    static func quarantine(statePath: String) -> String {
        (statePath as NSString).deletingLastPathComponent + "/quarantine"
    }

    /// Checks the binding and makes it when either side has none yet: a corpus and a state
    /// from before the binding are bound on their first run; a corpus whose id file was removed
    /// is taken over by the state.
    static func bind(state: StateStore, statePath: String, writer: CorpusWriter) throws {
        let stateID = try state.corpusID()
        switch (stateID, writer.corpusID()) {
        case let (stateID?, corpusID?):
            guard stateID == corpusID else { throw Mismatch(corpus: writer.root, statePath: statePath, corpusID: corpusID, stateID: stateID) }
        case let (nil, corpusID?):
            throw Mismatch(corpus: writer.root, statePath: statePath, corpusID: corpusID, stateID: nil)
        case let (stateID?, nil):
            try writer.writeCorpusID(stateID)
        case (nil, nil):
            let id = UUID().uuidString.lowercased()
            try state.setCorpusID(id)
            try writer.writeCorpusID(id)
        }
    }
}
