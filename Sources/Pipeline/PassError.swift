import Foundation
import StateStore

/// Errors that stop a pass before any feed is polled.
public enum PassError: Error, CustomStringConvertible {
    case locked(StateLock.Busy)
    case setup(String)
    /// The state file is not a database or is corrupt.
    case stateDamaged(StateStoreError)

    public var description: String {
        switch self {
        case let .locked(busy): return busy.description
        case let .setup(message): return message
        case let .stateDamaged(error): return error.description
        }
    }
}
