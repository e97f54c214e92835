import ArgumentParser
#if canImport(Glibc)
@preconcurrency import Glibc
#else
@preconcurrency import Darwin
#endif

extension AsyncParsableCommand {
    /// Runs the command with standard output line-buffered: each line reaches a pipe or a
    /// file as it is printed (`scripts/demo | tee demo.log`, benchmark progress), not when
    /// a block fills or the process ends. A `@main` command's `main()` calls this.
    public static func mainLineBuffered() async {
        setvbuf(stdout, nil, _IOLBF, 0)
        await main(nil)
    }
}
