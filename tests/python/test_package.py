"""clients/python installs as a package, offline, with Debian's Python and build backend."""

import os
import shutil
import subprocess
import tempfile
import unittest
from pathlib import Path

SOURCE = Path(__file__).resolve().parents[2] / "clients/python"
PYTHON = "/usr/bin/python3"  # Debian's: it sees python3-setuptools, python3-wheel and python3-pip


class PackageTests(unittest.TestCase):
    def test_installs_offline_into_a_venv_and_imports(self):
        with tempfile.TemporaryDirectory(prefix="pgauth-pkg-") as tmp:
            tmp = Path(tmp)
            source = tmp / "src"  # a copy: an in-tree build would leave build/ and *.egg-info in the checkout
            shutil.copytree(SOURCE, source, ignore=shutil.ignore_patterns("build", "*.egg-info", "__pycache__"))
            venv = tmp / "venv"
            run([PYTHON, "-m", "venv", "--system-site-packages", "--without-pip", str(venv)])
            python = str(venv / "bin/python")
            # Debian's pip installs into the venv; --no-index: nothing is downloaded.
            run([PYTHON, "-m", "pip", "--python", python, "install", "--no-index", "--no-build-isolation",
                 "--no-deps", "--disable-pip-version-check", str(source)])
            shutil.rmtree(source)  # the installed copy must not need the source tree
            env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
            out = run([python, "-c", "import importlib.metadata as m, pgauth_fastapi as p; "
                                     "print(p.__file__); print(m.version('pgauth-fastapi')); "
                                     "print(sorted(p.__all__))"], cwd=tmp, env=env)
            file, version, names = out.splitlines()
            self.assertTrue(Path(file).is_relative_to(venv), f"imported from {file}, not from the venv")
            self.assertRegex(version, r"^\d+\.\d+\.\d+$")
            for name in ("PgAuth", "User", "JwtUser", "AuthError"):
                self.assertIn(repr(name), names)
            # Nothing leaked outside the venv: the system interpreter does not see the package.
            r = subprocess.run([PYTHON, "-c", "import pgauth_fastapi"], cwd=tmp, env=env, capture_output=True)
            self.assertNotEqual(r.returncode, 0, "pgauth_fastapi is importable by the system Python")


def run(cmd: list[str], **kwargs) -> str:
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=300, **kwargs)
    if r.returncode != 0:
        raise AssertionError(f"{' '.join(cmd)} exited with {r.returncode}:\n{r.stdout}\n{r.stderr}")
    return r.stdout


if __name__ == "__main__":
    unittest.main(verbosity=2)
