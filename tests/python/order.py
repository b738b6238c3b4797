"""Test order: PGAUTH_PY_ORDER = alpha (unittest's default), reverse, or a number (a shuffle
with that seed). Classes stay whole (their fixtures run once); the classes and the methods of
each class are reordered, so a test that leans on another test's leftovers shows up.

A test module opts in with ``from order import load_tests``.
"""

import os
import random
import sys
import unittest


def _tests(suite):
    for test in suite:
        if isinstance(test, unittest.TestSuite):
            yield from _tests(test)
        else:
            yield test


def load_tests(loader: unittest.TestLoader, standard_tests: unittest.TestSuite, pattern) -> unittest.TestSuite:
    order = os.environ.get("PGAUTH_PY_ORDER", "alpha")
    by_class: dict[type, list] = {}
    for test in _tests(standard_tests):
        by_class.setdefault(type(test), []).append(test)
    groups = list(by_class.values())
    if order == "reverse":
        groups = [g[::-1] for g in groups[::-1]]
    elif order != "alpha":
        rng = random.Random(int(order))
        rng.shuffle(groups)
        for group in groups:
            rng.shuffle(group)
    if order != "alpha" and groups:
        print(f"{groups[0][0].__class__.__module__}: test order {order}", file=sys.stderr)
    return unittest.TestSuite(test for group in groups for test in group)
