"""Global options anywhere on the command line; ``--quiet`` silences warnings of both kinds."""

from __future__ import annotations

import subprocess
import sys

import pytest

from pipeline.cli import build_parser
from tests.conftest import REPO

# A command whose body logs a warning, raises a Python warning and prints a result.
NOISY = ("import logging, sys, warnings\n"
         "import pipeline.feeds.cli as c\n"
         "def noisy(args):\n"
         "    logging.getLogger('pipeline.x').warning('LOGWARN')\n"
         "    warnings.warn('PYWARN')\n"
         "    print('RESULT verbose=%s' % args.verbose)\n"
         "    return 0\n"
         "c.cmd_list = noisy\n"
         "from pipeline.cli import main\n"
         "sys.exit(main(sys.argv[1:]))\n")


@pytest.mark.parametrize("argv", [
    ["-v", "--config", "c.toml", "run", "--feeds", "f.yaml"],
    ["run", "--feeds", "f.yaml", "-v", "--config", "c.toml"],
    ["run", "-v", "--feeds", "f.yaml", "--config=c.toml"],
])
def test_global_options_before_or_after_the_subcommand(argv):
    args = build_parser().parse_args(argv)
    assert (args.verbose, args.config, args.feeds) == (True, "c.toml", "f.yaml")


def test_global_option_before_the_subcommand_is_not_reset_by_its_default():
    args = build_parser().parse_args(["--quiet", "eval", "related"])
    assert args.quiet is True


def _noisy(*extra: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", NOISY, "feeds", "list", "--feeds", "f.yaml", *extra],
                          capture_output=True, text=True, cwd=REPO, timeout=60)


def test_quiet_means_no_warnings_but_the_result():
    loud = _noisy()
    assert "LOGWARN" in loud.stderr and "PYWARN" in loud.stderr
    quiet = _noisy("--quiet")
    assert (quiet.returncode, quiet.stdout.strip(), quiet.stderr) == (0, "RESULT verbose=False", "")
    assert _noisy("-v").stdout.strip() == "RESULT verbose=True"
