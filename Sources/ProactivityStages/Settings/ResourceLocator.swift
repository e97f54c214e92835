import Foundation

/// Finds the folders the binary reads at run time (`Migrations`, `topics`): the configured
/// path if set (``EngineSettings/migrationsDirectory``, ``EngineSettings/topicsDirectory``), else the current directory, else next to the
/// binary or a few levels up (a `.build/release/proactivity` inside the repository),
/// else `/usr/share/proactivity`.
public enum ResourceLocator {
    public struct NotFound: Error, CustomStringConvertible {
        public let description: String
    }

    /// - Parameters:
    ///   - configured: the folder the configuration names, if any (it must exist).
    ///   - environmentVariable: the variable that names it, for the error.
    public static func directory(_ name: String, configured: String?, environmentVariable: String) throws -> URL {
        if let path = configured, !path.isEmpty {
            guard isDirectory(path) else { throw NotFound(description: "\(environmentVariable)=\(path) is not a folder") }
            return URL(fileURLWithPath: path)
        }
        var candidates = [FileManager.default.currentDirectoryPath + "/" + name]
        var folder = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
        for _ in 0..<5 {
            candidates.append(folder.appendingPathComponent(name).path)
            folder.deleteLastPathComponent()
        }
        candidates.append("/usr/share/proactivity/\(name)")
        guard let found = candidates.first(where: isDirectory) else {
            throw NotFound(description: "cannot find the \(name) folder; set \(environmentVariable)")
        }
        return URL(fileURLWithPath: found)
    }

    private static func isDirectory(_ path: String) -> Bool {
        var isDirectory: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) && isDirectory.boolValue
    }
}
