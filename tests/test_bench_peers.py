"""The peers benchmark's own logic, without installing or starting any peer: the data every
tool gets, the offset conversions, what the figures and the report say, and the small HTTP
and memory helpers (against a throwaway server on loopback)."""

from __future__ import annotations

import io
import itertools
import json
import os
import threading
import unicodedata
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from bench import peers, peers_data
from bench.peers_doccano import zip_spans
from bench.peers_framing import count_jsonl_spans
from bench.peers_http import Client, MemoryWatch, multipart, tree_pids


@pytest.fixture(scope="module")
def text():
    return peers_data.article()


@pytest.fixture(scope="module")
def spans(text):
    return peers_data.spans(text)


# --- The data ----------------------------------------------------------------------------------


def test_article_is_exactly_50000_code_points_and_the_same_every_time(text):
    assert len(text) == peers_data.ARTICLE_CODE_POINTS == 50_000
    assert peers_data.article() == text
    assert peers_data.article(peers_data.SEED + 1) != text
    assert text.endswith(".")


def test_article_has_emoji_curly_quotes_and_accents(text):
    astral = [c for c in text if ord(c) > 0xFFFF]
    assert len(astral) > 500  # surrogate pairs in UTF-16, so the offsets differ
    assert "👩\u200d🔬" in text and "🇰🇭" in text
    assert "“" in text and "”" in text and "’" in text
    assert unicodedata.normalize("NFC", text) == text
    assert len(text.encode("utf-16-le")) // 2 > len(text)


def test_spans_are_distinct_sorted_word_aligned_and_deterministic(text, spans):
    assert len(spans) == len(set(spans)) == peers_data.SPANS
    assert spans == sorted(spans)
    assert peers_data.spans(text) == spans
    assert {s.code for s in spans} == set(peers_data.CODES)
    for span in spans:
        assert 0 <= span.start < span.end <= len(text)
        assert span.start == 0 or text[span.start - 1].isspace()
        assert not text[span.start].isspace() and not text[span.end - 1].isspace()
        assert span.end == len(text) or text[span.end].isspace()
    overlapping = sum(a.end > b.start for a, b in itertools.pairwise(spans))
    assert overlapping > 0  # coders' spans overlap; doccano needs allow_overlapping


def test_new_spans_avoid_the_present_ones(text, spans):
    fresh = peers_data.spans(text, 85, seed=peers_data.SEED + 999, avoid=spans)
    assert len(fresh) == 85 and not set(fresh) & set(spans)


def test_corpus_documents_differ_and_hold_1000_spans_each():
    corpus = peers_data.corpus(2)
    assert len({text for text, _ in corpus}) == 2
    assert [len(items) for _, items in corpus] == [1000, 1000]
    assert corpus == peers_data.corpus(2)


# --- Offsets -----------------------------------------------------------------------------------


def test_utf16_offsets_count_code_units_as_a_browser_does(text):
    table = peers_data.Utf16(text)
    for offset in range(0, len(text) + 1, 97):
        assert table.units(offset) == len(text[:offset].encode("utf-16-le")) // 2
        assert table.points(table.units(offset)) == offset
    assert table.units(len(text)) == len(text.encode("utf-16-le")) // 2


def test_a_utf16_offset_inside_a_surrogate_pair_has_no_code_point():
    table = peers_data.Utf16("a😀b")
    assert [table.units(i) for i in range(4)] == [0, 1, 3, 4]
    with pytest.raises(KeyError):
        table.points(2)


def test_utf16_slices_give_every_quote(text, spans):
    table = peers_data.Utf16(text)
    for span in spans:
        quote = peers_data.utf16_slice(text, table.units(span.start), table.units(span.end))
        assert quote == text[span.start : span.end]
    assert peers_data.utf16_slice("x😀y", 1, 3) == "😀"


def test_doccano_file_carries_utf16_offsets_and_framing_file_code_points(text, spans):
    doccano = json.loads(peers_data.doccano_jsonl([(text, spans)]))
    framing = json.loads(peers_data.framing_jsonl([(text, spans)]))
    assert doccano["text"] == framing["text"] == text
    shifted = 0
    for (us, ue, code), (ps, pe, same), span in zip(
        doccano["label"], framing["label"], spans, strict=True
    ):
        assert (ps, pe, same) == (span.start, span.end, span.code) and code == span.code
        assert peers_data.utf16_slice(text, us, ue) == text[ps:pe]
        shifted += us != ps
    assert shifted > 900  # nearly every span sits after an emoji


def test_label_studio_regions_quote_their_code_point_slice(text, spans):
    result = peers_data.labelstudio_result(text, spans)
    assert len({r["id"] for r in result}) == len(spans)
    for region, span in zip(result, spans, strict=True):
        value = region["value"]
        assert (value["start"], value["end"], value["labels"]) == (
            span.start,
            span.end,
            [span.code],
        )
        assert value["text"] == text[span.start : span.end]
    assert all(f'value="{code}"' in peers_data.LABELSTUDIO_CONFIG for code in peers_data.CODES)


# --- Counting what an export holds --------------------------------------------------------------


def test_counting_spans_in_exports():
    lines = b'{"text": "a", "label": [[0, 1, "X"], [0, 1, "Y"]]}\n\n{"text": "b", "label": []}\n'
    assert count_jsonl_spans(lines) == 2
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("admin.jsonl", lines)
    assert zip_spans(buffer.getvalue()) == (2, len(lines))


# --- Figures and report ---------------------------------------------------------------------------


def _result(open_ms, save_ms, export_s, *, error=None):
    """A tool's measurements; with ``error`` its largest export was stopped."""
    done = {"seconds": export_s, "peak_mb": 1090.0, "start_mb": 90.0, "bytes": 10**6, "spans": 10}
    stopped = {"seconds": export_s, "peak_mb": 8192.0, "start_mb": 90.0, "error": error}
    last = peers.EXPORT_SIZES[-1]
    return {
        "open": [open_ms] * 3,
        "save": [save_ms] * 3,
        "post": [save_ms / 2] * 3,
        "open_bytes": 2048,
        "save_bytes": 1024,
        "export": {
            size: [stopped if error and size == last else done] for size in peers.EXPORT_SIZES
        },
    }


class _Tool:
    def __init__(self, name):
        self.name, self.version, self.server = name, "1.0", "gunicorn"
        self.checks, self.notes = {"spans": 1000}, {}


def test_every_peer_figure_is_a_ratio_to_framings_figure_in_the_same_run():
    results = {
        "Framing": _result(10, 20, 1.0),
        "doccano": _result(5, 40, 80.0, error="stopped at the memory cap"),
        "Label Studio": _result(8, 60, 2.0),
        "browser": {
            "Framing": {"drawn": [250.0, 260.0, 270.0], "count": 1200, "what": "its page"},
            "Label Studio": {"drawn": [600.0, 700.0, 650.0], "count": 1566, "what": "its page"},
        },
    }
    problems: dict = {}
    section = peers.report(
        _Tool("Framing"),
        [_Tool("doccano"), _Tool("Label Studio")],
        results,
        problems,
        "1.00 / 1.00 / 1.00",
        "2.00 / 1.00 / 1.00",
        10.0,
    )
    names = {f["name"]: f for f in section["figures"]}
    for figure in section["figures"]:
        if figure["name"].startswith("Framing"):
            assert "ratio_to" not in figure
        else:
            assert names[figure["ratio_to"]]["name"].startswith("Framing: ")
    assert names["doccano: save one span with 1,000 present (median)"]["value"] == 40
    # In the browser, the measured peer is held to 2.5x Framing's time.
    drawn = names["Label Studio: browser: navigation → spans drawn (median)"]
    assert drawn["value"] == 650 and drawn["ratio_to"].startswith("Framing: browser")
    assert drawn["target"]["met"] == (650 / 260 >= 2.5)
    assert "1,566 span elements" in drawn["note"]
    # An export that did not finish gives no time, only the memory it reached, a reason and
    # what it would have needed at the growth per span of a smaller export that finished.
    small, large = (f"{size * 1000:,}" for size in (peers.EXPORT_SIZES[0], peers.EXPORT_SIZES[-1]))
    assert f"doccano: export {small} spans" in names
    assert f"doccano: export {large} spans" not in names
    memory = names[f"doccano: export {large} spans, peak RSS of its server processes"]
    assert memory["value"] == 8192 and "did not finish" in memory["note"]
    per_span_kb = 1000 * 1024 / (peers.EXPORT_SIZES[0] * 1000)
    needed_gb = (90 + 1000 / peers.EXPORT_SIZES[0] * peers.EXPORT_SIZES[-1]) / 1024
    assert problems[f"doccano, export of {large} spans"] == (
        f"stopped at the memory cap; at {small} spans its memory grew by {per_span_kb:.0f} KB "
        f"per span, so {large} spans would need about {needed_gb:.0f} GB"
    )
    assert "1.00 / 1.00 / 1.00" in section["description"]
    assert section["tools"]["Label Studio"]["requests"]["save"].startswith("PATCH")


def test_a_peer_that_could_not_start_is_left_out_with_its_reason():
    problems = {"doccano": "could not be installed or started: pip failed"}
    section = peers.report(
        _Tool("Framing"),
        [_Tool("doccano"), _Tool("Label Studio")],
        {"Framing": _result(10, 20, 1.0), "Label Studio": _result(8, 60, 2.0)},
        problems,
        "1 / 1 / 1",
        "1 / 1 / 1",
        1.0,
    )
    assert not [f for f in section["figures"] if f["name"].startswith("doccano")]
    assert "pip failed" in section["description"]
    assert section["tools"]["doccano"]["problem"].endswith("pip failed")


def test_plain_make_bench_skips_it_and_keeps_the_last_figures(tmp_path, monkeypatch):
    monkeypatch.delenv("FRAMING_BENCH_PEERS", raising=False)
    monkeypatch.setattr("sys.argv", ["bench"])
    monkeypatch.setattr(peers, "BENCH_DIR", tmp_path)
    assert not peers.wanted()
    assert peers.run()["figures"] == []
    last = {"figures": [{"name": "x", "value": 1, "unit": "ms"}], "measured_at": "then"}
    (tmp_path / "report.json").write_text(json.dumps({"benchmarks": {"peers": last}}))
    kept = peers.run()
    assert kept["figures"] == last["figures"] and "measured then" in kept["description"]
    monkeypatch.setenv("FRAMING_BENCH_PEERS", "1")
    assert peers.wanted()


# --- HTTP and memory helpers ---------------------------------------------------------------------


class _Echo(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def _answer(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = json.dumps(
            {
                "method": self.command,
                "cookie": self.headers.get("Cookie"),
                "csrf": self.headers.get("X-CSRFToken"),
                "type": self.headers.get("Content-Type"),
                "body": self.rfile.read(length).decode(),
            }
        ).encode()
        self.send_response(200)
        self.send_header("Set-Cookie", "csrftoken=abc; Path=/; SameSite=Lax")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = do_PATCH = _answer


def test_client_keeps_cookies_and_echoes_the_csrf_cookie_on_writes():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Echo)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        client = Client(f"http://127.0.0.1:{server.server_port}")
        first = client.json("GET", "/")
        assert first["cookie"] is None and client.cookies == {"csrftoken": "abc"}
        read = client.json("GET", "/")
        assert read["cookie"] == "csrftoken=abc" and read["csrf"] is None
        write = client.json("PATCH", "/", json_body={"a": "😀"})
        assert write["csrf"] == "abc" and json.loads(write["body"]) == {"a": "😀"}
        form = client.json("POST", "/", form={"q": "“x”"})
        assert form["type"] == "application/x-www-form-urlencoded"
        client.close()
    finally:
        server.shutdown()
        server.server_close()


def test_multipart_body_holds_the_file():
    body, content_type = multipart("filepond", "c.jsonl", b'{"text": "x"}', "text/plain")
    boundary = content_type.split("boundary=")[1]
    assert body.startswith(f"--{boundary}\r\n".encode()) and b'{"text": "x"}' in body
    assert body.endswith(f"--{boundary}--\r\n".encode())


def test_memory_watch_sees_this_process():
    assert os.getpid() in tree_pids(os.getpid())
    with MemoryWatch([os.getpid()]) as watch:
        ballast = bytearray(20 * 1024 * 1024)
        threading.Event().wait(0.2)
    assert watch.peak_mb >= watch.start_mb > 0 and not watch.capped
    del ballast
