"""The corpus: the smallest form of things Pycom scripts do, grouped by category.

Each snippet runs on the MicroPython VM and on a simulated board (test_dialect.py). ``v111`` is the
outcome MicroPython 1.11 (Pycom firmware 1.20.2.r6) gives where the VM (1.27) differs, taken from the
1.11 source, with the file that decides it in a comment; ``gap`` names what the simulator still does
differently from the board (the snippet is a strict xfail until the gap closes); ``static`` marks what
the board refuses and the simulator cannot refuse at run time (a method CPython's str has): ``firmware-sim
check`` (and ``run --strict``) must flag it, naming ``static``.
"""

from __future__ import annotations

from typing import NamedTuple


class Snippet(NamedTuple):
    category: str
    name: str
    code: str
    v111: tuple[str, tuple[str, str] | None] | None = None  # (stdout, (type, message) | None) on 1.11
    gap: str | None = None
    static: str | None = None


CORPUS: list[Snippet] = []
_category = ""


def category(name: str) -> None:
    global _category
    _category = name


def s(name: str, code: str, *, v111=None, gap: str | None = None, static: str | None = None) -> None:
    CORPUS.append(Snippet(_category, name, code.strip("\n") + "\n", v111, gap, static))


def raises(kind: str, message: str, stdout: str = "") -> tuple[str, tuple[str, str]]:
    return stdout, (kind, message)


# -- str and bytes -----------------------------------------------------------------------------------
category("str_bytes")
s("bytearray_extend_str", "b = bytearray()\nb.extend('abc')\nprint(b)")
s("bytearray_iadd_str", "b = bytearray(b'x')\nb += 'yz'\nprint(b)")
s("bytearray_add_str", "b = bytearray(b'x') + 'yz'\nprint(b, type(b).__name__)")
s("bytearray_extend_str_unicode", "b = bytearray()\nb.extend('\u00e9')\nprint(len(b), b[0])")
s(
    "bytearray_type_and_repr",
    "b = bytearray(3)\nprint(repr(b), isinstance(b, bytearray), type(b) is bytearray)",
)
s("bytearray_extend_then_slice", "b = bytearray()\nb.extend('hello')\nprint(b[1:3], bytes(b))")
s("bytes_add_str", "print(b'x' + 'y')", gap="bytes + str raises TypeError")
s("bytes_add_bytes", "print(b'ab' + b'cd')")
s("bytearray_append_int", "b = bytearray()\nb.append(65)\nb.append(0x42)\nprint(b)")
s("bytearray_from_list", "print(bytearray([1, 2, 255]))")
s("bytearray_from_int", "print(bytearray(3))")
s("bytes_from_list", "print(bytes([104, 105]))")
s("bytes_from_str_encoding", "print(bytes('hé', 'utf-8'))")
s("str_encode", "print('hé'.encode())")
s("bytes_decode", "print(b'h\\xc3\\xa9'.decode())")
s("bytes_decode_utf8_arg", "print(b'abc'.decode('utf-8'))")
s("bytes_index_int", "print(b'AB'[0], b'AB'[-1])")
s("bytes_slice", "print(b'hello'[1:3])")
s("bytes_repr_escapes", "print(repr(b'\\x00\\n\\t\\r\\x7f\\xff\"\\''))")
s("bytes_hex_escapes_print", "print(bytes(range(0, 256, 37)))")
s("str_repr_quotes", 'print(repr("it\'s"), repr(\'say "hi"\'))')
s(
    "str_repr_unicode",
    "print(repr('é\\n'), ['é'])",
)
s("str_len_unicode", "print(len('héllo'), len('héllo'.encode()))")
s("str_join", "print(','.join(['a', 'b', 'c']))")
s("str_split", "print('a,b,,c'.split(','), 'a b  c'.split(), 'a=b=c'.split('=', 1))")
s("str_rsplit", "print('a.b.c'.rsplit('.', 1))")
s("str_strip", "print(repr(' x \\n'.strip()), repr('xxhixx'.strip('x')), repr('  a'.lstrip()))")
s("str_replace", "print('aaa'.replace('a', 'b', 2))")
s("str_find_index", "print('hello'.find('l'), 'hello'.rfind('l'), 'hello'.find('z'), 'hello'.index('e'))")
s("str_startswith", "print('hello'.startswith('he'), 'hello'.endswith('lo'), 'x'.startswith('xy'))")
s("str_case", "print('Ab'.upper(), 'Ab'.lower(), 'abc'.isdigit(), '123'.isdigit(), 'ab'.isalpha())")
s("str_count", "print('banana'.count('a'))")
s("str_in", "print('an' in 'banana', 'x' in 'banana')")
s("str_multiply", "print('ab' * 3, [0] * 2)")
s("str_ord_chr", "print(ord('A'), chr(66), ord('é'), chr(233))")
s("str_index_missing", "'abc'.index('z')")
s(
    "str_center_absent",
    "print('ab'.center(6))",
    # esp32/mpconfigport.h leaves MICROPY_PY_BUILTINS_STR_CENTER at py/mpconfig.h's default 0
    v111=raises("AttributeError", "'str' object has no attribute 'center'"),
    static="str.center",
)
s(
    "str_partition_absent",
    "print('a=b'.partition('='))",
    # MICROPY_PY_BUILTINS_STR_PARTITION defaults to 0 in py/mpconfig.h; the Pycom port leaves it so
    v111=raises("AttributeError", "'str' object has no attribute 'partition'"),
    static="str.partition",
)
s(
    "str_splitlines_absent",
    "print('a\\nb'.splitlines())",
    # MICROPY_PY_BUILTINS_STR_SPLITLINES defaults to 0 in py/mpconfig.h; the Pycom port leaves it so
    v111=raises("AttributeError", "'str' object has no attribute 'splitlines'"),
    static="str.splitlines",
)
s("str_format_positional", "print('{} {}'.format(1, 'a'), '{1}{0}'.format('x', 'y'))")
s("str_format_named", "print('{name}={v}'.format(name='t', v=2.5))")
s(
    "str_concat_int_error",
    "'a' + 1",
    # 1.11: mp_obj_str_binary_op -> bad_implicit_conversion (py/objstr.c, v1.20.2.r6); 1.27 says
    # "unsupported types for __add__: 'str', 'int'"
    v111=raises("TypeError", "can't convert 'int' object to str implicitly"),
)
s("str_iter", "print(list('abc'))")
s("bytes_iter", "print(list(b'ab'))")
s("bytes_in", "print(b'b' in b'abc', 98 in b'abc')")
s("bytes_find", "print(b'hello'.find(b'l'), b'a,b'.split(b','))")
s("bytes_join", "print(b'-'.join([b'a', b'b']))")
s("bytes_eq_str", "print(b'a' == 'a')")
s("memoryview_slice", "m = memoryview(b'abcdef')\nprint(bytes(m[1:3]), len(m))")
s("bytearray_setitem", "b = bytearray(b'abc')\nb[0] = 0x7a\nprint(b)")
s("bytearray_slice_assign", "b = bytearray(b'abcdef')\nb[1:3] = b'XY'\nprint(b)")
s("str_not_mutable", "s = 'abc'\ns[0] = 'x'")
s("bytes_not_mutable", "b = b'abc'\nb[0] = 1")
s("ubinascii_hexlify", "import ubinascii\nprint(ubinascii.hexlify(b'\\x01\\xab'))")
s("ubinascii_hexlify_sep", "import ubinascii\nprint(ubinascii.hexlify(b'\\x01\\xab', ':'))")
s("ubinascii_unhexlify", "import ubinascii\nprint(ubinascii.unhexlify('01ab'))")
s("ubinascii_b64", "import ubinascii\nprint(ubinascii.b2a_base64(b'hi'), ubinascii.a2b_base64(b'aGk='))")
s("binascii_alias", "import binascii\nprint(binascii.hexlify(b'A'))")

# -- exceptions and their messages --------------------------------------------------------------------
category("exceptions")
s("zero_division_int", "1 // 0")
s("zero_division_float", "1 / 0")
s("zero_division_mod", "1 % 0")
s("name_error", "undefined_name")
s("key_error_str", "{}['a']")
s("key_error_int", "{}[3]")
s("index_error_list", "[][0]")
s("index_error_tuple", "()[1]")
s("index_error_str", "'ab'[5]")
s("attr_error_none", "None.foo")
s("attr_error_int", "(1).foo")
s(
    "attr_error_module",
    "import sys\nsys.nope",
    # py/runtime.c at v1.20.2.r6: "'%s' object has no attribute '%q'" (1.27 says "module 'sys' has ...")
    v111=raises("AttributeError", "'module' object has no attribute 'nope'"),
)
s("attr_error_type", "class A:\n    pass\nA.nope")
s("attr_error_instance", "class A:\n    pass\nA().nope")
s("type_error_add_int_str", "1 + 'a'")
s(
    "type_error_int_str",
    "int(None)",
)
s("type_error_call", "x = 5\nx()")
s("type_error_not_iterable", "for i in 5:\n    pass")
s("type_error_len", "len(5)")
s("type_error_subscript", "5[0]")
s("type_error_item_assign", "t = (1,)\nt[0] = 2")
s(
    "value_error_int_parse",
    "int('x')",
    # MICROPY_ERROR_REPORTING_NORMAL (esp32/mpconfigport.h): py/parsenum.c says no value
    v111=raises("ValueError", "invalid syntax for integer with base 10"),
)
s("value_error_float_parse", "float('x')")
s("value_error_unpack_many", "a, b = 1, 2, 3")
s("value_error_unpack_few", "a, b, c = 1, 2")
s("value_error_list_remove", "[1].remove(2)")
s("value_error_list_index", "[1].index(2)")
s("raise_custom_message", "raise ValueError('bad value')")
s("raise_no_message", "raise RuntimeError")
s(
    "raise_two_args",
    "raise OSError(1, 'x')",
    # 1.11 py/objexcept.c mp_obj_exception_print: two arguments print as a tuple
    v111=raises("OSError", "(1, 'x')"),
)
s("oserror_errno", "raise OSError(2)")
s("exception_args", "try:\n    raise ValueError('a', 2)\nexcept ValueError as e:\n    print(e.args)")
s(
    "exception_str",
    "try:\n    raise KeyError('k')\nexcept KeyError as e:\n    print(str(e), repr(e))",
    gap="str(KeyError('k')) is CPython's \"'k'\" (print(e) and repr(e) are the board's)",
)
s("exception_print", "try:\n    {}['k']\nexcept KeyError as e:\n    print(e, repr(e))")
s("exception_print_message", "try:\n    1 + 'a'\nexcept TypeError as e:\n    print('error:', e)")
s(
    "exception_print_oserror",
    "try:\n    open('/flash/none.txt')\nexcept OSError as e:\n    print(e, e.args[0])",
    # py/objexcept.c mp_obj_exception_print names the errno (MICROPY_PY_UERRNO 1 in esp32/mpconfigport.h),
    # at newlib's ENOENT 2; the VM (WebAssembly, no errno names) prints its own 44
    v111=("[Errno 2] ENOENT 2\n", None),
)
s(
    "exception_repr",
    "print(repr(ValueError('x')), repr(OSError(5)))",
)
s(
    "custom_exception",
    "class MyErr(Exception):\n    pass\ntry:\n    raise MyErr('m')\nexcept Exception as e:\n"
    "    print(type(e).__name__, e)",
)
s("custom_exception_uncaught", "class MyErr(Exception):\n    pass\nraise MyErr('boom')")
s(
    "finally_runs",
    "try:\n    try:\n        1/0\n    finally:\n        print('f')\nexcept ZeroDivisionError:\n"
    "    print('z')",
)
s("else_clause", "try:\n    pass\nexcept Exception:\n    print('e')\nelse:\n    print('ok')")
s("reraise", "try:\n    raise ValueError('v')\nexcept ValueError:\n    print('caught')\n    raise")
s("except_tuple", "try:\n    {}['x']\nexcept (IndexError, KeyError) as e:\n    print('k', type(e).__name__)")
s("stop_iteration", "next(iter([]))")
s("assertion", "assert 1 == 2")
s("assertion_message", "assert False, 'nope'")
s("exception_hierarchy", "print(issubclass(KeyError, LookupError), issubclass(OSError, Exception))")
s("oserror_caught_errno", "try:\n    raise OSError(110)\nexcept OSError as e:\n    print(e.args[0])")
s(
    "oserror_message",
    "raise OSError(110)",
    # the esp32 port uses newlib's errno numbers (no MICROPY_USE_INTERNAL_ERRNO): ETIMEDOUT is 116 there,
    # 110 is no name of the board's uerrno list (esp32/mpconfigport.h), so it prints as the number
    v111=raises("OSError", "110"),
)
s("recursion_not_tested_int_overflow", "print(2 ** 70)")
s(
    "keyboard_interrupt_class",
    "print(issubclass(KeyboardInterrupt, BaseException), issubclass(KeyboardInterrupt, Exception))",
)
s("unbound_local", "def f():\n    print(x)\n    x = 1\nf()")
s(
    "type_error_args",
    "def f(a):\n    pass\nf(1, 2)",
    # MICROPY_ERROR_REPORTING_NORMAL (esp32/mpconfigport.h): py/bc.c names no function
    v111=raises("TypeError", "function takes 1 positional arguments but 2 were given"),
)
s(
    "type_error_missing_arg",
    "def f(a, b):\n    pass\nf(1)",
    # MICROPY_ERROR_REPORTING_NORMAL (esp32/mpconfigport.h): py/bc.c names no function
    v111=raises("TypeError", "function takes 2 positional arguments but 1 were given"),
)
s("type_error_unexpected_kw", "def f(a):\n    pass\nf(a=1, b=2)")
s(
    "type_error_missing_method_arg",
    "class C:\n    def m(self, a, b=1):\n        pass\nC().m()",
    # py/bc.c:165 (ERROR_REPORTING_NORMAL): expected n_pos_args - n_def_pos_args, self counted
    v111=raises("TypeError", "function takes 2 positional arguments but 1 were given"),
)
s(
    "type_error_missing_kwonly",
    "def f(*, x):\n    pass\nf()",
    # py/bc.c:259, no keyword given at the call
    v111=raises("TypeError", "function missing keyword-only argument"),
)

# -- builtins present and absent ----------------------------------------------------------------------
category("builtins")
s("class_repr", "class Sensor:\n    pass\nprint(Sensor, repr(Sensor), [Sensor], type(Sensor()))")
s("builtin_type_repr", "print(int, repr(str), type(b''), type(1.5))")
for _name in (
    "FileNotFoundError",
    "ModuleNotFoundError",
    "breakpoint",
    "PermissionError",
    "ConnectionResetError",
    "BrokenPipeError",
    "ascii",
    "vars",
    "ResourceWarning",
    "frozenset",
    "bytearray",
    "callable",
    "divmod",
    "enumerate",
    "hasattr",
    "isinstance",
    "iter",
    "max",
    "min",
    "next",
    "pow",
    "reversed",
    "setattr",
    "sorted",
    "sum",
    "zip",
    "TimeoutError",
    "NotImplementedError",
    "OSError",
    "StopIteration",
    "exec",
    "eval",
    "globals",
    "locals",
    "id",
    "hash",
    "format",
    "bin",
    "oct",
    "hex",
    "abs",
    "all",
    "any",
    "round",
    "input",
    "open",
):
    s(f"name_{_name}", f"print({_name} is not None)")
s(
    "name_compile",
    "print(compile is not None)",
    # MICROPY_PY_BUILTINS_COMPILE defaults to 0 in py/mpconfig.h (1.11); the Pycom port leaves it
    v111=raises("NameError", "name 'compile' isn't defined"),
)
s("except_filenotfound", "try:\n    open('/flash/nofile.txt')\nexcept FileNotFoundError:\n    print('nf')")
s(
    "except_oserror_open",
    "try:\n    open('/flash/nofile.txt')\nexcept OSError as e:\n    print(e.args[0])",
    # the board's ENOENT is 2 (the VM's WebAssembly libc says 44)
    v111=("2\n", None),
)
s(
    "not_implemented_absent",
    "print(NotImplemented)",
    # MICROPY_PY_BUILTINS_NOTIMPLEMENTED defaults to 0 in py/mpconfig.h; esp32/mpconfigport.h leaves it
    v111=raises("NameError", "name 'NotImplemented' isn't defined"),
)
s(
    "pow3_absent",
    "print(pow(3, 4, 5))",
    # py/modbuiltins.c mp_builtin_pow takes 2 or 3 arguments; MICROPY_PY_BUILTINS_POW3 defaults to 0 in
    # py/mpconfig.h, so a third raises NotImplementedError("3-arg pow() not supported")
    v111=raises("NotImplementedError", "3-arg pow() not supported"),
)
s("sys_byteorder", "import sys\nprint(sys.byteorder)")
s("sys_maxsize_type", "import sys\nprint(type(sys.maxsize).__name__)")
s(
    "collections_namedtuple",
    "from ucollections import namedtuple\nP = namedtuple('P', ('x', 'y'))\np = P(1, 2)\nprint(p.x, p[1], p)",
)
s(
    "collections_ordereddict_absent",
    "from ucollections import OrderedDict",
    # MICROPY_PY_COLLECTIONS_ORDEREDDICT defaults to 0 in py/mpconfig.h (1.11)
    v111=raises("ImportError", "cannot import name OrderedDict"),
)
s(
    "deque_ring",
    "from ucollections import deque\nd = deque((), 2)\nd.append(1)\nd.append(2)\nd.append(3)\n"
    "print(len(d), d.popleft(), bool(d))",
)
s("deque_full_flag", "from ucollections import deque\nd = deque((), 1, 1)\nd.append(1)\nd.append(2)")
s(
    "deque_from_list",
    "from ucollections import deque\nd = deque([1], 2)",
    # py/objdeque.c (1.11): only the empty tuple may start a deque, anything else is ValueError()
    v111=raises("ValueError", ""),
)
s("isinstance_tuple", "print(isinstance(1, (str, int)), isinstance('a', bytes))")
s("divmod_neg", "print(divmod(-7, 2), -7 // 2, -7 % 2)")
s("sorted_key", "print(sorted(['bb', 'a', 'ccc'], key=len, reverse=True))")
s("min_max_key", "print(max([1, 5, 3]), min('bca'), max([(1, 'a'), (2, 'b')], key=lambda t: t[0]))")
s("enumerate_zip", "print(list(enumerate('ab', 1)), list(zip([1, 2], 'ab')))")
s("getattr_default", "print(getattr(1, 'nope', 'd'), hasattr('', 'join'))")
s(
    "dict_methods",
    "d = {'a': 1}\nd.update(b=2)\nprint(sorted(d.items()), d.get('z'), d.pop('a'), d.setdefault('c', 3))",
)
s("dict_or_absent", "print({'a': 1} | {'b': 2})")
s("list_methods", "x = [3, 1, 2]\nx.sort()\nx.insert(0, 9)\nx.extend([7])\nprint(x, x.pop(), x.count(1))")
s("set_ops", "print(sorted({1, 2} | {3}), sorted({1, 2} & {2}), sorted({1, 2} - {1}))")
s("lambda_map_filter", "print(list(map(lambda x: x * 2, [1, 2])), list(filter(None, [0, 1, 2])))")
s("int_from_bytes", "print(int.from_bytes(b'\\x01\\x02', 'big'), int.from_bytes(b'\\x01\\x02', 'little'))")
s("int_to_bytes", "print((258).to_bytes(2, 'big'), (258).to_bytes(4, 'little'))")
s("hex_bin_oct", "print(hex(255), bin(5), oct(8), hex(-1))")
s("int_base", "print(int('ff', 16), int('0x10', 16), int('101', 2), int(' 7 '))")


# -- imports ------------------------------------------------------------------------------------------
category("imports")
s("import_typing", "import typing")
s("import_dataclasses", "import dataclasses")
s("import_missing", "import nosuchmodule")
s("import_ujson_json", "import json, ujson\nprint(json.dumps([1]), ujson.dumps([1]))")
s("import_weak_link_time", "import utime as time\nprint(callable(time.sleep_ms))")
s("from_time_import", "from time import ticks_ms, ticks_diff\nprint(ticks_diff(ticks_ms(), ticks_ms()) <= 0)")
s("from_micropython_const", "from micropython import const\nX = const(3)\nprint(X)")
s("import_uio_stringio", "import uio\ns = uio.StringIO()\ns.write('a')\nprint(s.getvalue())")
s("import_ure", "import ure\nprint(ure.match('a(b)', 'ab').group(1))")
s("import_gc", "import gc\ngc.collect()\nprint(gc.mem_free() > 0)")
s("dunder_import", "m = __import__('ujson')\nprint(m.dumps(1))")
s("import_sys_types", "import sys\nprint(type(sys.path).__name__, type(sys.modules).__name__)")
s("import_as_several", "import math as m, ujson as j\nprint(m.floor(1.5), j.loads('2'))")
s("from_import_star", "from ujson import *\nprint(dumps([]))")
s("import_submodule_of_builtin", "import json.decoder", v111=raises("ImportError", "no module named 'json'"))
s(
    "import_uerrno_values",
    "import uerrno\nprint(uerrno.ENOENT, uerrno.EAGAIN)",
)
s(
    "import_os_path",
    "import os.path",
    # py/builtinimport.c (1.11) finds a built-in only as the last component of a dotted name: 'os' is
    # looked up as a file and is not there (1.27's os has a path submodule)
    v111=raises("ImportError", "no module named 'os'"),
)
s(
    "import_collections",
    "import collections",
    # esp32/mpconfigport.h MICROPY_PORT_BUILTIN_MODULE_WEAK_LINKS has no collections, and 1.11's
    # py/builtinimport.c has no u-prefix fallback (1.27's VM finds ucollections)
    v111=raises("ImportError", "no module named 'collections'"),
)
s(
    "import_io",
    "import io",
    # esp32/mpconfigport.h MICROPY_PORT_BUILTIN_MODULE_WEAK_LINKS has no io, and 1.11's
    # py/builtinimport.c has no u-prefix fallback (1.27's VM finds uio)
    v111=raises("ImportError", "no module named 'io'"),
)
s(
    "import_random",
    "import random",
    # no urandom at all: MICROPY_PY_URANDOM defaults to 0 (py/mpconfig.h) and the port leaves it
    v111=raises("ImportError", "no module named 'random'"),
)
s(
    "import_urandom",
    "import urandom",
    # py/objmodule.c lists urandom only #if MICROPY_PY_URANDOM, 0 for Pycom 1.20
    v111=raises("ImportError", "no module named 'urandom'"),
)
s(
    "import_usys",
    "import usys",
    # 1.11 names the module sys (py/modsys.c); usys came later
    v111=raises("ImportError", "no module named 'usys'"),
)
s(
    "import_uzlib",
    "import uzlib",
    # MICROPY_PY_UZLIB defaults to 0 (py/mpconfig.h) and esp32/mpconfigport.h leaves it
    v111=raises("ImportError", "no module named 'uzlib'"),
)
s(
    "random_from_crypto",
    "import crypto\nprint(type(crypto.getrandbits(32)).__name__, len(crypto.getrandbits(32)))",
    # esp32/mods/moducrypto.c getrandbits: bytes, whole 32-bit words (the VM has no crypto module)
    v111=("bytes 4\n", None),
)
s(
    "random_from_os",
    "import os\nprint(len(os.urandom(4)))",
    v111=("4\n", None),  # esp32/mods/moduos.c os_urandom (the VM's os has none)
)
s("import_machine", "import machine, umachine\nprint(machine is umachine)", v111=("True\n", None))

# -- integer and float formatting ----------------------------------------------------------------------
category("numbers")
s(
    "float_repr",
    "print(1.5, 0.1, 1/3, 2.0, 1e10, 1e-5)",
    # Pycom 1.20 floats are single precision (esp32/mpconfigport.h MICROPY_FLOAT_IMPL_FLOAT) and print with 7
    # significant digits (py/objfloat.c float_print); the VM is double precision
    v111=("1.5 0.1 0.3333333 2.0 1e+10 1e-05\n", None),
)
s("float_big", "print(1e16, 123456789.0)", v111=("1e+16 1.234568e+08\n", None))  # single precision
s("float_str_round", "print(3.14159)")
s("int_div_float", "print(7 / 2, 8 / 2)")
s("percent_d", "print('%d %5d %-3d| %03d' % (1, 2, 3, 4))")
s("percent_f", "print('%.2f %f %8.3f' % (3.14159, 2.5, 1.0))")
s("percent_s_r", "print('%s %r' % ('a', 'a'))")
s("percent_x", "print('%x %X %02x %#x' % (255, 255, 5, 255))")
s("percent_e", "print('%e %.1e' % (12345.678, 0.00012))")
s("percent_g", "print('%g %g %g' % (0.0001, 1e20, 100.0))")
s(
    "format_f",
    "print('{:.1f} {:6.2f} {:>6}'.format(2.25, 3.14159, 'a'))",
    gap="float formatting rounds half to even (CPython); MicroPython's formatter gives 2.3",
)
s("format_d", "print('{:05d} {:+d} {:,}'.format(42, 5, 1234567))")
s("format_x", "print('{:02x} {:04X} {:#x} {:b}'.format(10, 255, 16, 5))")
s("format_align", "print('[{:<5}] [{:^5}] [{:>5}]'.format('ab', 'ab', 'ab'))")
s("format_builtin", "print(format(3.5, '.3f'), format(10, 'x'))")
s(
    "round_float",
    "print(round(2.675, 2), round(2.5), round(3.5), round(-0.5))",
)
s(
    "round_int_ndigits",
    "print(round(1234, -2))",
    # py/modbuiltins.c mp_builtin_round: an int with ndigits raises NotImplementedError (no message) unless
    # MICROPY_PY_BUILTINS_ROUND_INT, which py/mpconfig.h defaults to 0 in 1.11
    v111=raises("NotImplementedError", ""),
)
s("int_float_conv", "print(int(3.9), int(-3.9), float(2), float('1.5'))")
s("big_int", "print(2 ** 64, -(2 ** 100) // 3)")
s("int_str_bytes", "print(str(12), repr(12), int('-5'))")
s("float_inf_nan", "print(float('inf'), -float('inf'), float('nan'))")
s("float_int_compare", "print(1 == 1.0, 0.1 + 0.2 == 0.3)")
s(
    "float_math",
    "import math\nprint(math.sqrt(16), math.floor(2.7), math.ceil(2.1), math.pi)",
    # Pycom 1.20 floats are single precision (esp32/mpconfigport.h MICROPY_FLOAT_IMPL_FLOAT) and print with 7
    # significant digits (py/objfloat.c float_print); the VM is double precision
    v111=("4.0 2 3 3.141593\n", None),
)
s("float_precision_single", "print(0.1 + 0.2, [0.1 + 0.2])", v111=("0.3 [0.3]\n", None))  # single precision
s("float_format_g_str", "print(str(1e-7), str(1234567.0))")
s("bool_arith", "print(True + True, int(False), bool(''), bool([0]))")
s("shift_and_mask", "print(1 << 31, 0xFF & 0x0F, 5 ^ 3, ~5, -8 >> 1)")
s("abs_neg", "print(abs(-5), abs(-2.5))")
s("sum_floats", "print(sum([0.1] * 10))", v111=("1.0\n", None))  # single precision

# -- struct -------------------------------------------------------------------------------------------
category("struct")
s("pack_le_h", "import struct\nprint(struct.pack('<H', 513))")
s("pack_be_i", "import struct\nprint(struct.pack('>I', 1))")
s("pack_multi", "import struct\nprint(struct.pack('<BHI', 1, 2, 3))")
s("pack_native_alignment", "import struct\nprint(len(struct.pack('BI', 1, 2)))")
s("pack_float", "import struct\nprint(struct.pack('<f', 1.5), struct.pack('>d', -2.0))")
s("unpack_le", "import struct\nprint(struct.unpack('<HH', b'\\x01\\x00\\x02\\x00'))")
s("unpack_signed", "import struct\nprint(struct.unpack('<hb', b'\\xff\\xff\\x80'))")
s("unpack_float", "import struct\nprint(struct.unpack('<f', b'\\x00\\x00\\xc0\\x3f'))")
s("calcsize", "import struct\nprint(struct.calcsize('<BHI'), struct.calcsize('>q'))")
s("pack_string", "import struct\nprint(struct.pack('4s', b'ab'))")
s("unpack_from", "import struct\nprint(struct.unpack_from('<H', b'\\x00\\x01\\x02', 1))")
s("pack_into", "import struct\nb = bytearray(4)\nstruct.pack_into('<H', b, 1, 0x0102)\nprint(b)")
s(
    "unpack_wrong_size",
    "import struct\nstruct.unpack('<I', b'\\x01')",
)
s("ustruct_alias", "import ustruct\nprint(ustruct.pack('>h', -2))")
s("pack_count_q", "import struct\nprint(struct.pack('<q', -1))")
s("pack_bool_like", "import struct\nprint(struct.pack('B', True))")

# -- json ---------------------------------------------------------------------------------------------
s("unpack_longer_buffer", "import struct\nprint(struct.unpack('<H', b'\\x01\\x02\\x03'))")
s("unpack_str_buffer", "import struct\nprint(struct.unpack('<H', 'ab'))")
s("pack_fewer_values", "import struct\nprint(struct.pack('<BH', 1), struct.pack('<B', 1, 2))")
s("pack_value_cut_to_field", "import struct\nprint(struct.pack('<B', 257), struct.pack('<b', 200))")
s("pack_into_offset", "import struct\nb = bytearray(4)\nstruct.pack_into('<H', b, 1, 258)\nprint(b)")
s("binascii_str_input", "import ubinascii\nprint(ubinascii.hexlify('ab'), ubinascii.crc32('ab'))")

category("json")
s("dumps_dict", "import json\nprint(json.dumps({'a': 1}))")
s("dumps_list", "import json\nprint(json.dumps([1, 'a', None, True, 1.5]))")
s("dumps_nested", "import json\nprint(json.dumps({'k': [1, {'x': False}]}))")
s("dumps_string_escape", "import json\nprint(json.dumps('a\"b\\n'))")
s(
    "dumps_unicode",
    "import json\nprint(json.dumps('é'))",
)
s("dumps_tuple", "import json\nprint(json.dumps((1, 2)))")
s("loads_dict", "import json\nd = json.loads('{\"a\": [1, 2.5, null, true]}')\nprint(d['a'])")
s("loads_str", "import json\nprint(json.loads('\"x\\\\u00e9\"'))")
s("loads_bytes", "import json\nprint(json.loads(b'[1]'))")
s(
    "loads_invalid",
    "import json\njson.loads('{bad')",
)
s("loads_number", "import json\nprint(json.loads('12'), json.loads('-1.5e2'))")
s("dumps_float", "import json\nprint(json.dumps(0.1))")
s("ujson_loads", "import ujson\nprint(ujson.loads('{\"t\": 21}')['t'])")
s(
    "dumps_separators_kw",
    "import json\nprint(json.dumps([1, 2], separators=(',', ':')))",
    # extmod/modujson.c (1.11): dumps is MP_DEFINE_CONST_FUN_OBJ_1, no keywords (py/argcheck.c)
    v111=raises("TypeError", "function doesn't take keyword arguments"),
)

# -- time (pure functions) ----------------------------------------------------------------------------
category("time")
s("ticks_diff", "import time\nprint(time.ticks_diff(10, 3), time.ticks_diff(3, 10))")
s("ticks_diff_wrap", "import time\nprint(time.ticks_diff(1, time.ticks_add(0, -1)))")
s("ticks_add", "import time\nprint(time.ticks_add(5, 10))")
s("gmtime_fixed", "import time\nprint(time.gmtime(0))")
s("gmtime_value", "import time\nprint(time.gmtime(86400 * 365 + 3661))")
s("localtime_fixed", "import time\nprint(time.localtime(1000000))")
s("mktime_roundtrip", "import time\nprint(time.mktime((2020, 1, 2, 3, 4, 5, 0, 0)))")
s("utime_alias", "import utime\nprint(utime.ticks_diff(100, 50))")
s("sleep_ms_exists", "import time\nprint(callable(time.sleep_ms), callable(time.ticks_ms))")
s("ticks_ms_int", "import time\nprint(type(time.ticks_ms()).__name__)")
s(
    "time_strftime_absent",
    "import time\ntime.strftime('%Y')",
    # 1.11's utime has no strftime (esp32/mods/modutime.c)
    v111=raises("AttributeError", "'module' object has no attribute 'strftime'"),
)

# -- syntax accepted and rejected ---------------------------------------------------------------------
category("syntax")
s(
    "fstring",
    "x = 1\nprint(f'x={x}')",
    # MicroPython 1.11's lexer has no f-strings (added in 1.17): py/lexer.c at v1.20.2.r6; mpy-cross 1.11
    v111=raises("SyntaxError", "invalid syntax"),
)
s(
    "walrus",
    "if (n := 3) > 2:\n    print(n)",
    # ':=' arrived in MicroPython 1.13; py/grammar.h at v1.20.2.r6 has no namedexpr
    v111=raises("SyntaxError", "invalid syntax"),
)
s(
    "positional_only",
    "def f(a, /, b):\n    return a + b\nprint(f(1, 2))",
    # MicroPython has no '/' parameters; py/grammar.h (1.11)
    v111=raises("SyntaxError", "invalid syntax"),
)
s("missing_colon", "if True\n    print(1)")
s("bad_indent", "if True:\nprint(1)")
s("unindent_mismatch", "if True:\n        a = 1\n    b = 2")
s("print_statement", "print 'hi'")
s("star_args", "def f(*a, **k):\n    print(a, sorted(k))\nf(1, 2, x=3)")
s("keyword_only", "def f(a, *, b=2):\n    print(a, b)\nf(1, b=3)")
s("star_unpack_assign", "a, *b = [1, 2, 3]\nprint(a, b)")
s(
    "star_in_call_list",
    "print(*[1, 2], *[3])",
    # mpy-cross 1.11 rejects it (1.27 accepts)
    v111=raises("SyntaxError", "invalid syntax"),
)
s("dict_unpack", "d = {**{'a': 1}, 'b': 2}\nprint(sorted(d))")
s(
    "nonlocal",
    "def f():\n    x = 1\n    def g():\n        nonlocal x\n        x += 1\n    g()\n"
    "    return x\nprint(f())",
)
s("generator", "def g():\n    yield 1\n    yield from [2, 3]\nprint(list(g()))")
s("comprehensions", "print([i * i for i in range(4) if i], {i: i for i in 'ab'}, {1 for _ in 'xx'})")
s("conditional_expr", "print('a' if 0 else 'b')")
s(
    "with_statement",
    "class C:\n    def __enter__(self):\n        print('in')\n        return self\n"
    "    def __exit__(self, *a):\n        print('out')\nwith C():\n    print('body')",
)
s(
    "async_def_parses",
    "async def f():\n    pass\nprint(type(f).__name__)",
    gap="an async def is a CPython function; MicroPython makes it a generator function",
)
s("tabs_indent", "if True:\n\tprint('tab')\n        print('spaces')")
s("decorator", "def d(f):\n    return lambda: f() + 1\n@d\ndef g():\n    return 1\nprint(g())")
s(
    "class_inherit_super",
    "class A:\n    def f(self):\n        return 'A'\nclass B(A):\n"
    "    def f(self):\n        return 'B' + super().f()\nprint(B().f())",
)
s("property", "class A:\n    @property\n    def x(self):\n        return 5\nprint(A().x)")
s(
    "staticmethod_classmethod",
    "class A:\n    @staticmethod\n    def s():\n        return 1\n"
    "    @classmethod\n    def c(cls):\n        return cls.__name__\nprint(A.s(), A.c())",
)
s("global_stmt", "n = 0\ndef inc():\n    global n\n    n += 1\ninc()\nprint(n)")
s("while_else", "i = 0\nwhile i < 2:\n    i += 1\nelse:\n    print('done', i)")
s("chained_compare", "print(1 < 2 < 3, 1 < 3 < 2)")
s(
    "matrix_mul_op",
    "class M:\n    def __matmul__(self, o):\n        return 7\nprint(M() @ M())",
    # mpy-cross 1.11 rejects it (1.27 accepts)
    v111=raises("SyntaxError", "invalid syntax"),
)
s(
    "annotations_var",
    "x: int = 5\nprint(x)",
    # mpy-cross 1.11 rejects it (1.27 accepts)
    v111=raises("SyntaxError", "invalid syntax"),
)
s("underscore_numbers", "print(1_000_000)")
s(
    "bytes_nonascii_literal",
    "print(b'é', len(b'aé'))",
)
s("string_concat_literals", "print('a' 'b' \"c\")")
s("backslash_continuation", "x = 1 + \\\n    2\nprint(x)")
s("triple_quoted", "print('''a\nb''')")
s("lambda_default", "f = lambda x, y=2: x * y\nprint(f(3))")
s(
    "try_except_star_absent",
    "try:\n    pass\nexcept* ValueError:\n    pass",
    v111=raises("SyntaxError", "invalid syntax"),
)
s(
    "match_statement",
    "match 1:\n    case 1:\n        print('one')",
    # no 'match' statement in MicroPython (1.11 nor 1.27)
    v111=raises("SyntaxError", "invalid syntax"),
)
