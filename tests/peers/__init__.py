"""Real CoAP peers the tests and benchmarks start as subprocesses."""
