extension Duration {
    /// The duration in seconds, to the hundredth (as results and reports show times).
    public var hundredthsOfSeconds: Double {
        let seconds = Double(components.seconds) + Double(components.attoseconds) / 1e18
        return (seconds * 100).rounded() / 100
    }
}
