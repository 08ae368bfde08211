"""Every ``newsflow`` command and option is documented (README.md or docs/), and every
option's help says what it does.

Like sqlite-utils' documentation tests: the parser is the list, the docs must cover it, so
a new option cannot ship undocumented.  A command counts as documented when a docs line
names ``newsflow`` with all the words of its path (``newsflow feeds list|add|...`` covers
``feeds add``); an option when that command's documented lines, or the page they link to,
name it.
"""

from __future__ import annotations

import argparse
import re

import pytest

from pipeline.cli import build_parser
from tests.conftest import REPO

DOCS = {p.name: p.read_text(encoding="utf-8") for p in [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]}
GLOBAL = {"--config", "--verbose", "--quiet", "--help"}


def _commands(parser: argparse.ArgumentParser, path: tuple[str, ...] = ()):
    subs = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    if not subs:
        yield path, parser
    for action in subs:
        for name, child in action.choices.items():
            yield from _commands(child, (*path, name))


COMMANDS = list(_commands(build_parser()))


def _lines_about(path: tuple[str, ...]) -> list[str]:
    words = [re.escape(w) for w in path]
    out = []
    for text in DOCS.values():
        for line in text.splitlines():
            if "newsflow " + path[0] in line and all(re.search(rf"(?<![\w-]){w}(?![\w-])", line) for w in words):
                out.append(line)
    return out


def _pages_linked(lines: list[str]) -> str:
    names = {m for line in lines for m in re.findall(r"\(docs/([\w-]+\.md)", line)}
    names |= {m for line in lines for m in re.findall(r"\(([\w-]+\.md)", line)}
    return "\n".join(DOCS.get(n, "") for n in names)


@pytest.mark.parametrize("path,parser", COMMANDS, ids=[" ".join(p) for p, _ in COMMANDS])
def test_command_and_its_options_are_documented(path, parser):
    lines = _lines_about(path)
    assert lines, f"`newsflow {' '.join(path)}` is not in README.md or docs/"
    where = "\n".join(lines) + "\n" + _pages_linked(lines)
    missing = [max(a.option_strings, key=len) for a in parser._actions
               if a.option_strings and not set(a.option_strings) & GLOBAL
               and not any(re.search(rf"(?<![\w-]){re.escape(o)}(?![\w-])", where) for o in a.option_strings)]
    assert not missing, f"newsflow {' '.join(path)}: options not documented: {missing}"


@pytest.mark.parametrize("path,parser", COMMANDS, ids=[" ".join(p) for p, _ in COMMANDS])
def test_every_option_has_help_and_no_internal_references(path, parser):
    for action in parser._actions:
        if action.option_strings and action.help != argparse.SUPPRESS:
            assert action.help, f"newsflow {' '.join(path)} {action.option_strings}: no help text"
            assert not re.search(r"\bissues?[- ]?\d", action.help, re.I), action.help


def test_global_options_are_documented():
    text = DOCS["README.md"]
    for option in ("--config", "-v", "--quiet"):
        assert option in text
