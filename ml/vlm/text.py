"""Text hygiene at the model boundary: untrusted text going into a prompt, model text coming out.

Going in (S23 in RELIABILITY.md): NFKC normalisation folds look-alike and full-width characters,
then every invisible or format character is removed (zero-width, bidi controls, Unicode tag
characters U+E0000-E007F, variation selectors, private use), so hidden instructions cannot ride
inside text that looks harmless to a human reviewer. Coming out: model text is reduced to plain
sentences with no markup, links or special tokens, and rejected when it does not read as language.
"""

from __future__ import annotations

import re
import unicodedata

# Cf covers zero-width joiners, bidi controls, soft hyphen and the tag block; Co is private use,
# Cs lone surrogates, Cn unassigned code points (nothing legitimate in a report).
_STRIPPED_CATEGORIES = frozenset({"Cf", "Co", "Cs", "Cn"})
_KEPT_CONTROLS = frozenset({"\n", "\t"})
_TAG_BLOCK = range(0xE0000, 0xE0080)
_VARIATION_SELECTORS = (range(0xFE00, 0xFE10), range(0xE0100, 0xE01F0))

_SPECIAL_TOKEN = re.compile(r"<(?:/?s|pad|eos|bos|unk|mask|start_of_\w+|end_of_\w+|image_\w+)>")
_HTML_TAG = re.compile(r"</?[A-Za-z!][^<>]{0,200}>")
_MD_IMAGE = re.compile(r"!\[[^\]]{0,200}\]\([^)]{0,500}\)")
_MD_LINK = re.compile(r"\[([^\]]{0,200})\]\([^)]{0,500}\)")
# Trailing punctuation is left in place: "(see https://x.org)." keeps its ")." for the tidy-up.
_URL = re.compile(r"(?i)\b(?:https?://|ftp://|www\.|data:|javascript:)\S*?(?=[)\].,;:!?]*(?:\s|$))")
_EMPTY_BRACKETS = re.compile(r"\s*[(\[]\s*(?:(?:see|at|via|from)\s*)?[)\]]")
_SPACE_BEFORE_PUNCTUATION = re.compile(r"\s+([.,;:!?])")
_MARKDOWN_MARKS = re.compile(r"[*_`#>|~]+")
_LEAD_IN = re.compile(r"(?i)^\s*(?:explanation|answer|feedback|response)\s*:\s*")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[\"'(\[]?[A-Z0-9])")
_LONG_RUN = re.compile(r"(.)\1{5,}")
_WORD = re.compile(r"[A-Za-z][A-Za-z'-]*")


def _is_invisible(char: str) -> bool:
    code = ord(char)
    if code in _TAG_BLOCK or any(code in block for block in _VARIATION_SELECTORS):
        return True
    category = unicodedata.category(char)
    if category == "Cc":
        return char not in _KEPT_CONTROLS
    return category in _STRIPPED_CATEGORIES


def sanitize_untrusted(text: str, *, max_chars: int) -> str:
    """Normalise text from outside (a resident's report, a free-text label) for a prompt.

    The result holds no invisible characters, uses ``\\n`` line ends, has at most one blank line in
    a row and at most ``max_chars`` characters (cut at a word boundary where one is near).
    """
    # Text past a generous multiple of the cap cannot survive it; dropping it first bounds the
    # per-character work a megabyte of padding could cost.
    text = text[: 4 * max_chars + 64]
    text = unicodedata.normalize("NFKC", text.replace("\r\n", "\n").replace("\r", "\n"))
    # Line and paragraph separators would otherwise survive as Zl/Zp and break the layout.
    text = text.replace("\u2028", "\n").replace("\u2029", "\n")
    text = "".join(char for char in text if not _is_invisible(char))
    text = "\n".join(line.rstrip() for line in text.split("\n"))
    text = re.sub(r"\n{3,}", "\n\n", text).strip()
    if len(text) > max_chars:
        cut = text[:max_chars]
        space = cut.rfind(" ")
        text = (cut[:space] if space > max_chars * 0.8 else cut).rstrip()
    return text


def contains_markup_or_link(text: str) -> bool:
    """True when text carries HTML, a markdown link or image, or anything URL-like."""
    patterns = (_HTML_TAG, _MD_IMAGE, _MD_LINK, _URL)
    return any(pattern.search(text) for pattern in patterns)


def first_sentences(text: str, count: int) -> str:
    """The first ``count`` sentences of text (all of it when it has fewer)."""
    return " ".join(_SENTENCE_END.split(text.strip())[:count]).strip()


def looks_like_language(text: str) -> bool:
    """A cheap guard against degenerate generations (token soup, repeated characters, symbols)."""
    words = _WORD.findall(text)
    if len(words) < 4 or _LONG_RUN.search(text):
        return False
    visible = [char for char in text if not char.isspace()]
    letters = sum(char.isalpha() for char in visible)
    if letters < 0.7 * len(visible):
        return False
    mean_length = sum(len(word) for word in words) / len(words)
    with_vowel = sum(bool(re.search(r"[aeiouyAEIOUY]", word)) for word in words)
    return 2.0 <= mean_length <= 14.0 and with_vowel >= 0.6 * len(words)


def clean_generated_text(raw: str, *, max_sentences: int = 2, max_chars: int = 400) -> str | None:
    """Plain, short, readable text from a model answer, or None when nothing usable is left."""
    # Only the start can survive the sentence cut; bounding it also bounds the regex work.
    text = _SPECIAL_TOKEN.sub(" ", raw[: 8 * max_chars])
    text = _MD_IMAGE.sub(" ", text)
    text = _MD_LINK.sub(r"\1", text)
    text = _HTML_TAG.sub(" ", text)
    text = _URL.sub(" ", text)
    text = sanitize_untrusted(text, max_chars=4 * max_chars)
    lines = [re.sub(r"^\s*(?:[-+*]|\d+[.)])\s+", "", line) for line in text.split("\n")]
    text = _MARKDOWN_MARKS.sub("", " ".join(line for line in lines if line.strip()))
    text = _EMPTY_BRACKETS.sub("", re.sub(r"\s+", " ", text))
    text = _SPACE_BEFORE_PUNCTUATION.sub(r"\1", text)
    text = _LEAD_IN.sub("", text).strip().strip("\"'")
    text = first_sentences(text, max_sentences)
    if len(text) > max_chars:
        cut = text[:max_chars]
        text = cut[: cut.rfind(" ")] if " " in cut else cut
        text = text.rstrip(",;: ") + "."
    if not looks_like_language(text):
        return None
    return text if text[-1] in ".!?" else text + "."
