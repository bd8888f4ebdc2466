"""What build_ffi.py uses: the compiler probes (``probes``), the cdef read from the C
headers and the C made from the pattern rows (``cdefs``).  Shipped in the sdist, never
installed."""
