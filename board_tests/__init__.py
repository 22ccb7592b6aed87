"""Firmware tests that run ON a board through the serial runner (virtual board by default)."""
