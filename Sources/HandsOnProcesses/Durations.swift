extension Duration {
    /// The duration in seconds.
    public var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }

    /// The duration in seconds, to the hundredth (as results and reports show times).
    public var hundredthsOfSeconds: Double { (seconds * 100).rounded() / 100 }
}
