import Foundation
import HandsOnFormats
import HandsOnProcesses

/// The Docker Engine API over the engine's own Unix socket, for the questions a grade asks besides its builds and
/// runs: image and container look-ups, the listing, removals, BuildKit's cache records. Each is one request in this
/// process where the CLI would start a docker process (its CPU cost: bench/README.md). Paths carry no API
/// version: the daemon answers in its own, and every field read here is in all versions since Docker 20.10.
struct DockerEngineAPI: Sendable {
    let client: UnixSocketHTTPClient

    init(socketPath: String) { client = UnixSocketHTTPClient(socketPath: socketPath) }

    /// The daemon's id (`docker info`'s `ID`): which daemon the socket leads to.
    func daemonID() async throws(EngineAPIError) -> String {
        struct Info: Decodable {
            let id: String
            enum CodingKeys: String, CodingKey { case id = "ID" }
        }
        return try await get(Info.self, "/info", timeout: 20).id
    }

    /// Whether the daemon answers now (`GET /_ping`).
    func ping(timeout: Double) async throws(EngineAPIError) -> Bool {
        var request = UnixSocketHTTPClient.Request("GET", "/_ping")
        request.timeout = timeout
        return try await client.send(request).succeeded
    }

    /// The image, or nil when the engine has none by that name.
    func image(_ reference: String) async throws(EngineAPIError) -> InspectedImage? {
        let request = UnixSocketHTTPClient.Request("GET", "/images/\(Self.pathComponent(reference))/json")
        let response = try await client.send(request)
        if response.status == 404 { return nil }
        return try decode(InspectedImage.self, from: response, request)
    }

    /// Every image, as `docker image ls -a` lists them.
    func images() async throws(EngineAPIError) -> [ListedImage] {
        try await get([ListedImage].self, "/images/json?all=1")
    }

    /// The images a reference names, as `docker image ls REFERENCE` lists them (a repository alone: all its tags).
    func images(matching reference: String) async throws(EngineAPIError) -> [ListedImage] {
        let filters = Self.queryValue(#"{"reference":[\#(Self.jsonString(reference))]}"#)
        return try await get([ListedImage].self, "/images/json?filters=\(filters)")
    }

    enum Removal: Equatable {
        case removed
        case missing
        /// The engine kept it (another image builds on it, a container uses it); its message.
        case refused(String)
    }

    func removeImage(_ reference: String, force: Bool, cancellable: Bool = false) async throws(EngineAPIError)
        -> Removal
    {
        var request = UnixSocketHTTPClient.Request(
            "DELETE", "/images/\(Self.pathComponent(reference))?force=\(force ? 1 : 0)")
        request.timeout = 120
        request.cancellable = cancellable
        let response = try await client.send(request)
        switch response.status {
        case 200..<300: return .removed
        case 404: return .missing
        case 409: return .refused(Self.message(of: response))
        default: throw .refused(request: request.summary, status: response.status, message: Self.message(of: response))
        }
    }

    /// The container's state, or nil when there is no such container.
    func container(_ name: String) async throws(EngineAPIError) -> InspectedContainer? {
        let request = UnixSocketHTTPClient.Request("GET", "/containers/\(Self.pathComponent(name))/json")
        let response = try await client.send(request)
        if response.status == 404 { return nil }
        return try decode(InspectedContainer.self, from: response, request)
    }

    /// What the container printed on each stream (as `docker logs` gives them to a caller that reads both), each
    /// kept as a process's output is: at most `limit` bytes, its head and its tail. Nil when there is no such
    /// container.
    func containerLogs(_ name: String, limit: Int) async throws(EngineAPIError) -> (
        stdout: CapturedOutput, stderr: CapturedOutput
    )? {
        var request = UnixSocketHTTPClient.Request(
            "GET", "/containers/\(Self.pathComponent(name))/logs?stdout=1&stderr=1")
        // Read whole up to a bound far past what is kept, so the tail kept is the log's own end.
        request.bodyLimit = 16 << 20
        request.truncating = true
        let response = try await client.send(request)
        if response.status == 404 { return nil }
        return LogStreams.split(try checked(response, request), limit: limit)
    }

    /// The ids of every container, running or not, carrying `label` (`key=value`).
    func containerIDs(labelled label: String) async throws(EngineAPIError) -> [String] {
        struct Summary: Decodable {
            let id: String
            enum CodingKeys: String, CodingKey { case id = "Id" }
        }
        let filters = Self.queryValue(#"{"label":[\#(Self.jsonString(label))]}"#)
        return try await get([Summary].self, "/containers/json?all=1&filters=\(filters)").map(\.id)
    }

    /// Stops and removes the container; one already gone is not an error.
    func removeContainer(_ name: String) async throws(EngineAPIError) {
        // With its anonymous volumes, as `run --rm` removes them.
        var request = UnixSocketHTTPClient.Request("DELETE", "/containers/\(Self.pathComponent(name))?force=1&v=1")
        request.timeout = 60
        request.cancellable = false
        let response = try await client.send(request)
        // 409: its removal is under way already (`run --rm` ending).
        if response.status == 404 || response.status == 409 { return }
        _ = try checked(response, request)
    }

    /// The ids of BuildKit's cache records (`docker buildx du`'s `ID`s): `GET /system/df?type=build-cache`.
    func buildCacheIDs() async throws(EngineAPIError) -> Set<String> {
        struct Usage: Decodable {
            struct Record: Decodable {
                let id: String
                enum CodingKeys: String, CodingKey { case id = "ID" }
            }
            let buildCache: [Record]?
            enum CodingKeys: String, CodingKey { case buildCache = "BuildCache" }
        }
        var request = UnixSocketHTTPClient.Request("GET", "/system/df?type=build-cache")
        request.timeout = 60
        request.cancellable = false
        let response = try await client.send(request)
        return Set(try decode(Usage.self, from: response, request).buildCache?.map(\.id) ?? [])
    }

    /// Removes the cache records whose id matches `idPattern` (a regular expression, as `buildx prune --filter id=`
    /// takes it), in use or not.
    func pruneBuildCache(idPattern: String, timeout: Double = 120) async throws(EngineAPIError) {
        let filters = Self.queryValue(#"{"id":[\#(Self.jsonString(idPattern))]}"#)
        var request = UnixSocketHTTPClient.Request("POST", "/build/prune?all=1&filters=\(filters)")
        request.timeout = timeout
        request.cancellable = false
        _ = try checked(try await client.send(request), request)
    }

    // MARK: - Requests and bodies

    /// `GET target`, its JSON body decoded as `Value`.
    private func get<Value: Decodable>(_ type: Value.Type, _ target: String, timeout: Double = 30)
        async throws(EngineAPIError) -> Value
    {
        var request = UnixSocketHTTPClient.Request("GET", target)
        request.timeout = timeout
        return try decode(type, from: try await client.send(request), request)
    }

    private func checked(_ response: HTTPResponse, _ request: UnixSocketHTTPClient.Request) throws(EngineAPIError)
        -> Data
    {
        guard response.succeeded else {
            throw .refused(request: request.summary, status: response.status, message: Self.message(of: response))
        }
        return response.body
    }

    /// The response's JSON body as `Value`, once it is known to be no refusal; a body that is not names the request.
    private func decode<Value: Decodable>(
        _ type: Value.Type, from response: HTTPResponse, _ request: UnixSocketHTTPClient.Request
    ) throws(EngineAPIError) -> Value {
        let body = try checked(response, request)
        do {
            return try JSONDecoder().decode(type, from: body)
        } catch {
            throw .unexpectedBody(request: request.summary, reason: "\(error)")
        }
    }

    /// The engine's own words for a refusal: `{"message": "..."}`, else the body's first line.
    static func message(of response: HTTPResponse) -> String {
        struct Refusal: Decodable { let message: String }
        if let refusal = try? JSONDecoder().decode(Refusal.self, from: response.body) { return refusal.message }
        return TextLines.split(String(decoding: response.body.prefix(512), as: UTF8.self)).first ?? ""
    }

    /// An image or container name as one path segment: `/` and `:` stay (the engine's routes take them), the rest
    /// of what is not allowed in a path is escaped.
    static func pathComponent(_ name: String) -> String {
        var allowed = CharacterSet.urlPathAllowed
        allowed.remove(charactersIn: "?#%")
        return name.addingPercentEncoding(withAllowedCharacters: allowed) ?? name
    }

    /// A query parameter's value with everything but RFC 3986's unreserved characters escaped (the engine's Go
    /// server refuses a `;` in a query, and `&`, `=`, `+` would change its meaning).
    static func queryValue(_ text: String) -> String {
        let allowed = CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
        return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? text
    }

    static func jsonString(_ text: String) -> String {
        let data = (try? JSONEncoder().encode(text)) ?? Data("\"\"".utf8)
        return String(decoding: data, as: UTF8.self)
    }
}

/// An image as `GET /images/{name}/json` and `image inspect` describe it, the fields HandsOn reads.
struct InspectedImage: Decodable, Sendable {
    let id: String
    let repoTags: [String]?
    /// The engine's own size of the image (`docker image inspect`'s `.Size`).
    let size: Int64?
    let graphDriver: LayersOnDisk.GraphDriver?
    /// The layers' diff ids, lowest first.
    let layers: [String]?
    let user: String?
    let labels: [String: String]?
    /// Podman's inspect carries the history; Docker's does not (it is read from the image's config).
    let history: [ImageConfig.HistoryEntry]?

    enum CodingKeys: String, CodingKey {
        case id = "Id"
        case repoTags = "RepoTags"
        case size = "Size"
        case graphDriver = "GraphDriver"
        case rootFS = "RootFS"
        case config = "Config"
        case history = "History"
    }

    private struct RootFS: Decodable {
        let layers: [String]?
        enum CodingKeys: String, CodingKey { case layers = "Layers" }
    }

    private struct Config: Decodable {
        let user: String?
        let labels: [String: String]?
        enum CodingKeys: String, CodingKey {
            case user = "User"
            case labels = "Labels"
        }
    }

    init(
        id: String, repoTags: [String]? = nil, size: Int64? = nil, graphDriver: LayersOnDisk.GraphDriver? = nil,
        layers: [String]? = nil, user: String? = nil, labels: [String: String]? = nil,
        history: [ImageConfig.HistoryEntry]? = nil
    ) {
        self.id = id
        self.repoTags = repoTags
        self.size = size
        self.graphDriver = graphDriver
        self.layers = layers
        self.user = user
        self.labels = labels
        self.history = history
    }

    /// A line of `LayersOnDisk.inspectFormat` as the CLI prints it: id, graph driver, layers, tags (JSON, `null` when
    /// absent) and, from Podman, the history. Only the id is needed; a field that does not read stays nil.
    init(inspectLine: String) {
        let fields = inspectLine.trimmingCharacters(in: .whitespacesAndNewlines).split(
            separator: "\t", omittingEmptySubsequences: false)
        func field<Value: Decodable>(_ index: Int, as type: Value.Type) -> Value? {
            guard fields.count > index else { return nil }
            return try? JSONDecoder().decode(type, from: Data(fields[index].utf8))
        }
        self.init(
            id: fields.first.map(String.init) ?? "", repoTags: field(3, as: [String].self),
            graphDriver: field(1, as: LayersOnDisk.GraphDriver.self), layers: field(2, as: [String].self),
            history: field(4, as: [ImageConfig.HistoryEntry].self))
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        id = try container.decode(String.self, forKey: .id)
        repoTags = try container.decodeIfPresent([String].self, forKey: .repoTags)
        size = try container.decodeIfPresent(Int64.self, forKey: .size)
        graphDriver = try container.decodeIfPresent(LayersOnDisk.GraphDriver.self, forKey: .graphDriver)
        layers = try container.decodeIfPresent(RootFS.self, forKey: .rootFS)?.layers
        let config = try container.decodeIfPresent(Config.self, forKey: .config)
        user = config?.user
        labels = config?.labels
        history = try? container.decodeIfPresent([ImageConfig.HistoryEntry].self, forKey: .history)
    }
}

/// A row of `GET /images/json`.
struct ListedImage: Decodable, Sendable {
    let id: String
    let repoTags: [String]?
    let size: Int64

    enum CodingKeys: String, CodingKey {
        case id = "Id"
        case repoTags = "RepoTags"
        case size = "Size"
    }
}

/// A container's state, from `GET /containers/{name}/json`.
struct InspectedContainer: Decodable, Sendable {
    let running: Bool
    let exitCode: Int?

    enum CodingKeys: String, CodingKey { case state = "State" }
    private struct State: Decodable {
        let running: Bool
        let exitCode: Int?
        enum CodingKeys: String, CodingKey {
            case running = "Running"
            case exitCode = "ExitCode"
        }
    }

    init(from decoder: any Decoder) throws {
        let state = try decoder.container(keyedBy: CodingKeys.self).decode(State.self, forKey: .state)
        running = state.running
        exitCode = state.exitCode
    }
}

/// The engine's log stream of a container: multiplexed frames (`StreamDemultiplexer`) when it has no terminal,
/// plain bytes when it has one.
enum LogStreams {
    /// Both streams, each kept as a process's output is (at most `limit` bytes: head and tail).
    static func split(_ data: Data, limit: Int) -> (stdout: CapturedOutput, stderr: CapturedOutput) {
        var demultiplexer = StreamDemultiplexer(limit: limit, plain: !isMultiplexed(data))
        demultiplexer.feed(data)
        return (demultiplexer.stdout, demultiplexer.stderr)
    }

    private static func isMultiplexed(_ data: Data) -> Bool {
        let bytes = data.prefix(4)
        return bytes.count == 4 && StreamDemultiplexer.isFrameStart(bytes)
    }
}
