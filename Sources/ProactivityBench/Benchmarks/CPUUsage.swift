import Foundation

/// Where the machine's CPU went during one phase of a benchmark, read from Linux's
/// `/proc`: the worker process, the benchmark's own process (the alert reader, or the
/// C loop, which runs in it) and everything else on the machine, of which PostgreSQL's
/// processes and the local broker's (Tansu) when they run here. In CPU-seconds.
struct CPUUsage: Codable {
    var seconds: Double
    var cores: Int
    var machine: Double
    var worker: Double
    var benchmark: Double
    /// `machine - worker - benchmark`.
    var rest: Double
    /// Of `rest`: the processes named `postgres` (the server and its backends, those
    /// that ended during the phase included).
    var postgres: Double
    /// Of `rest`: the processes named `tansu` (the local stack's broker).
    var broker: Double
    /// `machine / (seconds × cores)`.
    var busy: Double

    /// The counters at one instant.
    struct Snapshot {
        let at: ContinuousClock.Instant
        let machine: Double
        let worker: Double
        let benchmark: Double
        let postgres: Double
        let broker: Double

        /// Reads the counters now, or `nil` without a readable `/proc` (not Linux).
        /// - Parameter worker: the worker's process id; `nil` counts none.
        static func take(worker: Int32?) -> Snapshot? {
            guard let machine = machineBusySeconds(), let benchmark = processSeconds("self") else { return nil }
            let workerSeconds = worker.flatMap { processSeconds(String($0)) } ?? 0
            let named = secondsByName(["postgres", "tansu"])
            return Snapshot(
                at: .now, machine: machine, worker: workerSeconds, benchmark: benchmark, postgres: named["postgres"] ?? 0,
                broker: named["tansu"] ?? 0)
        }
    }

    /// What was used between `start` and `end`.
    init(from start: Snapshot, to end: Snapshot) {
        seconds = (end.at - start.at).seconds
        cores = ProcessInfo.processInfo.activeProcessorCount
        machine = end.machine - start.machine
        worker = end.worker - start.worker
        benchmark = end.benchmark - start.benchmark
        rest = max(0, machine - worker - benchmark)
        postgres = max(0, end.postgres - start.postgres)
        broker = max(0, end.broker - start.broker)
        busy = seconds > 0 ? machine / (seconds * Double(cores)) : 0
    }

    /// What was used between two snapshots, when both could be taken.
    static func between(_ start: Snapshot?, _ end: Snapshot?) -> CPUUsage? {
        guard let start, let end else { return nil }
        return CPUUsage(from: start, to: end)
    }

    /// Clock ticks per second of `/proc`'s counters.
    private static let ticksPerSecond = Double(sysconf(Int32(_SC_CLK_TCK)))

    /// The machine's busy time over all cores since boot: `/proc/stat`'s first line
    /// without its idle and iowait columns (guest time is counted in user already).
    private static func machineBusySeconds() -> Double? {
        guard let text = try? String(contentsOfFile: "/proc/stat", encoding: .utf8),
            let line = text.split(separator: "\n").first, line.hasPrefix("cpu ")
        else { return nil }
        let fields = line.split(separator: " ").dropFirst().compactMap { Double($0) }
        guard fields.count >= 8 else { return nil }
        // user nice system idle iowait irq softirq steal
        let busy = fields[0] + fields[1] + fields[2] + fields[5] + fields[6] + fields[7]
        return busy / ticksPerSecond
    }

    /// A process's user and system time since it started (`/proc/<pid>/stat`, fields
    /// 14 and 15, counted after the parenthesised command name, which may hold spaces).
    private static func processSeconds(_ pid: String) -> Double? {
        stat(of: pid).map { ($0.user + $0.system) / ticksPerSecond }
    }

    /// The CPU time of every process named as one of `names`, by name: each one's own
    /// time and that of its children that ended (PostgreSQL's server counts the
    /// backends that exited; a live backend counts only in its own line).
    private static func secondsByName(_ names: Set<String>) -> [String: Double] {
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc") else { return [:] }
        var seconds: [String: Double] = [:]
        for pid in entries where pid.first?.isNumber == true {
            guard let stat = stat(of: pid), names.contains(stat.name) else { continue }
            seconds[stat.name, default: 0] += (stat.user + stat.system + stat.childrenUser + stat.childrenSystem) / ticksPerSecond
        }
        return seconds
    }

    /// `/proc/<pid>/stat`'s command name and its fields 14–17 (user, system, and the
    /// ended children's user and system time, in clock ticks).
    private static func stat(of pid: String) -> (name: String, user: Double, system: Double, childrenUser: Double, childrenSystem: Double)? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let open = text.firstIndex(of: "("), let close = text.lastIndex(of: ")"), open < close
        else { return nil }
        let fields = text[text.index(after: close)...].split(separator: " ")
        guard fields.count > 14, let user = Double(fields[11]), let system = Double(fields[12]), let childrenUser = Double(fields[13]),
            let childrenSystem = Double(fields[14])
        else { return nil }
        return (String(text[text.index(after: open)..<close]), user, system, childrenUser, childrenSystem)
    }
}
