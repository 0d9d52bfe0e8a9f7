/// Where long work (building the lab's images) reports its progress: the console's live line, or nothing.
public protocol ProgressListener: Sendable {
    /// A step worth its own line.
    func step(_ text: String)
    /// A sub-step, indented.
    func detail(_ text: String)
    /// Chatter from a running tool (debootstrap's "Retrieving ..." lines).
    func activity(_ text: String)
    /// Ends a line left open by `activity`.
    func finish()
}
