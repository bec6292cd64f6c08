// Kept thin on purpose: no callbacks are declared here (Swift 6 traps on foreign threads in top-level code).
import ArgumentParser

SpoutCommand.main()
