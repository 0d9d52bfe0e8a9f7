import HandsOnKit

/// An option's name as the command line spells it (`--chapter`): every command's spec and its code name an option
/// by one of these, so a name is written once and a misspelt lookup does not compile.
public struct OptionKey: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: String

    public init(rawValue: String) { self.rawValue = rawValue }

    public var description: String { rawValue }

    public static let anyBody = OptionKey(rawValue: "--any-body")
    public static let base = OptionKey(rawValue: "--base")
    public static let buildCpus = OptionKey(rawValue: "--build-cpus")
    public static let buildDisk = OptionKey(rawValue: "--build-disk")
    public static let buildMemory = OptionKey(rawValue: "--build-memory")
    public static let buildNetwork = OptionKey(rawValue: "--build-network")
    public static let buildPids = OptionKey(rawValue: "--build-pids")
    public static let buildTimeout = OptionKey(rawValue: "--build-timeout")
    public static let chapter = OptionKey(rawValue: "--chapter")
    public static let cpuset = OptionKey(rawValue: "--cpuset")
    public static let deadline = OptionKey(rawValue: "--deadline")
    public static let diskReserve = OptionKey(rawValue: "--disk-reserve")
    public static let engine = OptionKey(rawValue: "--engine")
    public static let equals = OptionKey(rawValue: "--equals")
    public static let every = OptionKey(rawValue: "--every")
    public static let field = OptionKey(rawValue: "--field")
    public static let files = OptionKey(rawValue: "--files")
    public static let follow = OptionKey(rawValue: "--follow")
    public static let format = OptionKey(rawValue: "--format")
    public static let host = OptionKey(rawValue: "--host")
    public static let hosts = OptionKey(rawValue: "--hosts")
    public static let hostsFile = OptionKey(rawValue: "--hosts-file")
    public static let image = OptionKey(rawValue: "--image")
    public static let interval = OptionKey(rawValue: "--interval")
    public static let jobs = OptionKey(rawValue: "--jobs")
    public static let json = OptionKey(rawValue: "--json")
    public static let keep = OptionKey(rawValue: "--keep")
    public static let lang = OptionKey(rawValue: "--lang")
    public static let looks = OptionKey(rawValue: "--looks")
    public static let offline = OptionKey(rawValue: "--offline")
    public static let out = OptionKey(rawValue: "--out")
    public static let port = OptionKey(rawValue: "--port")
    public static let regrade = OptionKey(rawValue: "--regrade")
    public static let runTimeout = OptionKey(rawValue: "--run-timeout")
    public static let schemaOnly = OptionKey(rawValue: "--schema-only")
    public static let solution = OptionKey(rawValue: "--solution")
    public static let status = OptionKey(rawValue: "--status")
    public static let step = OptionKey(rawValue: "--step")
    public static let teams = OptionKey(rawValue: "--teams")
    public static let transcript = OptionKey(rawValue: "--transcript")
    public static let unlimitedBuilds = OptionKey(rawValue: "--unlimited-builds")
    public static let watch = OptionKey(rawValue: "--watch")
}
