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
}

/// The Engine API spoken directly where it can be: the questions a grade asks besides builds and runs cost a
/// request each instead of a docker CLI process each.
extension ContainerEngine {
    /// The Docker Engine API on this engine's own socket, when HandsOn may speak it: Docker reached through a Unix
    /// socket on this machine (`DOCKER_HOST=unix://...`, or the default socket), whose daemon gives the id `docker
    /// info` gave (so a context or another daemon is never asked by mistake). Nil for Podman, a remote host, before
    /// the engine's facts are known, and with `HANDSON_ENGINE_API=0`: the CLI is used then.
    func engineAPI() async -> DockerEngineAPI? {
        switch apiMemo.value.withLock({ $0 }) {
        case .found(let api): return api
        case .absent: return nil
        case .notYet: break
        }
        // Not remembered until the facts are known: a later call, after `probe()`, may find it.
        guard let info = memorizedInfo else { return nil }
        let found = await lookForAPI(info)
        apiMemo.value.withLock { $0 = found.map(EngineAPIMemo.Lookup.found) ?? .absent }
        return found
    }

    private func lookForAPI(_ info: EngineInfo) async -> DockerEngineAPI? {
        guard kind == .docker, effectiveEnvironment["HANDSON_ENGINE_API"] != "0", let daemonID = info.daemonID,
            let path = apiSocketPath
        else { return nil }
        let api = DockerEngineAPI(socketPath: path)
        guard (try? await api.daemonID()) == daemonID else { return nil }
        return api
    }

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
            return nil
        }
    }
}
