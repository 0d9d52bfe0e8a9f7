import HandsOnEngine
import HandsOnKit

/// An option's name as the command line spells it (`--chapter`): every command's spec and its code name an option
/// by one of these, so a name is written once and a misspelt lookup does not compile.
struct OptionKey: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    let rawValue: String

    init(rawValue: String) { self.rawValue = rawValue }

    var description: String { rawValue }

    static let anyBody = OptionKey(rawValue: "--any-body")
    static let base = OptionKey(rawValue: "--base")
    static let buildCpus = OptionKey(rawValue: "--build-cpus")
    static let buildDisk = OptionKey(rawValue: "--build-disk")
    static let buildMemory = OptionKey(rawValue: "--build-memory")
    static let buildNetwork = OptionKey(rawValue: "--build-network")
    static let buildPids = OptionKey(rawValue: "--build-pids")
    static let buildTimeout = OptionKey(rawValue: "--build-timeout")
    static let chapter = OptionKey(rawValue: "--chapter")
    static let cpuset = OptionKey(rawValue: "--cpuset")
    static let deadline = OptionKey(rawValue: "--deadline")
    static let diskReserve = OptionKey(rawValue: "--disk-reserve")
    static let engine = OptionKey(rawValue: "--engine")
    static let equals = OptionKey(rawValue: "--equals")
    static let every = OptionKey(rawValue: "--every")
    static let field = OptionKey(rawValue: "--field")
    static let files = OptionKey(rawValue: "--files")
    static let follow = OptionKey(rawValue: "--follow")
    static let format = OptionKey(rawValue: "--format")
    static let host = OptionKey(rawValue: "--host")
    static let hosts = OptionKey(rawValue: "--hosts")
    static let hostsFile = OptionKey(rawValue: "--hosts-file")
    static let image = OptionKey(rawValue: "--image")
    static let interval = OptionKey(rawValue: "--interval")
    static let jobs = OptionKey(rawValue: "--jobs")
    static let json = OptionKey(rawValue: "--json")
    static let keep = OptionKey(rawValue: "--keep")
    static let lang = OptionKey(rawValue: "--lang")
    static let looks = OptionKey(rawValue: "--looks")
    static let offline = OptionKey(rawValue: "--offline")
    static let out = OptionKey(rawValue: "--out")
    static let port = OptionKey(rawValue: "--port")
    static let regrade = OptionKey(rawValue: "--regrade")
    static let shard = OptionKey(rawValue: "--shard")
    static let runTimeout = OptionKey(rawValue: "--run-timeout")
    static let schemaOnly = OptionKey(rawValue: "--schema-only")
    static let solution = OptionKey(rawValue: "--solution")
    static let status = OptionKey(rawValue: "--status")
    static let step = OptionKey(rawValue: "--step")
    static let teams = OptionKey(rawValue: "--teams")
    static let transcript = OptionKey(rawValue: "--transcript")
    static let unlimitedBuilds = OptionKey(rawValue: "--unlimited-builds")
    static let watch = OptionKey(rawValue: "--watch")
}
