import Foundation
public enum HandsOnCLI {
    public static func main() -> Int32 { 0 }
}
