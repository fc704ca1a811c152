"""The test suite. A regular package (not a namespace one) so that `tests.support` is ours: pywb, a test
dependency, installs a top-level `tests` package of its own into site-packages."""
