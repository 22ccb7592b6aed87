"""The virtual board: a simulated Pycom board on a serial line (a pseudo-terminal or a loopback TCP port).

``python -m firmware_sim.virtual`` (``firmware-sim board``) prints the port on its first line, then
behaves as a Pycom board on USB serial: the banner and friendly REPL, the raw REPL (raw-paste with
``--raw-paste``), Ctrl-C/D/F, soft and hard resets, ``/flash`` in a folder. Real tools (mpremote,
pyboard.py) and the serial runner connect to it unchanged.

* :mod:`.relay` owns the port and relays bytes to the board's process;
* :mod:`.board` is the board's process (the REPL driver, the board's code, resets);
* :mod:`.repl` is the REPL protocol as a state machine, without I/O.
"""
