"""Helpers shared by the ``newsflow`` subcommand modules (kept tiny: argparse only)."""

from __future__ import annotations

import argparse

from pipeline.config import Settings


def settings_from_args(args: argparse.Namespace) -> Settings:
    return Settings.load(getattr(args, "config", None))


def article_id_arg(value: str) -> str:
    """Accept an article id or an article URL (canonicalized the way the pipeline does)."""
    if value.startswith(("http://", "https://")):
        from pipeline.extract.urls import article_id_for, canonicalize_url

        return article_id_for(canonicalize_url(value))
    return value
