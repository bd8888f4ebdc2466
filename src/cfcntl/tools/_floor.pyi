# The C floor's compiled cffi module (src/cfcntl/_c/floor.c, built by build_ffi.py).
from typing import Any

ffi: Any
lib: Any
