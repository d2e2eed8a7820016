/** Benchmarks arrive with issue 7. */
process.stdout.write("chime-rooms bench: not yet written\n")
