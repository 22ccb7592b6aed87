"""What the audit of ``machine`` against Pycom firmware 1.20.2.r6 added: ``machine.mem8/16/32``
(extmod/machine_mem.c) and ``Pin.module`` / ``Pin.exp_board`` as the type objects machpin.c makes."""

from __future__ import annotations

from conftest import raises

from firmware_sim.modules import machine
from firmware_sim.runtime.board import Board


def test_memory_reads_back_what_a_script_wrote(board: Board) -> None:
    mem8, mem16, mem32 = machine.mem8, machine.mem16, machine.mem32
    assert (repr(mem8), repr(mem16), repr(mem32)) == ("<8-bit memory>", "<16-bit memory>", "<32-bit memory>")
    assert mem32[0x3FFB0000] == 0  # never written
    mem32[0x3FFB0000] = 0x11223344
    assert mem32[0x3FFB0000] == 0x11223344
    assert (mem8[0x3FFB0000], mem8[0x3FFB0003], mem16[0x3FFB0002]) == (0x44, 0x11, 0x1122)  # little-endian
    mem8[0x3FFB0001] = 0x1FF  # the low byte
    assert mem32[0x3FFB0000] == 0x1122FF44
    mem32[0x3FFB0004] = -1
    assert mem32[0x3FFB0004] == 0xFFFFFFFF  # an unsigned word
    assert mem32[-0x4FFFC] == mem32[0xFFFB0004]  # the address is a 32-bit word
    assert "mem32" in dir(machine.board_module())


def test_memory_errors_are_the_firmwares(board: Board) -> None:
    with raises(ValueError, "address 3ffb0001 is not aligned to 4 bytes"):
        machine.mem32[0x3FFB0001]
    with raises(ValueError, "address 00000003 is not aligned to 2 bytes"):
        machine.mem16[3] = 1
    with raises(TypeError, "can't convert str to int"):
        machine.mem8[0] = "x"
    with raises(TypeError, "'mem' object doesn't support item deletion"):
        del machine.mem8[0]


def test_pin_groups_are_type_objects(board: Board) -> None:
    assert repr(machine.Pin.module) == "<class 'cpu'>" and repr(machine.Pin.exp_board) == "<class 'board'>"
    assert machine.Pin.module.P10 is machine.Pin.exp_board.G17 is machine.Pin("P10")
    assert "P23" in dir(machine.Pin.module) and "G31" in dir(machine.Pin.exp_board)
    with raises(AttributeError, "type object 'cpu' has no attribute 'P24'"):
        machine.Pin.module.P24  # noqa: B018
    with raises(AttributeError, "type object 'board' has no attribute 'P10'"):
        machine.Pin.exp_board.P10  # noqa: B018
