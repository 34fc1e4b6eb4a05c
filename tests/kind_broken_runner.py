"""Fails on import, as a kind module with a missing dependency would."""

import mnistlab_no_such_dependency  # noqa: F401
