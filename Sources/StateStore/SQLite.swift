import CSQLite
import Foundation

/// A failure of the state database, with the file and the statement involved.
public struct StateStoreError: Error, Sendable, CustomStringConvertible {
    public var path: String
    public var operation: String
    public var message: String
    /// SQLite says the file is not a database or is corrupt: no retry helps.
    public var damaged: Bool

    public init(path: String, operation: String, message: String, damaged: Bool = false) {
        self.path = path
        self.operation = operation
        self.message = message
        self.damaged = damaged
    }

    /// Whether SQLite's result `code` means a damaged file.
    static func isDamage(_ code: Int32) -> Bool {
        let primary = code & 0xFF
        return primary == SQLITE_NOTADB || primary == SQLITE_CORRUPT
    }

    public var description: String {
        if damaged {
            return "the state file \(path) is damaged (SQLite: \(message)); the corpus itself is untouched. "
                + "Restore the state file from a backup. Without one, move it aside and start a new state: it refuses the corpus "
                + "until you delete .feedcorpus-id in the corpus folder, then takes the corpus over (the stories it does not know "
                + "are moved to the quarantine beside the state and fetched again where the feeds still carry them)"
        }
        return "state database \(path): \(operation) failed: \(message)"
    }
}

/// A value bound to or read from a SQL statement.
enum SQLValue: Sendable, Equatable {
    case null
    case integer(Int64)
    case real(Double)
    case text(String)
    case blob([UInt8])

    static func optional(_ text: String?) -> SQLValue { text.map(SQLValue.text) ?? .null }
    static func optional(_ date: Date?) -> SQLValue { date.map { .real($0.timeIntervalSince1970) } ?? .null }
}

/// One SQLite connection with a statement cache. Not thread-safe: one owner uses it.
final class SQLiteConnection {
    private let handle: OpaquePointer
    let path: String
    private var statements: [String: OpaquePointer] = [:]

    // SQLite's SQLITE_TRANSIENT macro does not import into Swift.
    private static let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

    /// `readOnly`: the file must exist and is never written (no journal mode change, no migration).
    init(path: String, readOnly: Bool = false) throws(StateStoreError) {
        self.path = path
        var db: OpaquePointer?
        let flags = (readOnly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE) | SQLITE_OPEN_NOMUTEX
        let code = sqlite3_open_v2(path, &db, flags, nil)
        guard code == SQLITE_OK, let db else {
            let message = db.map { String(cString: sqlite3_errmsg($0)) } ?? String(cString: sqlite3_errstr(code))
            if let db { sqlite3_close(db) }
            throw StateStoreError(path: path, operation: "open", message: message, damaged: StateStoreError.isDamage(code))
        }
        handle = db
        sqlite3_busy_timeout(db, 5000)
    }

    /// Rows changed by the last INSERT, UPDATE or DELETE.
    var changes: Int { Int(sqlite3_changes(handle)) }

    deinit {
        for statement in statements.values { sqlite3_finalize(statement) }
        sqlite3_close(handle)
    }

    func execute(_ sql: String) throws(StateStoreError) {
        var error: UnsafeMutablePointer<CChar>?
        let code = sqlite3_exec(handle, sql, nil, nil, &error)
        if code != SQLITE_OK {
            let message = error.map { String(cString: $0) } ?? String(cString: sqlite3_errstr(code))
            sqlite3_free(error)
            throw StateStoreError(path: path, operation: sql.prefix(60).description, message: message, damaged: StateStoreError.isDamage(code))
        }
    }

    /// Runs `sql` with `parameters` and returns every row.
    @discardableResult
    func query(_ sql: String, _ parameters: [SQLValue] = []) throws(StateStoreError) -> [[SQLValue]] {
        var rows: [[SQLValue]] = []
        try forEachRow(sql, parameters) { rows.append($0) }
        return rows
    }

    /// Runs `sql` and hands each row to `body` without collecting them (for large scans).
    func forEachRow(_ sql: String, _ parameters: [SQLValue] = [], _ body: ([SQLValue]) -> Void) throws(StateStoreError) {
        let statement = try prepared(sql)
        defer {
            sqlite3_reset(statement)
            sqlite3_clear_bindings(statement)
        }
        for (index, value) in parameters.enumerated() {
            let position = Int32(index + 1)
            switch value {
            case .null: sqlite3_bind_null(statement, position)
            case let .integer(number): sqlite3_bind_int64(statement, position, number)
            case let .real(number): sqlite3_bind_double(statement, position, number)
            case let .text(text): sqlite3_bind_text(statement, position, text, -1, Self.transient)
            case let .blob(bytes):
                bytes.withUnsafeBytes { raw in
                    _ = sqlite3_bind_blob(statement, position, raw.baseAddress, Int32(raw.count), Self.transient)
                }
            }
        }
        var row: [SQLValue] = []
        while true {
            let code = sqlite3_step(statement)
            if code == SQLITE_DONE { return }
            guard code == SQLITE_ROW else { throw failure(sql) }
            row.removeAll(keepingCapacity: true)
            for column in 0..<sqlite3_column_count(statement) {
                switch sqlite3_column_type(statement, column) {
                case SQLITE_INTEGER: row.append(.integer(sqlite3_column_int64(statement, column)))
                case SQLITE_FLOAT: row.append(.real(sqlite3_column_double(statement, column)))
                case SQLITE_TEXT: row.append(.text(String(cString: sqlite3_column_text(statement, column))))
                case SQLITE_BLOB:
                    let count = Int(sqlite3_column_bytes(statement, column))
                    if count > 0, let bytes = sqlite3_column_blob(statement, column) {
                        row.append(.blob(Array(UnsafeRawBufferPointer(start: bytes, count: count))))
                    } else {
                        row.append(.blob([]))
                    }
                default: row.append(.null)
                }
            }
            body(row)
        }
    }

    var lastInsertRowID: Int64 { sqlite3_last_insert_rowid(handle) }

    /// Runs `body` in one transaction; rolls back when it throws.
    func transaction<T>(_ body: () throws(StateStoreError) -> T) throws(StateStoreError) -> T {
        try execute("BEGIN IMMEDIATE")
        do {
            let result = try body()
            try execute("COMMIT")
            return result
        } catch {
            try? execute("ROLLBACK")
            throw error
        }
    }

    private func prepared(_ sql: String) throws(StateStoreError) -> OpaquePointer {
        if let cached = statements[sql] { return cached }
        var statement: OpaquePointer?
        guard sqlite3_prepare_v2(handle, sql, -1, &statement, nil) == SQLITE_OK, let statement else {
            throw failure(sql)
        }
        statements[sql] = statement
        return statement
    }

    private func failure(_ sql: String) -> StateStoreError {
        StateStoreError(path: path, operation: String(sql.prefix(60)), message: String(cString: sqlite3_errmsg(handle)),
                        damaged: StateStoreError.isDamage(sqlite3_extended_errcode(handle)))
    }
}

extension SQLValue {
    var int: Int64? { if case let .integer(value) = self { return value }; return nil }
    var string: String? { if case let .text(value) = self { return value }; return nil }
    var bytes: [UInt8]? { if case let .blob(value) = self { return value }; return nil }
    var double: Double? {
        switch self {
        case let .real(value): return value
        case let .integer(value): return Double(value)
        default: return nil
        }
    }
    var date: Date? { double.map(Date.init(timeIntervalSince1970:)) }
}
