import Foundation
import Kafka
import ProactivityLauncher
import ProactivityStages

/// A `proactivity worker` (or another stage command, such as `all`) run as a process of
/// its own for a benchmark, so the reader's CPU and memory do not count against it:
/// started with given settings, ready when its `/readyz` answers 200, measured through
/// `/proc`, stopped with SIGTERM.
final class WorkerProcess {
    let child: ProactivityProcess
    let port: Int

    /// Starts `proactivity COMMAND` with the environment, the benchmark's own Kafka
    /// configuration (its `-X` properties too: the worker talks to the broker as the C loop
    /// and the reader do), then `settings`.
    init(command: String = "worker", kafka: KafkaConfiguration, settings: [String: String]) throws {
        port = try Self.freePort()
        var environment = ProcessInfo.processInfo.environment
        environment.merge(EngineSettings.environment(for: kafka)) { $1 }
        environment.merge(settings) { $1 }
        environment["HTTP_HOST"] = "127.0.0.1"
        environment["HTTP_PORT"] = String(port)
        environment["LOG_LEVEL"] = "warning"
        child = try ProactivityProcess([command], environment: environment)
    }

    /// Waits until `/readyz` answers 200 (partitions assigned, broker and database up).
    func waitUntilReady(within limit: Duration = .seconds(60)) async throws {
        let ready = try await poll(every: .milliseconds(100), within: limit) {
            guard child.process.isRunning else { return false }
            return HTTPStatus.get(port: port, path: "/readyz") == 200 ? true : nil
        }
        guard ready == true else {
            let reason = child.process.isRunning ? "was not ready within \(limit)" : "exited with status \(child.process.terminationStatus) before it was ready"
            throw BenchmarkFailure("the worker \(reason) (its output: \(child.stderrFile.path))")
        }
    }

    /// Resident memory now and at its peak, in MB (`VmRSS`, `VmHWM`).
    var memory: (current: Double, peak: Double) {
        let status = (try? String(contentsOfFile: "/proc/\(child.process.processIdentifier)/status", encoding: .utf8)) ?? ""
        func kilobytes(_ field: String) -> Double {
            let line = status.split(separator: "\n").first { $0.hasPrefix(field + ":") } ?? ""
            return Double(line.split(separator: " ").dropFirst().first ?? "") ?? 0
        }
        return (kilobytes("VmRSS") / 1024, kilobytes("VmHWM") / 1024)
    }

    /// Stops the worker gracefully and waits for it.
    func stop() async {
        await child.stop(grace: .seconds(30))
    }

    /// A loopback port nothing listens on right now.
    private static func freePort() throws -> Int {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(descriptor) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(descriptor, $0, length) == 0 && getsockname(descriptor, $0, &length) == 0
            }
        }
        guard bound else { throw BenchmarkFailure("no free loopback port") }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}

/// The status code of a plain HTTP/1.1 GET on loopback, or `nil` when nothing answers.
enum HTTPStatus {
    static func get(port: Int, path: String) -> Int? {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { return nil }
        defer { close(descriptor) }
        var timeout = timeval(tv_sec: 2, tv_usec: 0)
        setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
        guard connected else { return nil }
        let request = Array("GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".utf8)
        guard request.withUnsafeBytes({ send(descriptor, $0.baseAddress, $0.count, 0) }) == request.count else { return nil }
        var buffer = [UInt8](repeating: 0, count: 64)
        let received = buffer.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, 0) }
        guard received > 12 else { return nil }
        // "HTTP/1.1 200 …"
        return Int(String(decoding: buffer[9..<12], as: UTF8.self))
    }
}

/// A benchmark that could not run, with the reason.
struct BenchmarkFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
