import Foundation

/// When a request to a host may start, as something outside this process decides it (cluster
/// mode: the shared database, so that politeness holds across workers).
public enum HostAdmission: Sendable, Equatable {
    /// Start after waiting this long (zero: now).
    case after(Duration)
    /// The host asked everyone to wait until then: no request.
    case held(until: Date)
}

/// Asked before every request to a host (feeds, pages, robots.txt alike); the client waits for
/// the admission before handing the request to libcurl, and fails it with `.hostBackoff` when the
/// host is held. The client's own per-host delay and connection limit still apply after it.
public protocol HostGate: Sendable {
    func admit(host: String) async throws -> HostAdmission
}

extension HTTPClient {
    /// Waits for `gate` to admit a request to the host of `request`.
    static func pass(_ gate: any HostGate, for request: FetchRequest) async throws(FetchError) {
        let host = hostKey(for: request.url)
        guard !host.isEmpty else { return }
        let admission: HostAdmission
        do {
            admission = try await gate.admit(host: host)
        } catch {
            throw FetchError(kind: .transport, url: request.url, detail: "the request slot for \(host) could not be reserved: \(error)")
        }
        switch admission {
        case let .held(until):
            throw FetchError(kind: .hostBackoff(until: until), url: request.url, detail: "\(host) is held for every worker")
        case let .after(wait):
            guard wait > .zero else { return }
            do {
                try await Task.sleep(for: wait)
            } catch {
                throw FetchError(kind: .cancelled, url: request.url, detail: "cancelled while waiting for the host's turn")
            }
        }
    }
}
