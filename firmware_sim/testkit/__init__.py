"""What the pytest plugin (:mod:`firmware_sim.pytest_plugin`) gives a test: the board object
(:mod:`.board`), its transcript and patterns (:mod:`.transcript`), and starting boards (:mod:`.launch`)."""
