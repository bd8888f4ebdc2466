"""Tools around the library (report, bench, ctypes binding, lock-holding child, C floor); only ``python -m cfcntl`` and the tests import them."""
