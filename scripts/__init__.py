"""Scripts run from the command line; a package so that `scripts.servers` can be imported by the tests and the benchmark."""
