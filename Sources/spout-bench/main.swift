// Kept thin: the commands live in their own files.
import ArgumentParser

BenchCommand.main()
