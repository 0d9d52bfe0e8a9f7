import Foundation
import Synchronization

/// Whether this engine's API socket has been looked for, and what was found.
final class EngineAPIMemo: Sendable {
    enum Lookup: Sendable {
        case notYet
        case absent
        case found(DockerEngineAPI)
    }

    let value = Mutex<Lookup>(.notYet)
    private let unanswered = Mutex<[String]>([])

    /// Remembers why a request got no usable answer (the CLI was asked instead): the last 20, in order.
    func noteUnanswered(_ error: any Error) {
        unanswered.withLock {
            $0.append("\(error)")
            if $0.count > 20 { $0.removeFirst($0.count - 20) }
        }
    }

    /// Why the API's requests got no usable answer so far (the CLI answered them); empty when every one did.
    var unansweredRequests: [String] { unanswered.withLock { $0 } }
}

/// The Engine API spoken directly where it can be: the questions a grade asks besides builds and runs cost a
/// request each instead of a docker CLI process each.
extension ContainerEngine {
    /// The Docker Engine API on this engine's own socket, when HandsOn may speak it: Docker reached through a Unix
    /// socket on this machine (`DOCKER_HOST=unix://...`, or the default socket), whose daemon gives the id `docker
    /// info` gave (so a context or another daemon is never asked by mistake). Nil for Podman, a remote host, before
    /// the engine's facts are known, and with `HANDSON_ENGINE_API=0`: the CLI is used then. `facts` are the
    /// engine's when they are being learnt and not yet remembered.
    func engineAPI(knowing facts: EngineInfo? = nil) async -> DockerEngineAPI? {
        switch apiMemo.value.withLock({ $0 }) {
        case .found(let api): return api
        case .absent: return nil
        case .notYet: break
        }
        // Not remembered until the facts are known: a later call, after `probe()`, may find it.
        guard let info = facts ?? memorizedInfo else { return nil }
        guard let lookup = await lookForAPI(info) else { return nil }
        apiMemo.value.withLock { $0 = lookup }
        if case .found(let api) = lookup { return api }
        return nil
    }

    /// What is found, or nil when the question was cancelled: that is not remembered, and a later call asks again.
    /// A socket that does not answer within the timeout is remembered as no API (every call would wait it out).
    private func lookForAPI(_ info: EngineInfo) async -> EngineAPIMemo.Lookup? {
        guard kind == .docker, environment["HANDSON_ENGINE_API"] != "0", let daemonID = info.daemonID,
            let path = apiSocketPath
        else { return .absent }
        let api = DockerEngineAPI(socketPath: path)
        do {
            return try await api.daemonID() == daemonID ? .found(api) : .absent
        } catch .cancelled {
            return nil
        } catch {
            apiMemo.noteUnanswered(error)
            return .absent
        }
    }

    /// Why this engine's Engine API requests got no usable answer so far (the CLI answered them instead).
    public var unansweredAPIRequests: [String] { apiMemo.unansweredRequests }

    /// The socket `DOCKER_HOST` names, or Docker's default one; nil for other addresses.
    var apiSocketPath: String? {
        guard let address else { return "/var/run/docker.sock" }
        guard address.hasPrefix("unix://") else { return nil }
        return String(address.dropFirst("unix://".count))
    }

    /// `question` asked through the Engine API where it is spoken here; nil where it is not, or when the request got
    /// no usable answer (the caller then asks the CLI, which says why in the engine's own words).
    func viaAPI<Value>(_ question: (DockerEngineAPI) async throws -> Value) async -> Value? {
        guard let api = await engineAPI() else { return nil }
        do {
            return try await question(api)
        } catch {
            if !(error is CancellationError), (error as? EngineAPIError) != .cancelled { apiMemo.noteUnanswered(error) }
            return nil
        }
    }
}
