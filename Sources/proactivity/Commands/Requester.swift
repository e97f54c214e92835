import Foundation

/// Who runs a command, for audit records (backfills, manual runs).
struct Requester {
    let user: String
    let host: String

    /// The operating-system user (`USER`, `LOGNAME`, else the account of the process's
    /// user id, else the id itself) and the host name.
    static var current: Requester {
        let environment = ProcessInfo.processInfo.environment
        let account = getpwuid(getuid()).flatMap { $0.pointee.pw_name.map { String(cString: $0) } }
        let user = environment["USER"] ?? environment["LOGNAME"] ?? account ?? String(getuid())
        return Requester(user: user, host: ProcessInfo.processInfo.hostName)
    }
}
