# The compiled cffi module: its contents come from build_ffi.py and the headers.
from typing import Any

ffi: Any
lib: Any
